"""Tasks that score priors: sampling, interpolation, motion denoising, image fitting."""
