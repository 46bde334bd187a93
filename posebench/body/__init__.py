"""Rotations, the BodyModel contract, the embedded body, the SMPL backend and keypoint maps."""
