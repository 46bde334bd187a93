"""Pose priors: the Prior contract, Pose-NDF, VPoser, GMM and none."""
