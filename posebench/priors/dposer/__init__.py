"""DPoser: a score-based diffusion prior over body pose (docs/dposer.md)."""
