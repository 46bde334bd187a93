"""Rotation conversions against scipy.spatial.transform.Rotation, including the hard cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation, Slerp

from posebench.body import rotations as rot
from posebench.core.errors import InputError

TOL = 1e-6


def _axis_angles(n: int = 512, seed: int = 0) -> np.ndarray:
    """Random rotation vectors plus zero, tiny, near-pi and exactly-pi ones."""
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(n, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = rng.uniform(0, math.pi, size=n)
    angles[:8] = 0.0
    angles[8:16] = 1e-9
    angles[16:24] = 1e-4
    angles[24:40] = math.pi - 1e-7
    angles[40:48] = math.pi
    angles[48:56] = math.pi - 1e-3
    aa = axes * angles[:, None]
    aa[56:64] = np.eye(3)[rng.integers(0, 3, 8)] * math.pi  # axis-aligned half turns
    return aa


def _same_rotvec(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between rotation vectors, treating v and -v as equal at an angle of pi."""
    direct = np.linalg.norm(a - b, axis=-1)
    near_pi = np.linalg.norm(b, axis=-1) > math.pi - 1e-5
    flipped = np.linalg.norm(a + b, axis=-1)
    return np.where(near_pi, np.minimum(direct, flipped), direct)


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64)


def test_axis_angle_to_matrix_matches_scipy():
    aa = _axis_angles()
    got = rot.axis_angle_to_matrix(_t(aa)).numpy()
    np.testing.assert_allclose(got, Rotation.from_rotvec(aa).as_matrix(), atol=TOL, rtol=0)


def test_matrix_to_axis_angle_matches_scipy():
    aa = _axis_angles(seed=1)
    mats = Rotation.from_rotvec(aa).as_matrix()
    got = rot.matrix_to_axis_angle(_t(mats)).numpy()
    want = Rotation.from_matrix(mats).as_rotvec()
    assert _same_rotvec(got, want).max() < TOL
    assert np.linalg.norm(got, axis=-1).max() <= math.pi + 1e-9


def test_quaternions_match_scipy_in_wxyz_on_the_w_positive_hemisphere():
    aa = _axis_angles(seed=2)
    r = Rotation.from_rotvec(aa)
    want = r.as_quat(canonical=True, scalar_first=True)
    got = rot.axis_angle_to_quat(_t(aa)).numpy()
    assert (got[:, 0] >= 0).all()
    # at w == 0 (angle pi) q and -q are both on the boundary: compare up to sign there
    err = np.minimum(np.abs(got - want).max(-1), np.abs(got + want).max(-1))
    err = np.where(np.abs(want[:, 0]) < 1e-6, err, np.abs(got - want).max(-1))
    assert err.max() < TOL
    got_m = rot.matrix_to_quat(_t(r.as_matrix())).numpy()
    err_m = np.minimum(np.abs(got_m - want).max(-1), np.abs(got_m + want).max(-1))
    assert err_m.max() < TOL
    assert (got_m[:, 0] >= 0).all()
    # back again; both signs of the quaternion give the same rotation
    for sign in (1.0, -1.0):
        q = _t(sign * want)
        np.testing.assert_allclose(rot.quat_to_matrix(q).numpy(), r.as_matrix(), atol=TOL)
        assert _same_rotvec(rot.quat_to_axis_angle(q).numpy(), r.as_rotvec()).max() < TOL


def test_the_only_order_conversion_is_a_roll():
    q = _t(np.array([[0.9, 0.1, 0.2, 0.3]]))
    np.testing.assert_array_equal(rot.wxyz_to_xyzw(q).numpy(), [[0.1, 0.2, 0.3, 0.9]])
    np.testing.assert_array_equal(rot.xyzw_to_wxyz(rot.wxyz_to_xyzw(q)).numpy(), q.numpy())
    # the identity quaternion has w first
    np.testing.assert_array_equal(rot.axis_angle_to_quat(torch.zeros(3)).numpy(), [1, 0, 0, 0])


def test_hemisphere_flip():
    q = _t(np.array([[-0.5, 0.5, -0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]))
    got = rot.quat_hemisphere(q).numpy()
    np.testing.assert_array_equal(got, [[0.5, -0.5, 0.5, -0.5], [0.5, 0.5, 0.5, 0.5]])


def test_6d_round_trip_and_layout():
    mats = Rotation.random(256, random_state=3).as_matrix()
    d6 = rot.matrix_to_6d(_t(mats))
    assert d6.shape == (256, 6)
    np.testing.assert_array_equal(d6.numpy(), mats[:, :, :2].reshape(256, 6))
    np.testing.assert_allclose(rot.rot6d_to_matrix(d6).numpy(), mats, atol=TOL)
    # a perturbed 6D vector still maps to a proper rotation, the Gram-Schmidt one
    noisy = d6 + 0.05 * torch.randn(
        d6.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    m = rot.rot6d_to_matrix(noisy).numpy()
    np.testing.assert_allclose(
        m @ m.transpose(0, 2, 1), np.broadcast_to(np.eye(3), m.shape), atol=TOL
    )
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=TOL)
    aa = _axis_angles(seed=4)
    back = rot.rot6d_to_axis_angle(rot.axis_angle_to_6d(_t(aa))).numpy()
    assert _same_rotvec(back, Rotation.from_rotvec(aa).as_rotvec()).max() < TOL


def test_geodesic_distance_matches_scipy():
    a1, a2 = _axis_angles(seed=5), _axis_angles(seed=6)
    a2[:32] = a1[:32]  # identical pairs (zero and near-pi among them): distance 0
    # the same rotation written as a rotation vector of angle 2 pi - theta about the flipped axis
    norms = np.linalg.norm(a1[64:80], axis=1, keepdims=True)
    a2[64:80] = a1[64:80] - 2 * math.pi * a1[64:80] / norms
    r1, r2 = Rotation.from_rotvec(a1), Rotation.from_rotvec(a2)
    want = (r1.inv() * r2).magnitude()
    m = rot.geodesic_distance(_t(r1.as_matrix()), _t(r2.as_matrix())).numpy()
    v = rot.geodesic_distance_axis_angle(_t(a1), _t(a2)).numpy()
    q1 = _t(r1.as_quat(scalar_first=True))
    q2 = _t(r2.as_quat(scalar_first=True))
    # antipodal representation of the same rotations: the distance must not change
    q = rot.geodesic_distance_quat(q1, -q2).numpy()
    for got in (m, v, q):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert rot.geodesic_distance_quat(q1, -q1).abs().max() < 1e-7


def test_slerp_matches_scipy():
    rng = np.random.default_rng(7)
    r0, r1 = Rotation.random(64, random_state=8), Rotation.random(64, random_state=9)
    t = rng.uniform(0, 1, size=64)
    got = rot.slerp_quat(
        _t(r0.as_quat(scalar_first=True)), _t(r1.as_quat(scalar_first=True)), _t(t)
    )
    want = r0 * Rotation.from_rotvec(t[:, None] * (r0.inv() * r1).as_rotvec())
    np.testing.assert_allclose(rot.quat_to_matrix(got).numpy(), want.as_matrix(), atol=TOL)
    assert (got[:, 0] >= 0).all()
    # scipy's own Slerp on a few pairs, several t each
    for i in range(4):
        pair = Rotation.concatenate([r0[i], r1[i]])
        ts = np.linspace(0, 1, 7)
        ref = Slerp([0, 1], pair)(ts).as_matrix()
        q0 = _t(np.repeat(r0[i].as_quat(scalar_first=True)[None], 7, 0))
        q1 = _t(np.repeat(r1[i].as_quat(scalar_first=True)[None], 7, 0))
        np.testing.assert_allclose(
            rot.quat_to_matrix(rot.slerp_quat(q0, q1, _t(ts))), ref, atol=TOL
        )
    # axis-angle flavour, a scalar t
    a = rot.slerp_axis_angle(_t(r0.as_rotvec()), _t(r1.as_rotvec()), 0.25).numpy()
    want = r0 * Rotation.from_rotvec(0.25 * (r0.inv() * r1).as_rotvec())
    assert _same_rotvec(a, want.as_rotvec()).max() < TOL


def test_slerp_of_antipodal_and_identical_quaternions():
    q = _t(Rotation.random(8, random_state=10).as_quat(scalar_first=True))
    for other in (q, -q):
        for t in (0.0, 0.3, 1.0):
            out = rot.slerp_quat(q, other, t)
            assert torch.isfinite(out).all()
            assert rot.geodesic_distance_quat(out, q).max() < 1e-7


CONVERSIONS = [
    ("axis_angle_to_matrix", lambda x: rot.axis_angle_to_matrix(x)),
    ("axis_angle_to_quat", lambda x: rot.axis_angle_to_quat(x)),
    ("axis_angle_to_6d", lambda x: rot.axis_angle_to_6d(x)),
    ("matrix_round_trip", lambda x: rot.matrix_to_axis_angle(rot.axis_angle_to_matrix(x))),
    ("quat_round_trip", lambda x: rot.quat_to_axis_angle(rot.axis_angle_to_quat(x))),
    ("matrix_to_quat", lambda x: rot.matrix_to_quat(rot.axis_angle_to_matrix(x))),
    ("6d_round_trip", lambda x: rot.rot6d_to_axis_angle(rot.axis_angle_to_6d(x))),
    ("geodesic", lambda x: rot.geodesic_distance_axis_angle(x, torch.zeros_like(x))),
    (
        "geodesic_matrix",
        lambda x: rot.geodesic_distance(rot.axis_angle_to_matrix(x), torch.eye(3, dtype=x.dtype)),
    ),
    ("slerp", lambda x: rot.slerp_axis_angle(x, torch.zeros_like(x), 0.5)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name, fn", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_gradients_are_finite_at_the_zero_rotation(name, fn, dtype):
    x = torch.zeros(4, 21, 3, dtype=dtype, requires_grad=True)
    out = fn(x)
    (out * torch.linspace(0.5, 1.5, out.numel(), dtype=dtype).reshape(out.shape)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all(), name


def test_matrix_to_axis_angle_gradient_at_zero_is_identity():
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    jac = torch.autograd.functional.jacobian(
        lambda v: rot.matrix_to_axis_angle(rot.axis_angle_to_matrix(v)), x
    )
    np.testing.assert_allclose(jac.numpy(), np.eye(3), atol=1e-9)


def test_batched_shapes_and_bad_input():
    aa = torch.zeros(2, 5, 21, 3)
    assert rot.axis_angle_to_matrix(aa).shape == (2, 5, 21, 3, 3)
    assert rot.axis_angle_to_quat(aa).shape == (2, 5, 21, 4)
    assert rot.axis_angle_to_6d(aa).shape == (2, 5, 21, 6)
    with pytest.raises(InputError, match=r"axis-angle must have shape \(\.\.\., 3\)"):
        rot.axis_angle_to_matrix(torch.zeros(4, 4))
    with pytest.raises(InputError, match="quaternion"):
        rot.quat_to_matrix(torch.zeros(3))
