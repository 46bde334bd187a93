"""Pose-NDF training data: k-NN targets under the published metric, noise schemes, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.shards import Shard
from posebench.priors.posendf import targets as targets_module
from posebench.priors.posendf.quat import pose_to_network_input
from posebench.priors.posendf.targets import (
    _noisy_unit,
    knn_targets,
    load_targets,
    merge_target_shards,
    prepare_targets,
)


def brute_force(query: torch.Tensor, manifold: torch.Tensor, k: int):
    """The target metric written out: mean_j (1 - |<q_j, q'_j>|), all pairs, float64."""
    q, m = query.double(), manifold.double()
    d = torch.stack([torch.stack([(1 - (a * b).sum(-1).abs()).mean() for b in m]) for a in q])
    values, index = torch.sort(d, dim=1, stable=True)
    return values[:, :k], index[:, :k]


def quats(n: int, seed: int, scale: float = 0.5) -> torch.Tensor:
    from posebench.priors.posendf.quat import pose_to_network_input

    g = torch.Generator().manual_seed(seed)
    return pose_to_network_input(scale * torch.randn(n, 21, 3, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("search", ["exact", "candidates"])
def test_knn_equals_brute_force(search):
    manifold, query = quats(60, 0), quats(9, 1, scale=0.8)
    expected_d, expected_i = brute_force(query, manifold, 5)
    d, i = knn_targets(query, manifold, k=5, search=search, candidates=60, rerank=8,
                       manifold_chunk=7)  # fmt: skip
    torch.testing.assert_close(d, expected_d, rtol=0, atol=1e-12)
    assert torch.equal(i, expected_i)


def test_candidate_search_is_only_an_upper_bound_ranking():
    """With few candidates the published L2 pre-selection can miss true neighbours when joint
    dot products are negative; exact search never does."""
    manifold = quats(200, 2, scale=2.5)
    query = quats(20, 3, scale=2.5)
    exact_d, _ = knn_targets(query, manifold, k=5, search="exact")
    few_d, _ = knn_targets(query, manifold, k=5, search="candidates", candidates=5)
    assert (few_d >= exact_d - 1e-12).all()
    assert (few_d > exact_d + 1e-6).any()  # it does miss some here


def test_shared_noise_is_shared_per_unit_sample_noise_is_not():
    base = (0.5 * torch.randn(1, 21, 3, generator=torch.Generator().manual_seed(4))).expand(
        50, 21, 3
    )
    shared = _noisy_unit(base, 50, 0.1, "shared_additive", torch.Generator().manual_seed(0))
    fresh = _noisy_unit(base, 50, 0.1, "per_sample_additive", torch.Generator().manual_seed(0))
    assert torch.allclose(shared, shared[:1].expand_as(shared))
    assert not torch.allclose(fresh, fresh[:1].expand_as(fresh))
    assert (shared[..., 0] >= 0).all() and torch.allclose(shared.norm(dim=-1), torch.ones(50, 21,
        dtype=shared.dtype))  # fmt: skip


def config(**overrides):
    cfg = dict(packaged_config("priors/posendf.yaml")["targets"])
    cfg.update(per_sigma=30, group_size=16, num_random=20, **overrides)
    return cfg


def test_prepare_is_deterministic_streams_and_records(tmp_path):
    poses = 0.3 * torch.randn(80, 21, 3, generator=torch.Generator().manual_seed(0))
    a = load_targets(prepare_targets(poses, tmp_path / "a", config(), seed=1))
    b = load_targets(prepare_targets(poses, tmp_path / "b", config(manifold_chunk=13), seed=1))
    c = load_targets(prepare_targets(poses, tmp_path / "c", config(), seed=2))
    assert a.noisy.shape == (5 * 30 + 20, 21, 4) and a.dist.shape == (170, 5)
    for name in ("noisy", "target", "dist", "index", "sigma"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.noisy, c.noisy)
    np.testing.assert_allclose(a.target, a.dist.mean(axis=1), rtol=1e-6)
    assert np.all(np.diff(a.dist, axis=1) >= 0)
    # targets grow with the noise; random poses are far from the manifold
    by_sigma = [a.target[a.sigma == s].mean() for s in (0.01, 0.05, 0.1, 0.25, 0.5)]
    assert np.all(np.diff(by_sigma) > 0)
    assert a.target[a.sigma == -1].mean() > by_sigma[-1]
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert meta["search"] == "exact" and meta["counts"]["queries"] == 170
    # the stored distances are the metric to the stored neighbours
    q = torch.from_numpy(np.array(a.noisy[:10])).double()
    nn = torch.from_numpy(np.array(a.manifold))[torch.from_numpy(np.array(a.index[:10]))]
    d = 1 - (q[:, None] * nn.double()).sum(-1).abs().mean(-1)
    np.testing.assert_allclose(d.numpy(), a.dist[:10], rtol=1e-5, atol=1e-7)


def test_the_manifold_converted_chunk_by_chunk_is_the_whole_conversion(tmp_path, monkeypatch):
    """Preparation converts and hashes the training poses a chunk at a time (bounded memory):
    the arrays and the manifold's identity are exactly those of converting them at once."""
    poses = 0.3 * torch.randn(50, 21, 3, generator=torch.Generator().manual_seed(6))
    whole = load_targets(prepare_targets(poses, tmp_path / "whole", config(), seed=1))
    monkeypatch.setattr(targets_module, "CONVERT_CHUNK", 7)
    chunked = load_targets(prepare_targets(poses, tmp_path / "chunked", config(), seed=1))
    for name in ("noisy", "target", "dist", "index", "sigma", "manifold"):
        assert np.array_equal(getattr(chunked, name), getattr(whole, name)), name
    expected = pose_to_network_input(poses.double()).float()
    assert np.array_equal(chunked.manifold, expected.numpy())
    assert chunked.meta["manifold_hash"] == whole.meta["manifold_hash"] == hash_arrays(expected)


def test_three_shards_merge_into_exactly_the_unsharded_set(tmp_path):
    poses = 0.3 * torch.randn(60, 21, 3, generator=torch.Generator().manual_seed(3))
    whole = load_targets(prepare_targets(poses, tmp_path / "whole", config(), seed=4))
    for index in range(3):
        part = prepare_targets(poses, tmp_path / "sharded", config(), seed=4, shard=Shard(index, 3))
        assert part == tmp_path / "sharded" / f"shard-{index}-of-3"
        with pytest.raises(InputError, match=f"shard {index} of 3, not a whole training set"):
            load_targets(part)
    with pytest.raises(InputError, match="shard 0 of 4 has not finished"):
        merge_target_shards(tmp_path / "sharded", 4)
    merged = load_targets(merge_target_shards(tmp_path / "sharded", 3))
    for name in ("noisy", "target", "dist", "index", "sigma", "manifold"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    assert merged.meta["counts"] == whole.meta["counts"] and merged.meta["merged_from"] == 3


def test_incomplete_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="no complete Pose-NDF training set"):
        load_targets(tmp_path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "meta.json").write_text('{"format'), "meta.json is damaged"),
        (lambda f: (f / "noisy.npy").write_bytes((f / "noisy.npy").read_bytes()[:100]),
         "noisy.npy is missing or damaged"),
        (lambda f: (f / "dist.npy").unlink(), "dist.npy is missing or damaged"),
    ],
)  # fmt: skip
def test_a_damaged_targets_folder_is_one_line_naming_the_file(tmp_path, damage, message):
    poses = 0.3 * torch.randn(40, 21, 3, generator=torch.Generator().manual_seed(5))
    folder = prepare_targets(poses, tmp_path / "t", config(), seed=0)
    damage(folder)
    with pytest.raises(InputError, match=message) as info:
        load_targets(folder)
    assert "\n" not in str(info.value)
