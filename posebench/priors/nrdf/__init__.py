"""NRDF (CVPR 2024): a neural Riemannian distance field on the product of 21 SO(3), its training
points sampled by their geodesic distance and its projection a Riemannian gradient descent."""
