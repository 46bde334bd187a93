"""Keypoint maps: OpenPose orders, SMPL -> BODY_25, LSP-14 and joint subsets."""

from __future__ import annotations

import pytest
import torch

from posebench.body import keypoints as kp
from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError


def test_openpose_orders():
    assert len(kp.BODY25_NAMES) == 25 and len(set(kp.BODY25_NAMES)) == 25
    assert len(kp.COCO18_NAMES) == 18
    assert kp.BODY25_NAMES[8] == "MidHip" and kp.BODY25_NAMES[1] == "Neck"
    assert kp.BODY25_NAMES[19:] == (
        "LBigToe",
        "LSmallToe",
        "LHeel",
        "RBigToe",
        "RSmallToe",
        "RHeel",
    )
    # COCO index i is BODY_25 index i below 8 and i + 1 from 8 on (MidHip inserted at 8)
    assert list(kp.COCO18_FROM_BODY25) == [*range(8), *range(9, 19)]
    assert [kp.BODY25_NAMES[i] for i in kp.BODY25_IGNORED_FOR_SMPL] == ["Neck", "RHip", "LHip"]


def test_body25_to_coco18():
    body25 = torch.arange(25.0)[None, :, None].expand(2, 25, 3)
    coco = kp.body25_to_coco18(body25)
    assert coco.shape == (2, 18, 3)
    assert coco[0, :, 0].tolist() == [float(i) for i in kp.COCO18_FROM_BODY25]
    with pytest.raises(InputError, match=r"BODY_25 keypoints must have shape \(\.\.\., 25, D\)"):
        kp.body25_to_coco18(torch.zeros(2, 18, 3))


def test_smpl_to_body25_names_line_up():
    """Each BODY_25 keypoint maps to the SMPL joint or vertex of the same body part."""
    extra = [
        "nose", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe",
        "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
    ]  # fmt: skip
    sources = [*kp.SMPL24_JOINT_NAMES, *extra]
    assert len(extra) == len(kp.SMPL_KEYPOINT_VERTICES)
    expected = {
        "Nose": "nose", "Neck": "neck", "RShoulder": "right_shoulder", "RElbow": "right_elbow",
        "RWrist": "right_wrist", "LShoulder": "left_shoulder", "LElbow": "left_elbow",
        "LWrist": "left_wrist", "MidHip": "pelvis", "RHip": "right_hip", "RKnee": "right_knee",
        "RAnkle": "right_ankle", "LHip": "left_hip", "LKnee": "left_knee", "LAnkle": "left_ankle",
        "REye": "right_eye", "LEye": "left_eye", "REar": "right_ear", "LEar": "left_ear",
        "LBigToe": "left_big_toe", "LSmallToe": "left_small_toe", "LHeel": "left_heel",
        "RBigToe": "right_big_toe", "RSmallToe": "right_small_toe", "RHeel": "right_heel",
    }  # fmt: skip
    for name, index in zip(kp.BODY25_NAMES, kp.SMPL_TO_BODY25, strict=True):
        assert sources[index] == expected[name], name
    assert kp.SMPL24_JOINT_NAMES[:22] == SMPL22_JOINT_NAMES


def test_smpl_body25_gathers_joints_and_vertices():
    joints = torch.randn(2, 24, 3)
    vertices = torch.randn(2, 6890, 3)
    out = kp.smpl_body25(joints, vertices)
    assert out.shape == (2, 25, 3)
    assert torch.equal(out[:, 2], joints[:, 17])  # RShoulder = right_shoulder
    assert torch.equal(out[:, 8], joints[:, 0])  # MidHip = pelvis
    assert torch.equal(out[:, 0], vertices[:, 332])  # Nose
    assert torch.equal(out[:, 24], vertices[:, 6787])  # RHeel


def test_anny_map_covers_body25_with_the_midpoints():
    mapped = set(kp.ANNY_COCO_TO_BODY25.values())
    assert len(kp.ANNY_COCO_TO_BODY25) == 23 == len(mapped)
    assert mapped | set(kp.BODY25_MIDPOINTS) == set(kp.BODY25_NAMES)


def test_lsp14_and_subsets():
    assert len(kp.LSP14_NAMES) == 14 == len(kp.H36M_TO_LSP14)
    h36m = torch.arange(17.0)[None, :, None].expand(3, 17, 3)
    lsp = kp.h36m_to_lsp14(h36m)
    assert lsp.shape == (3, 14, 3)
    assert lsp[0, :, 0].tolist() == [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10]
    with pytest.raises(InputError, match="H36M joints"):
        kp.h36m_to_lsp14(torch.zeros(3, 14, 3))
    assert kp.joint_subset("smpl22") == tuple(range(22))
    assert kp.joint_subset("smpl21") == tuple(range(1, 22))
    with pytest.raises(
        InputError, match="unknown joint subset 'lsp'; known subsets: smpl21, smpl22"
    ):
        kp.joint_subset("lsp")
