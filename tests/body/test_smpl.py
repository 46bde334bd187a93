"""The SMPL backend on synthetic SMPL-format files written here (random geometry, real tree).

No licensed file is used: the models are random numbers in SMPL's layout, written as .npz, as a
plain pickle, and as an "official-style" pickle holding chumpy arrays and an old scipy sparse
matrix, which must load while chumpy cannot be imported.
"""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from synthetic_smpl import SMPL_PARENTS, make_model, smpl_parents

from posebench.body import smpl as smpl_module
from posebench.body.keypoints import BODY25_NAMES
from posebench.body.smpl import SMPLBody, find_model_file, read_model_file
from posebench.core.errors import CapabilityNotSupported, InputError, PosebenchError
from posebench.testing import check_body_model

K = {name: i for i, name in enumerate(BODY25_NAMES)}


def numpy_lbs(a, pose, root, transl, betas):
    """Independent SMPL forward: shape and pose blend shapes, forward kinematics, LBS (float64)."""
    a = {k: np.asarray(v, dtype=np.float64) for k, v in a.items()}
    n_joints = a["kintree_table"].shape[1]
    parents = smpl_parents(n_joints)
    full = np.zeros((n_joints, 3))
    full[0], full[1:22] = root, pose
    v_shaped = a["v_template"] + a["shapedirs"][:, :, : len(betas)] @ betas
    J = a["J_regressor"] @ v_shaped
    R = Rotation.from_rotvec(full).as_matrix()
    v_posed = v_shaped + a["posedirs"] @ (R[1:] - np.eye(3)).reshape(-1)
    G, t = np.zeros((n_joints, 3, 3)), np.zeros((n_joints, 3))
    for k in range(n_joints):
        if k == 0:
            G[k], t[k] = R[0], J[0]
        else:
            p = parents[k]
            G[k], t[k] = G[p] @ R[k], t[p] + G[p] @ (J[k] - J[p])
    A = np.concatenate([G, (t - np.einsum("kab,kb->ka", G, J))[:, :, None]], axis=2)
    T = np.einsum("vk,kab->vab", a["weights"], A)
    verts = np.einsum("vab,vb->va", T[:, :, :3], v_posed) + T[:, :, 3] + transl
    return t[:22] + transl, verts


# --- writing the three formats -------------------------------------------------------------------


class _FakeCh:
    """Pickles like chumpy.ch.Ch: NEWOBJ, then a state dict holding 'x'."""

    def __init__(self, x):
        self.x = x

    def __getstate__(self):
        return {"x": self.x, "_dirty_vars": set(), "_itr": None, "_make_dense": False}


class _FakeCsc:
    """Pickles like an old scipy csc_matrix (module scipy.sparse.csc, state dict)."""

    def __init__(self, dense):
        import scipy.sparse

        m = scipy.sparse.csc_matrix(dense)
        self.state = {
            "_shape": m.shape, "data": m.data, "indices": m.indices, "indptr": m.indptr,
            "maxprint": 50, "format": "csc",
        }  # fmt: skip

    def __getstate__(self):
        return self.state


def write_chumpy_pickle(path: Path, arrays: dict[str, np.ndarray], monkeypatch) -> None:
    """An official-style pickle: chumpy Ch arrays and an old-scipy sparse J_regressor."""
    chumpy, chumpy_ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    sparse_csc = types.ModuleType("scipy.sparse.csc")
    _FakeCh.__module__, _FakeCh.__qualname__ = "chumpy.ch", "Ch"
    _FakeCsc.__module__, _FakeCsc.__qualname__ = "scipy.sparse.csc", "csc_matrix"
    chumpy_ch.Ch, sparse_csc.csc_matrix = _FakeCh, _FakeCsc
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "chumpy", chumpy)
        m.setitem(sys.modules, "chumpy.ch", chumpy_ch)
        m.setitem(sys.modules, "scipy.sparse.csc", sparse_csc)
        content = dict(arrays)
        content["shapedirs"] = _FakeCh(arrays["shapedirs"])
        content["v_template"] = _FakeCh(arrays["v_template"])
        content["J_regressor"] = _FakeCsc(arrays["J_regressor"])
        content["J"] = _FakeCh(arrays["J_regressor"] @ arrays["v_template"])
        content["bs_style"], content["bs_type"] = "lbs", "lrotmin"
        path.write_bytes(pickle.dumps(content, protocol=2))
    assert b"chumpy.ch" in path.read_bytes() and b"scipy.sparse.csc" in path.read_bytes()


@pytest.fixture(scope="module")
def model() -> dict[str, np.ndarray]:
    return make_model()


@pytest.fixture(scope="module")
def files(tmp_path_factory, model) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("smpl")
    (root / "npz").mkdir()
    np.savez(root / "npz" / "SMPL_NEUTRAL.npz", **model)
    (root / "plain" / "smpl").mkdir(parents=True)
    (root / "plain" / "smpl" / "SMPL_NEUTRAL.pkl").write_bytes(pickle.dumps(dict(model)))
    (root / "chumpy").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        write_chumpy_pickle(
            root / "chumpy" / "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl", model, mp
        )
    return {
        "npz": root / "npz" / "SMPL_NEUTRAL.npz",
        "plain": root / "plain" / "smpl" / "SMPL_NEUTRAL.pkl",
        "chumpy": root / "chumpy" / "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl",
        "root": root,
    }


@pytest.fixture()
def no_chumpy(monkeypatch):
    """chumpy cannot be imported (as on current Python)."""
    monkeypatch.setitem(sys.modules, "chumpy", None)
    monkeypatch.setitem(sys.modules, "chumpy.ch", None)


# --- reading ---------------------------------------------------------------------------------


def test_all_three_formats_read_the_same_arrays(files, model, no_chumpy):
    for kind in ("npz", "plain", "chumpy"):
        arrays = read_model_file(files[kind])
        assert set(arrays) == set(smpl_module.REQUIRED_KEYS)
        for key, value in model.items():
            np.testing.assert_allclose(
                arrays[key], value, rtol=0, atol=1e-7, err_msg=f"{kind}:{key}"
            )
    with pytest.raises(ImportError):
        import chumpy  # noqa: F401


def test_folder_search(files):
    assert find_model_file(files["root"] / "npz") == files["npz"]
    assert find_model_file(files["root"] / "plain") == files["plain"]  # smpl/ subfolder
    assert find_model_file(files["root"] / "chumpy") == files["chumpy"]
    assert find_model_file(files["npz"]) == files["npz"]
    assert "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl" in smpl_module.candidate_names()
    assert "SMPL_MALE.pkl" in smpl_module.candidate_names("male")
    assert "basicModel_f_lbs_10_207_0_v1.0.0.pkl" in smpl_module.candidate_names("female")


@pytest.mark.parametrize("where", ["none", "empty", "missing"])
def test_missing_model_is_one_line_naming_the_files_and_the_site(tmp_path, where):
    path = {"none": None, "empty": tmp_path, "missing": tmp_path / "nope"}[where]
    with pytest.raises(InputError) as info:
        SMPLBody(path=path)
    message = str(info.value)
    assert "\n" not in message
    assert "SMPL_NEUTRAL.pkl" in message and "SMPL_NEUTRAL.npz" in message
    assert "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl" in message
    assert "https://smpl.is.tue.mpg.de" in message


def test_wrong_files_are_one_line_input_errors(tmp_path, model):
    (tmp_path / "SMPL_NEUTRAL.pkl").write_text("not a pickle")
    with pytest.raises(InputError, match="is not a readable SMPL model file") as info:
        read_model_file(tmp_path / "SMPL_NEUTRAL.pkl")
    assert "\n" not in str(info.value)
    partial = {k: v for k, v in model.items() if k != "posedirs"}
    np.savez(tmp_path / "partial.npz", **partial)
    with pytest.raises(InputError, match="lacks posedirs"):
        read_model_file(tmp_path / "partial.npz")
    bad = dict(model, weights=model["weights"][:, :10])
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(InputError, match=r"weights has shape \(6890, 10\), expected \(6890, 24\)"):
        read_model_file(tmp_path / "bad.npz")
    (tmp_path / "model.obj").write_text("v 0 0 0")
    with pytest.raises(InputError, match=r"expected a \.pkl or \.npz"):
        read_model_file(tmp_path / "model.obj")


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_pickles_with_other_classes_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"v_template": _Exploit()}))
    with pytest.raises(InputError, match="refusing to load"):
        read_model_file(tmp_path / "evil.pkl")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [("numpy.f2py.__main__", "ndarray"), ("numpy.testing", "dtype"), ("numpy.lib", "scalar")],
)
def test_numpy_modules_beyond_the_array_globals_are_refused_before_import(tmp_path, module, name):
    """A pickle naming an array global under any other numpy module is refused without importing
    the module (importing ``numpy.f2py.__main__`` alone runs f2py's command line)."""
    sys.modules.pop("numpy.f2py.__main__", None)
    (tmp_path / "evil.pkl").write_bytes(f"c{module}\n{name}\n.".encode())  # GLOBAL, then STOP
    with pytest.raises(InputError, match="refusing to load"):
        read_model_file(tmp_path / "evil.pkl")
    assert "numpy.f2py.__main__" not in sys.modules


# --- the body model ----------------------------------------------------------------------------


def _inputs(batch: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    pose = 0.4 * torch.randn(batch, 21, 3, generator=g)
    root = torch.randn(batch, 3, generator=g)
    transl = torch.randn(batch, 3, generator=g)
    betas = torch.randn(batch, 10, generator=g)
    return pose, root, transl, betas


def test_forward_matches_an_independent_numpy_lbs(files, model):
    pytest.importorskip("smplx")
    body = SMPLBody(path=files["root"] / "npz")
    pose, root, transl, betas = _inputs()
    out = body(pose, root_orient=root, transl=transl, shape=betas)
    assert out.joints.shape == (3, 22, 3) and out.vertices.shape == (3, 6890, 3)
    for b in range(3):
        joints, verts = numpy_lbs(
            model, pose[b].numpy(), root[b].numpy(), transl[b].numpy(), betas[b].numpy()
        )
        np.testing.assert_allclose(out.joints[b].numpy(), joints, atol=2e-5)
        np.testing.assert_allclose(out.vertices[b].numpy(), verts, atol=2e-5)
    assert tuple(body.parents.tolist()) == tuple(SMPL_PARENTS[:22])
    assert body.faces.shape == (2000, 3) and body.faces.dtype == torch.long
    assert body.family == "SMPL" and body.name == "smpl"
    check_body_model(body)
    assert (body.dtype, body.num_betas) == (torch.float32, 10)


def test_chumpy_pickle_gives_the_same_body_without_chumpy(files, no_chumpy):
    pytest.importorskip("smplx")
    pose, root, transl, betas = _inputs(seed=1)
    a = SMPLBody(path=files["chumpy"])(pose, root, transl, betas)
    b = SMPLBody(path=files["npz"])(pose, root, transl, betas)
    np.testing.assert_allclose(a.vertices.numpy(), b.vertices.numpy(), atol=1e-6)
    np.testing.assert_allclose(a.body25.numpy(), b.body25.numpy(), atol=1e-6)


def test_body25_uses_smpl_joints_and_keypoint_vertices(files):
    pytest.importorskip("smplx")
    body = SMPLBody(path=files["npz"])
    out = body(*_inputs(batch=2, seed=2)[:3])
    kp = out.body25
    assert kp.shape == (2, 25, 3)
    np.testing.assert_allclose(kp[:, K["RShoulder"]], out.joints[:, 17])
    np.testing.assert_allclose(kp[:, K["MidHip"]], out.joints[:, 0])
    np.testing.assert_allclose(kp[:, K["Neck"]], out.joints[:, 12])
    np.testing.assert_allclose(kp[:, K["Nose"]], out.vertices[:, 332])
    np.testing.assert_allclose(kp[:, K["LEar"]], out.vertices[:, 583])
    np.testing.assert_allclose(kp[:, K["RHeel"]], out.vertices[:, 6787])


def test_skeleton_forward_gives_the_full_forwards_joints_and_keypoints_without_vertices(
    files, tmp_path
):
    pytest.importorskip("smplx")
    smplh = make_model(n_vertices=300, n_joints=52, seed=6)
    np.savez(tmp_path / "SMPLH_NEUTRAL.npz", **smplh)
    for body in (SMPLBody(path=files["npz"]), SMPLBody(path=tmp_path)):  # SMPL, SMPL+H
        pose, root, transl, betas = _inputs(batch=3, seed=7)
        pose.requires_grad_(True)
        full = body(pose, root, transl, betas)
        skeleton = body.forward_skeleton(pose, root, transl, betas)
        assert skeleton.vertices is None
        torch.testing.assert_close(skeleton.joints, full.joints, atol=1e-5, rtol=0)
        assert (skeleton.body25 is None) == (full.body25 is None)
        if full.body25 is not None:
            torch.testing.assert_close(skeleton.body25, full.body25, atol=1e-5, rtol=0)
            (want,) = torch.autograd.grad(full.body25.square().sum(), pose)
            (got,) = torch.autograd.grad(skeleton.body25.square().sum(), pose)
            torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_shape_handling(files):
    pytest.importorskip("smplx")
    body = SMPLBody(path=files["npz"])
    pose, _, _, betas = _inputs(batch=2, seed=3)
    short = body(pose, shape=betas[:, :4])
    padded = body(pose, shape=torch.cat([betas[:, :4], torch.zeros(2, 6)], dim=1))
    np.testing.assert_array_equal(short.vertices.numpy(), padded.vertices.numpy())
    assert not torch.allclose(body(pose).vertices, padded.vertices)
    with pytest.raises(InputError, match=r"shape must have shape \(2, K\) with K <= 10"):
        body(pose, shape=torch.zeros(2, 11))
    with pytest.raises(InputError, match="shape contains NaN"):
        body(pose, shape=torch.full((2, 10), float("nan")))
    with pytest.raises(InputError, match=r"pose must have shape \(B, 21, 3\)"):
        body(torch.zeros(2, 23, 3))
    with pytest.raises(InputError, match="pose contains NaN"):
        body(torch.full((1, 21, 3), float("nan")))


def test_gradients_flow_to_pose_and_shape(files):
    pytest.importorskip("smplx")
    body = SMPLBody(path=files["npz"])
    pose = torch.zeros(2, 21, 3, requires_grad=True)
    shape = torch.zeros(2, 10, requires_grad=True)
    out = body(pose, shape=shape)
    (out.vertices.square().sum() + out.joints.sum()).backward()
    assert torch.isfinite(pose.grad).all() and pose.grad.abs().sum() > 0
    assert torch.isfinite(shape.grad).all() and shape.grad.abs().sum() > 0


def test_smplh_family_poses_its_body_joints_with_flat_hands(tmp_path):
    pytest.importorskip("smplx")
    model = make_model(n_vertices=300, n_joints=52, seed=4)
    np.savez(tmp_path / "SMPLH_NEUTRAL.npz", **model)
    body = SMPLBody(path=tmp_path)
    assert body.family == "SMPL+H"
    pose, root, transl, betas = _inputs(batch=2, seed=5)
    out = body(pose, root, transl, betas)
    assert out.joints.shape == (2, 22, 3) and out.body25 is None  # unknown topology: no keypoints
    joints, verts = numpy_lbs(
        model, pose[1].numpy(), root[1].numpy(), transl[1].numpy(), betas[1].numpy()
    )
    np.testing.assert_allclose(out.joints[1].numpy(), joints, atol=2e-5)
    np.testing.assert_allclose(out.vertices[1].numpy(), verts, atol=2e-5)


def test_lsp14_needs_the_h36m_regressor(tmp_path, model):
    pytest.importorskip("smplx")
    np.savez(tmp_path / "SMPL_NEUTRAL.npz", **model)
    with pytest.raises(CapabilityNotSupported, match="LSP-14"):
        SMPLBody(path=tmp_path).lsp14(torch.zeros(1, 6890, 3))
    regressor = np.zeros((17, 6890), dtype=np.float32)
    regressor[np.arange(17), np.arange(17) * 100] = 1.0
    np.save(tmp_path / "J_regressor_h36m.npy", regressor)
    body = SMPLBody(path=tmp_path)
    out = body(*_inputs(batch=2, seed=6)[:3])
    lsp = body.lsp14(out.vertices)
    assert lsp.shape == (2, 14, 3)
    np.testing.assert_allclose(lsp[:, 0], out.vertices[:, 600])  # LSP right ankle = H36M row 6


def test_missing_smplx_is_a_clear_error(files, monkeypatch):
    monkeypatch.setitem(sys.modules, "smplx", None)
    with pytest.raises(
        PosebenchError, match=r"needs the smplx package .* pip install 'pose-prior-bench\[smpl\]'"
    ):
        SMPLBody(path=files["npz"])


def test_registry_lists_and_loads_both_bodies(files):
    from posebench import plugins

    registry = plugins.get_registry()
    assert {"anny", "smpl"} <= set(registry.names("body_model"))
    assert registry.get("body_model", "anny").load().__name__ == "AnnyBody"
    smpl_cls = registry.get("body_model", "smpl").load()
    assert smpl_cls is SMPLBody
    pytest.importorskip("smplx")
    body = smpl_cls(path=str(files["root"] / "npz"), device="cpu")
    assert body(torch.zeros(1, 21, 3)).joints.shape == (1, 22, 3)
