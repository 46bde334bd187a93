"""The embedded body: shipped file, T-pose at zero, SMPL-style axis-angles, BODY_25, errors."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from posebench.body.anny import DEFAULT_PATH, AnnyBody
from posebench.body.base import SMPL22_JOINT_NAMES, SMPL22_PARENTS, BodyModel
from posebench.body.keypoints import BODY25_NAMES, body25_to_coco18
from posebench.core.errors import InputError
from posebench.core.hashing import hash_file
from posebench.testing import check_body_model

J = {name: i for i, name in enumerate(SMPL22_JOINT_NAMES)}
K = {name: i for i, name in enumerate(BODY25_NAMES)}
NOTICE = DEFAULT_PATH.parent / "NOTICE_anny.md"


def _pose(batch: int, sigma: float, seed: int, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (sigma * torch.randn(batch, 21, 3, generator=g, dtype=torch.float64)).to(dtype)


def test_shipped_file_is_small_and_recorded_in_the_notice():
    assert DEFAULT_PATH.stat().st_size < 600 * 1024
    text = NOTICE.read_text()
    assert hash_file(DEFAULT_PATH) in text, "NOTICE_anny.md's sha256 is stale: re-run the bake"
    meta = AnnyBody().meta
    assert meta["content_sha256"] in text
    assert f"anny version | {meta['anny_version']}" in text
    (line,) = [line for line in text.splitlines() if line.startswith("| phenotype |")]
    for key, value in meta["phenotype"].items():
        assert f"{key} {value}" in line
    assert meta["phenotype"]["age"] >= 0.77, "the pinned phenotype must be an adult"


def test_contract(body):
    assert isinstance(body, BodyModel)
    assert body.name == "anny"
    assert tuple(body.parents.tolist()) == SMPL22_PARENTS
    assert body.faces.shape == (27420, 3) and body.faces.dtype == torch.long
    assert int(body.faces.max()) == 13717 and int(body.faces.min()) == 0
    out = body(torch.zeros(3, 21, 3))
    assert out.joints.shape == (3, 22, 3)
    assert out.vertices.shape == (3, 13718, 3)
    assert out.body25.shape == (3, 25, 3)
    assert out.vertices.dtype == torch.float32
    check_body_model(body)
    assert (body.device, body.dtype, body.num_betas) == (torch.device("cpu"), torch.float32, 0)


def test_forward_batched_chunks_any_leading_shape(body):
    """Chunked and batched over (W, T) leading dims; the same numbers as one forward per chunk."""
    pose = _pose(10, 0.3, seed=7).reshape(2, 5, 21, 3)
    root = 0.2 * torch.ones(2, 5, 3)
    out = body.forward_batched(pose, root, torch.zeros(2, 5, 3), chunk=4)
    assert out.joints.shape == (2, 5, 22, 3) and out.body25.shape == (2, 5, 25, 3)
    flat = pose.reshape(10, 21, 3)
    first = body(flat[:4], root.reshape(10, 3)[:4], torch.zeros(4, 3))
    assert torch.equal(out.joints.reshape(10, 22, 3)[:4], first.joints)
    assert torch.equal(out.vertices.reshape(10, -1, 3)[:4], first.vertices)
    assert not out.joints.requires_grad


def test_zero_pose_is_a_level_t_pose(body):
    out = body(torch.zeros(1, 21, 3))
    joints = out.joints[0].numpy().astype(np.float64)
    np.testing.assert_allclose(joints, body.rest_joints.numpy(), atol=1e-7)
    np.testing.assert_allclose(joints[J["pelvis"]], 0.0, atol=1e-7)
    for side, sign in (("left", 1), ("right", -1)):
        arm = joints[[J[f"{side}_shoulder"], J[f"{side}_elbow"], J[f"{side}_wrist"]]]
        # level (same height) and straight along x: same y and z to 1e-4 m
        assert np.ptp(arm[:, 1]) < 1e-4
        assert np.ptp(arm[:, 2]) < 1e-4
        assert np.all(np.diff(sign * arm[:, 0]) > 0.15)  # outwards, left at +x
    # y up, facing +z: head above pelvis above ankles, toes in front of ankles
    assert joints[J["head"], 1] > 0.5 > 0 > -0.8 > joints[J["left_ankle"], 1]
    assert joints[J["left_foot"], 2] - joints[J["left_ankle"], 2] > 0.1
    assert joints[J["left_hip"], 0] > 0 > joints[J["right_hip"], 0]


def test_plus_45_degrees_about_z_on_left_shoulder_raises_the_arm_45_degrees(body):
    pose = torch.zeros(1, 21, 3)
    pose[0, J["left_shoulder"] - 1] = torch.tensor([0.0, 0.0, math.radians(45.0)])
    rest = body(torch.zeros(1, 21, 3))
    out = body(pose)
    shoulder, wrist = out.joints[0, J["left_shoulder"]], out.joints[0, J["left_wrist"]]
    d = (wrist - shoulder).double()
    assert math.degrees(math.atan2(d[1], d[0])) == pytest.approx(45.0, abs=1e-3)
    assert abs(float(d[2])) < 1e-5
    # the right arm and the legs do not move; left-arm vertices rise
    np.testing.assert_allclose(out.joints[0, J["right_wrist"]], rest.joints[0, J["right_wrist"]])
    np.testing.assert_allclose(out.joints[0, J["left_ankle"]], rest.joints[0, J["left_ankle"]])
    lifted = (out.vertices[0, :, 1] - rest.vertices[0, :, 1]) > 0.1
    assert lifted.sum() > 500
    assert (rest.vertices[0, lifted, 0] > 0.15).all()  # only left-arm vertices


def test_body25_neck_and_midhip_are_midpoints(body):
    out = body(_pose(8, 0.4, seed=1))
    kp = out.body25
    assert kp.shape == (8, 25, 3)
    np.testing.assert_allclose(
        kp[:, K["Neck"]], (kp[:, K["LShoulder"]] + kp[:, K["RShoulder"]]) / 2, atol=1e-6
    )
    np.testing.assert_allclose(
        kp[:, K["MidHip"]], (kp[:, K["LHip"]] + kp[:, K["RHip"]]) / 2, atol=1e-6
    )
    coco = body25_to_coco18(kp)
    assert coco.shape == (8, 18, 3)
    np.testing.assert_array_equal(coco[:, 8], kp[:, K["RHip"]])
    # keypoints sit on the body: the nose in front of the head at the zero pose, left on +x
    zero = body(torch.zeros(1, 21, 3)).body25[0]
    assert zero[K["Nose"], 2] > 0.05 and zero[K["LWrist"], 0] > 0.5 > -0.5 > zero[K["RWrist"], 0]


def _numpy_reference(
    path: Path, full_pose: np.ndarray, transl: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """An independent float64 forward on the stored arrays: FK with scipy, per-vertex LBS."""
    data = np.load(path)
    J0, parents = data["joints"].astype(np.float64), data["parents"].astype(int)
    bind = data["bind"].astype(np.float64)
    weights = np.zeros((data["vertices_bind"].shape[0], 22))
    for k in range(data["weights"].shape[1]):
        np.add.at(
            weights, (np.arange(len(weights)), data["weight_indices"][:, k]), data["weights"][:, k]
        )
    v = data["vertices_bind"].astype(np.float64)
    joints_out, verts_out = [], []
    for pose, t in zip(full_pose, transl, strict=True):
        R = Rotation.from_rotvec(pose).as_matrix()
        G, j = np.zeros((22, 3, 3)), np.zeros((22, 3))
        for k in range(22):
            if parents[k] < 0:
                G[k], j[k] = R[k], J0[k] + t
            else:
                p = parents[k]
                G[k], j[k] = G[p] @ R[k], j[p] + G[p] @ (J0[k] - J0[p])
        A = np.zeros((22, 4, 4))
        A[:, :3, :3], A[:, :3, 3], A[:, 3, 3] = G, j - np.einsum("kab,kb->ka", G, J0), 1
        B4 = np.tile(np.eye(4), (22, 1, 1))
        B4[:, :3, :] = bind
        M = np.einsum("vk,kab->vab", weights, A @ B4)
        verts_out.append(np.einsum("vab,vb->va", M[:, :3, :3], v) + M[:, :3, 3])
        joints_out.append(j)
    return np.stack(joints_out), np.stack(verts_out)


def test_forward_matches_an_independent_numpy_forward(body):
    pose = _pose(3, 0.5, seed=2)
    root = _pose(1, 1.0, seed=3)[0, :3]
    transl = torch.tensor([[0.1, 0.9, -0.3], [0.0, 0.0, 0.0], [-1.0, 0.2, 2.0]])
    out = body(pose, root_orient=root, transl=transl)
    full = torch.cat([root[:, None], pose], dim=1).double().numpy()
    joints, verts = _numpy_reference(DEFAULT_PATH, full, transl.double().numpy())
    np.testing.assert_allclose(out.joints.numpy(), joints, atol=2e-6)
    np.testing.assert_allclose(out.vertices.numpy(), verts, atol=1e-5)


def test_skeleton_forward_gives_the_full_forwards_joints_and_keypoints_and_gradients(body64):
    pose = _pose(4, 0.5, seed=6, dtype=torch.float64).requires_grad_()
    root = _pose(1, 1.0, seed=7, dtype=torch.float64)[0, :4]
    transl = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    full, skeleton = body64(pose, root, transl), body64.forward_skeleton(pose, root, transl)
    assert skeleton.vertices is None  # the point: the mesh is never skinned
    for name in ("joints", "body25"):
        torch.testing.assert_close(getattr(skeleton, name), getattr(full, name), atol=1e-12, rtol=0)
    (full_grad,) = torch.autograd.grad(full.body25.square().sum(), pose)
    (skeleton_grad,) = torch.autograd.grad(skeleton.body25.square().sum(), pose)
    torch.testing.assert_close(skeleton_grad, full_grad, atol=1e-10, rtol=0)


def test_root_orient_and_transl_move_the_whole_body_rigidly(body64):
    pose = _pose(2, 0.3, seed=4, dtype=torch.float64)
    root = torch.tensor([[0.3, -1.2, 0.5], [0.0, math.pi / 2, 0.0]], dtype=torch.float64)
    transl = torch.tensor([[1.0, 2.0, 3.0], [-0.5, 0.0, 0.25]], dtype=torch.float64)
    base = body64(pose)
    moved = body64(pose, root_orient=root, transl=transl)
    R = torch.as_tensor(Rotation.from_rotvec(root.numpy()).as_matrix())
    for name in ("joints", "vertices", "body25"):
        want = getattr(base, name) @ R.transpose(1, 2) + transl[:, None]
        np.testing.assert_allclose(getattr(moved, name).numpy(), want.numpy(), atol=1e-9)


def test_gradients_are_finite_and_correct(body64):
    pose = torch.zeros(1, 21, 3, dtype=torch.float64, requires_grad=True)
    out = body64(pose)
    (out.vertices.square().sum() + out.body25.sum()).backward()
    assert torch.isfinite(pose.grad).all() and pose.grad.abs().sum() > 0

    def keypoints(p: torch.Tensor) -> torch.Tensor:
        o = body64(p[:, 1:], root_orient=p[:, 0])
        return torch.cat([o.joints, o.body25], dim=1)

    p = _pose(1, 0.3, seed=5, dtype=torch.float64)
    p = torch.cat([torch.zeros(1, 1, 3, dtype=torch.float64), p], dim=1).requires_grad_()
    assert torch.autograd.gradcheck(keypoints, (p,), eps=1e-6, atol=1e-6, fast_mode=True)


@pytest.mark.parametrize(
    "args, message",
    [
        ((torch.zeros(2, 22, 3),), r"pose must have shape \(B, 21, 3\), got \(2, 22, 3\)"),
        ((torch.zeros(21, 3),), r"pose must have shape \(B, 21, 3\)"),
        ((np.zeros((1, 21, 3)),), "pose must be a torch.Tensor"),
        ((torch.full((1, 21, 3), float("nan")),), "pose contains NaN"),
        ((torch.zeros(2, 21, 3), torch.zeros(3, 3)), r"root_orient must have shape \(2, 3\)"),
        (
            (torch.zeros(1, 21, 3), None, torch.tensor([[0.0, float("inf"), 0.0]])),
            "transl contains",
        ),
        ((torch.zeros(1, 21, 3), None, None, torch.zeros(1, 10)), "takes no shape parameters"),
    ],
)
def test_bad_inputs_are_one_line_input_errors(body, args, message):
    with pytest.raises(InputError, match=message) as info:
        body(*args)
    assert "\n" not in str(info.value)


def test_missing_or_corrupt_file(tmp_path):
    with pytest.raises(InputError, match=r"does not exist; rebuild it with 'posebench body bake'"):
        AnnyBody(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"not a readable \.npz"):
        AnnyBody(tmp_path / "junk.npz")
    data = dict(np.load(DEFAULT_PATH))
    data["vertices_bind"] = data["vertices_bind"] + np.float32(1e-3)
    np.savez(tmp_path / "tampered.npz", **data)
    with pytest.raises(InputError, match="corrupt"):
        AnnyBody(tmp_path / "tampered.npz")
    shutil.copy(DEFAULT_PATH, tmp_path / "copy.npz")
    assert AnnyBody(str(tmp_path / "copy.npz")).content_sha256 == AnnyBody().content_sha256


def test_metadata_describes_the_bake(body):
    meta = body.meta
    assert meta["format_version"] == 1
    assert meta["joint_names"] == list(SMPL22_JOINT_NAMES)
    assert meta["body25_names"] == list(BODY25_NAMES)
    assert meta["top_k"] == 5
    assert 1.6 < meta["height_m"] < 1.95
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["anny_version"])
    json.dumps(meta)


def test_inputs_on_another_device_are_an_input_error(body):
    with pytest.raises(InputError, match="pose is on meta but the body model is on cpu"):
        body(torch.zeros(1, 21, 3, device="meta"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(body):
    pose = _pose(4, 0.4, seed=6)
    cpu = body(pose)
    gpu = AnnyBody(device="cuda")(pose.cuda())
    np.testing.assert_allclose(gpu.vertices.cpu().numpy(), cpu.vertices.numpy(), atol=1e-5)


def _anny_cache_ready() -> bool:
    cache = Path(os.environ.get("ANNY_CACHE_DIR", Path.home() / ".cache" / "anny"))
    return cache.is_dir() and any(cache.rglob("*.safetensors"))


@pytest.mark.slow
def test_baked_forward_matches_anny(body64):
    """Optional: where anny is installed (and its model cache built), compare with anny itself."""
    pytest.importorskip("anny")
    if not (_anny_cache_ready() or os.environ.get("POSEBENCH_TEST_ANNY") == "1"):
        pytest.skip("anny's model cache is not built (set POSEBENCH_TEST_ANNY=1 to build it)")
    from posebench.rebuild.anny_bake import anny_reference

    reference = anny_reference(phenotype=body64.phenotype)
    for sigma, seed in ((0.25, 10), (0.5, 11)):
        full = torch.cat(
            [_pose(8, sigma, seed, torch.float64)[:, :1], _pose(8, sigma, seed + 1, torch.float64)],
            dim=1,
        )
        theirs = reference(full)
        ours = body64(full[:, 1:], root_orient=full[:, 0])
        assert float((ours.vertices - theirs["vertices"]).norm(dim=-1).max()) < 0.01  # < 1 cm
        assert float((ours.vertices - theirs["vertices"]).norm(dim=-1).mean()) < 1e-5
        assert float((ours.joints - theirs["joints"]).norm(dim=-1).max()) < 1e-6


def test_bake_command_errors_are_one_line(tmp_path, capsys, monkeypatch):
    from posebench.cli.main import main

    assert main(["body", "bake", "--out", str(tmp_path / "b.npz"), "--phenotype", "age"]) == 2
    assert "--phenotype takes NAME=VALUE" in capsys.readouterr().err
    assert main(["body", "bake", "--out", str(tmp_path / "b.npz"), "--phenotype", "shoe=1"]) == 2
    assert "unknown anny phenotype 'shoe'" in capsys.readouterr().err
    assert main(["body", "bake", "--out", str(tmp_path / "b.npz"), "--phenotype", "age=1.5"]) == 2
    assert "must be in [0, 1]" in capsys.readouterr().err
    monkeypatch.setitem(__import__("sys").modules, "anny", None)  # as if anny were not installed
    assert main(["body", "bake", "--out", str(tmp_path / "b.npz")]) == 2
    err = capsys.readouterr().err
    assert (
        "needs the anny package" in err and "pose-prior-bench[bake]" in err and err.count("\n") == 1
    )
    assert not (tmp_path / "b.npz").exists()
