"""Fitting a body to observations with a prior's energy: motion to noisy joints
(:mod:`~posebench.fitting.motion`) and poses to 2D keypoints
(:mod:`~posebench.fitting.keypoints2d`).

Tasks and the user commands (``posebench denoise``, ``posebench fit-image``) call the same code.
"""
