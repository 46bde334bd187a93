"""The SMPLify-style GMM prior: 8 full-covariance Gaussians over the 63-D axis-angle body pose."""
