"""Datasets: the embedded default, AMASS, OpenPose JSON read/write, noise models."""
