"""Keypoint maps: OpenPose BODY_25 / COCO-18 orders, SMPL -> OpenPose, LSP-14, joint subsets.

Index tables here are facts about public formats (OpenPose ``poseParameters.cpp``, the SMPLify
joint -> OpenPose correspondence, SPIN's H36M -> LSP-14 selection); they are written out from
those facts, not copied code. Keypoints and skeleton joints are different point sets (OpenPose's
Neck and MidHip are not SMPL's neck and pelvis joints): never mix them in one metric.
"""

from __future__ import annotations

import torch

from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError

#: OpenPose BODY_25 keypoints, in OpenPose's output order.
BODY25_NAMES: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar",
    "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)  # fmt: skip

#: The limbs OpenPose draws between BODY_25 keypoints (its ``POSE_BODY_25_PAIRS_RENDER``).
BODY25_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12),
    (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19), (19, 20),
    (14, 21), (11, 22), (22, 23), (11, 24),
)  # fmt: skip

#: OpenPose COCO (18 points: MS-COCO's 17 plus Neck, in OpenPose's own order).
COCO18_NAMES: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
    "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)  # fmt: skip

#: For each COCO-18 keypoint, its BODY_25 index (BODY_25 = COCO-18 + MidHip at 8 + 6 foot points).
COCO18_FROM_BODY25: tuple[int, ...] = tuple(BODY25_NAMES.index(n) for n in COCO18_NAMES)

#: Keypoints a fitter ignores when the body is SMPL-like: OpenPose's Neck and hips are placed
#: differently from any SMPL joint (SMPLify-X's ``joints_to_ign`` [1, 9, 12]).
BODY25_IGNORED_FOR_SMPL: tuple[int, ...] = (1, 9, 12)

# --- SMPL -> BODY_25 --------------------------------------------------------------------------

#: SMPL's 24 joint names (the 22 body joints + the two hands).
SMPL24_JOINT_NAMES: tuple[str, ...] = (*SMPL22_JOINT_NAMES, "left_hand", "right_hand")

#: Mesh vertices (SMPL / SMPL+H topology, 6890 vertices) that stand for the keypoints SMPL has
#: no joint for, in this order: nose, right eye, left eye, right ear, left ear, left big toe,
#: left small toe, left heel, right big toe, right small toe, right heel.
SMPL_KEYPOINT_VERTICES: tuple[int, ...] = (
    332, 6260, 2800, 4071, 583, 3216, 3226, 3387, 6617, 6624, 6787,
)  # fmt: skip

#: For each BODY_25 keypoint, an index into the 24 SMPL joints followed by the 11 vertices of
#: :data:`SMPL_KEYPOINT_VERTICES`: SMPLify-X's correspondence. Neck -> SMPL neck and
#: MidHip -> pelvis are approximations (hence :data:`BODY25_IGNORED_FOR_SMPL`).
SMPL_TO_BODY25: tuple[int, ...] = (
    24, 12, 17, 19, 21, 16, 18, 20, 0, 2, 5, 8, 1, 4, 7, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
)  # fmt: skip

# --- the embedded body (anny) -> BODY_25 --------------------------------------------------------

#: Anny's 23 COCO-WholeBody keypoint labels (its vertex regressor), each with its BODY_25 name.
#: BODY_25's Neck and MidHip are the midpoints of the shoulders and of the hips.
ANNY_COCO_TO_BODY25: dict[str, str] = {
    "nose": "Nose", "left_eye": "LEye", "right_eye": "REye", "left_ear": "LEar",
    "right_ear": "REar", "left_shoulder": "LShoulder", "right_shoulder": "RShoulder",
    "left_elbow": "LElbow", "right_elbow": "RElbow", "left_wrist": "LWrist",
    "right_wrist": "RWrist", "left_hip": "LHip", "right_hip": "RHip", "left_knee": "LKnee",
    "right_knee": "RKnee", "left_ankle": "LAnkle", "right_ankle": "RAnkle",
    "left_big_toe": "LBigToe", "right_big_toe": "RBigToe", "left_small_toe": "LSmallToe",
    "right_small_toe": "RSmallToe", "left_heel": "LHeel", "right_heel": "RHeel",
}  # fmt: skip

#: BODY_25 keypoints that are midpoints of two others (for bodies with a COCO regressor).
BODY25_MIDPOINTS: dict[str, tuple[str, str]] = {
    "Neck": ("LShoulder", "RShoulder"),
    "MidHip": ("LHip", "RHip"),
}

# --- LSP-14 and joint subsets -------------------------------------------------------------------

#: The 14 LSP joints, in LSP order (3DPW / SPIN evaluation).
LSP14_NAMES: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head_top",
)  # fmt: skip

#: For each LSP joint, the row of the 17-joint H36M regressor (``J_regressor_h36m``, applied to
#: SMPL-topology vertices) that gives it (SPIN's ``H36M_TO_J14``).
H36M_TO_LSP14: tuple[int, ...] = (6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10)

#: Named joint subsets for metrics, as indices into a body model's 22 SMPL joints.
JOINT_SUBSETS: dict[str, tuple[int, ...]] = {
    "smpl22": tuple(range(22)),  # pelvis + the 21 pose joints (APD, MPJPE)
    "smpl21": tuple(range(1, 22)),  # the 21 pose joints, without the root
}


def joint_subset(name: str) -> tuple[int, ...]:
    """Indices of a named subset of the 22 SMPL joints (``smpl22``, ``smpl21``)."""
    try:
        return JOINT_SUBSETS[name]
    except KeyError:
        known = ", ".join(sorted(JOINT_SUBSETS))
        raise InputError(f"unknown joint subset '{name}'; known subsets: {known}") from None


def body25_to_coco18(body25: torch.Tensor) -> torch.Tensor:
    """(..., 25, D) BODY_25 keypoints -> (..., 18, D) OpenPose COCO-18 keypoints."""
    if body25.dim() < 2 or body25.shape[-2] != 25:
        raise InputError(
            f"BODY_25 keypoints must have shape (..., 25, D), got {tuple(body25.shape)}"
        )
    index = torch.tensor(COCO18_FROM_BODY25, device=body25.device)
    return body25.index_select(-2, index)


def smpl_body25(joints24: torch.Tensor, vertices: torch.Tensor) -> torch.Tensor:
    """BODY_25 keypoints (B, 25, 3) of an SMPL-topology body from its 24 joints and its vertices."""
    index = torch.tensor(SMPL_KEYPOINT_VERTICES, device=vertices.device)
    extended = torch.cat([joints24, vertices.index_select(1, index)], dim=1)
    return extended.index_select(1, torch.tensor(SMPL_TO_BODY25, device=vertices.device))


def h36m_to_lsp14(h36m: torch.Tensor) -> torch.Tensor:
    """(..., 17, D) H36M-regressed joints -> (..., 14, D) LSP joints."""
    if h36m.dim() < 2 or h36m.shape[-2] != 17:
        raise InputError(f"H36M joints must have shape (..., 17, D), got {tuple(h36m.shape)}")
    return h36m.index_select(-2, torch.tensor(H36M_TO_LSP14, device=h36m.device))
