"""Pose-NDF, the reference prior: a neural unsigned distance field on the pose manifold.

Modules, one job each: ``quat`` (axis-angle <-> (w, x, y, z) quaternions, hemisphere flip),
``model`` (the hierarchical encoder + distance MLP), ``official`` (the released checkpoint and
config layout), ``projection`` (gradient projection onto the zero level set), ``targets``
(training data: noisy poses and nearest-neighbour distances), ``train`` (losses, Adam, resumable
checkpoints), ``prior`` (the posebench Prior), ``speed`` (a throughput sweep). Importing this
package imports nothing heavy.
"""
