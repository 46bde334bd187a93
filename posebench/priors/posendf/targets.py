"""Training data for Pose-NDF (docs/posendf.md): manifold poses, noisy and random poses, and their
target distances = mean distance to the k nearest manifold poses under
d(q, q') = mean_joints (1 - |<q_j, q'_j>|).

The work is split into units of at most ``group_size`` poses (one noise level or random poses);
each unit draws from its own seeded stream and is written to ``.npy`` files opened as memory
maps, so the result is deterministic for a seed and AMASS-sized sets stream to disk. The manifold
itself is converted chunk by chunk into ``manifold.npy`` and searched from that memory map, so
the memory of a preparation does not grow with the training poses beyond the mapped arrays.
``meta.json`` is written last (atomically): a folder without it is incomplete.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posebench.core.atomic import atomic_write_json
from posebench.core.config import merge_config
from posebench.core.errors import ConfigError, InputError
from posebench.core.hashing import hash_array_chunks
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import make_generator
from posebench.core.shards import Shard
from posebench.priors.posendf.config import NOISE_SCHEMES, SEARCHES, resolve_config
from posebench.priors.posendf.quat import axis_angle_to_quat, canonical
from posebench.priors.posendf.starts import random_starts

TARGETS_FORMAT = "posebench-posendf-targets"
_FILES = ("noisy", "target", "dist", "index", "sigma")
#: Manifold poses converted to quaternions at a time (bounds the memory of the conversion).
CONVERT_CHUNK = 65_536


@dataclass
class TargetSet:
    """A prepared folder: arrays (memory-mapped) and its ``meta.json``."""

    folder: Path
    manifold: np.ndarray  # (M, 21, 4) canonical quaternions of the train split
    noisy: np.ndarray  # (N, 21, 4) canonical query quaternions
    target: np.ndarray  # (N,) mean distance to the k nearest manifold poses
    dist: np.ndarray  # (N, k) the k smallest distances, ascending
    index: np.ndarray  # (N, k) their rows in ``manifold``
    sigma: np.ndarray  # (N,) noise level of each query; -1 for random poses
    meta: dict[str, Any]


# --- distances -----------------------------------------------------------------------------------


def pose_distance(query: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """d = mean over joints of (1 - |<q_j, q'_j>|) for broadcastable ``(..., 21, 4)`` tensors."""
    return 1.0 - (query * other).sum(dim=-1).abs().mean(dim=-1)


def _metric_chunk(query: torch.Tensor, manifold: torch.Tensor) -> torch.Tensor:
    """``(Q, M)`` metric between float32 ``(Q, 21, 4)`` and ``(M, 21, 4)`` quaternions: 21
    per-joint products summed in place (two ``Q x M`` buffers in all)."""
    acc = torch.zeros(len(query), len(manifold), device=query.device)
    buf = torch.empty_like(acc)
    for joint in range(query.shape[1]):
        torch.mm(query[:, joint], manifold[:, joint].T, out=buf)
        acc.add_(buf.abs_())
    del buf
    return acc.div_(-float(query.shape[1])).add_(1.0)  # 1 - mean, in place: the same numbers


def _merge_smallest(
    best_d: torch.Tensor, best_i: torch.Tensor, d: torch.Tensor, offset: int, keep: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``keep`` smallest of the kept ``best_d`` and a new chunk's ``d`` (columns = manifold
    rows from ``offset``), with their rows; no index array of the chunk's size is made."""
    kept = best_d.shape[1]
    all_d = torch.cat([best_d, d], dim=1)
    top = torch.topk(all_d, min(keep, all_d.shape[1]), dim=1, largest=False, sorted=True)
    position = top.indices
    rows = position - kept + offset  # a column of the new chunk
    if kept:
        earlier = torch.gather(best_i, 1, position.clamp(max=kept - 1))
        rows = torch.where(position < kept, earlier, rows)
    return top.values, rows


def knn_targets(
    query: torch.Tensor,
    manifold: torch.Tensor,
    k: int = 5,
    search: str = "exact",
    candidates: int = 500,
    rerank: int = 32,
    manifold_chunk: int = 16384,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest manifold poses of each query: ``(Q, k)`` distances (float64, ascending)
    and ``(Q, k)`` manifold rows, by chunked matrix products on the tensors' device.

    exact: the metric against every manifold pose (float32, 21 per-joint products), keeping the
    ``max(rerank, k)`` best, re-ranked in float64. candidates (published): the ``candidates``
    nearest by 84-D Euclidean distance (one product), re-ranked with the metric in float64.
    """
    if search not in SEARCHES:
        raise ConfigError(f"targets.search is {search!r}; use one of {', '.join(SEARCHES)}")
    n_query, n_manifold = len(query), len(manifold)
    keep = max(int(rerank if search == "exact" else candidates), k)
    q = query.float()
    best_d = torch.empty(n_query, 0, device=q.device)
    best_i = torch.empty(n_query, 0, dtype=torch.long, device=q.device)
    flat_q = q.reshape(n_query, -1)
    q_sq = flat_q.pow(2).sum(dim=1, keepdim=True)
    for start in range(0, n_manifold, manifold_chunk):
        m = manifold[start : start + manifold_chunk].float()
        if search == "exact":
            d = _metric_chunk(q, m)
        else:
            flat_m = m.reshape(len(m), -1)
            d = q_sq + flat_m.pow(2).sum(dim=1)[None] - 2.0 * flat_q @ flat_m.T
        best_d, best_i = _merge_smallest(best_d, best_i, d, start, keep)
        del d  # before the next chunk's buffers are made: one chunk's matrix at a time
    exact = pose_distance(
        query.double()[:, None], manifold[best_i.reshape(-1)].double().reshape(*best_i.shape, -1, 4)
    )
    top = torch.topk(exact, k, dim=1, largest=False, sorted=True)
    return top.values, torch.gather(best_i, 1, top.indices)


# --- query poses ---------------------------------------------------------------------------------


def manifold_chunks(poses: torch.Tensor) -> Iterator[tuple[slice, torch.Tensor]]:
    """``(rows, (n, 21, 4) float32 canonical quaternions)`` of ``(M, 21, 3)`` poses, a bounded
    chunk at a time (the conversion is per pose, so chunks give exactly the whole's values)."""
    for start in range(0, len(poses), CONVERT_CHUNK):
        cut = slice(start, min(start + CONVERT_CHUNK, len(poses)))
        yield cut, canonical(axis_angle_to_quat(poses[cut].detach().cpu().double())).float()


def manifold_hash(poses: torch.Tensor) -> str:
    """The sha256 that identifies a manifold: :func:`hash_arrays` of its float32 canonical
    quaternions, computed chunk by chunk."""
    quats = (quat for _, quat in manifold_chunks(poses))
    return hash_array_chunks(np.float32, (len(poses), 21, 4), quats)


def write_manifold(poses: torch.Tensor, path: Path) -> torch.Tensor:
    """The canonical quaternions of ``poses`` written to ``path`` (.npy) chunk by chunk, returned
    as a tensor over its memory map."""
    array = np.lib.format.open_memmap(path, "w+", np.float32, (len(poses), 21, 4))
    for cut, quat in manifold_chunks(poses):
        array[cut] = quat.numpy()
    array.flush()
    return torch.from_numpy(array)


def _noisy_unit(
    poses: torch.Tensor, count: int, sigma: float, scheme: str, generator: torch.Generator
) -> torch.Tensor:
    """``count`` noisy canonical quaternions around rows of ``poses`` (axis-angle, converted as
    loaded: not flipped to one hemisphere before the noise, §3.4)."""
    rows = torch.randint(len(poses), (count,), generator=generator)
    quat = axis_angle_to_quat(poses[rows].detach().cpu().double())
    if scheme == "shared_additive":  # published: one Uniform[0,1)^(21x4) draw for the unit
        quat = quat + sigma * torch.rand(quat.shape[1:], generator=generator, dtype=quat.dtype)
    elif scheme == "per_sample_additive":
        quat = quat + sigma * torch.rand(quat.shape, generator=generator, dtype=quat.dtype)
    elif scheme == "per_sample_gaussian":
        quat = quat + sigma * torch.randn(quat.shape, generator=generator, dtype=quat.dtype)
    else:
        raise ConfigError(f"targets.noise is {scheme!r}; use one of {', '.join(NOISE_SCHEMES)}")
    return canonical(quat)


def plan_units(config: Mapping[str, Any]) -> list[tuple[str, int, float, int]]:
    """Work units ``(kind, level, sigma, count)``: noisy groups per sigma, then random groups."""
    group = int(config["group_size"])
    if group < 1:
        raise ConfigError("targets.group_size must be >= 1")
    units: list[tuple[str, int, float, int]] = []
    for level, sigma in enumerate(config["sigmas"]):
        total = int(config["per_sigma"])
        units += [
            ("noisy", level, float(sigma), min(group, total - s)) for s in range(0, total, group)
        ]
    total = int(config["num_random"])
    units += [("random", -1, -1.0, min(group, total - s)) for s in range(0, total, group)]
    return units


# --- the whole set -------------------------------------------------------------------------------


def prepare_targets(
    poses: torch.Tensor,
    out_dir: str | Path,
    config: Mapping[str, Any],
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
    source: Mapping[str, Any] | None = None,
    shard: Shard | None = None,
) -> Path:
    """Build the training set from ``(M, 21, 3)`` manifold poses into ``out_dir``.

    ``config`` is the prior config's ``targets`` section. Returns ``out_dir``; its
    ``meta.json`` records the search scheme, counts, seed, timing and throughput. With ``shard``
    only every ``count``-th work unit is built, into ``out_dir/shard-I-of-N``; every unit draws
    from its own seeded stream, so :func:`merge_target_shards` assembles exactly the unsharded set.
    """
    progress = progress or NullProgress()
    device = torch.device(device)
    out = Path(out_dir) if shard is None else shard_folder(out_dir, shard)
    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").unlink(missing_ok=True)
    if poses.ndim != 3 or poses.shape[1:] != (21, 3) or len(poses) == 0:
        raise InputError(f"manifold poses have shape {tuple(poses.shape)}; expected (M, 21, 3)")
    manifold = write_manifold(poses, out / "manifold.npy")
    k = int(config["k"])
    if k > len(manifold):
        raise InputError(f"targets.k = {k} but only {len(manifold)} manifold poses")
    planned = numbered_units(plan_units(config))
    units = planned if shard is None else shard.take(planned)
    n = sum(unit[3] for unit in units)
    arrays = {
        "noisy": np.lib.format.open_memmap(out / "noisy.npy", "w+", np.float32, (n, 21, 4)),
        "target": np.lib.format.open_memmap(out / "target.npy", "w+", np.float32, (n,)),
        "dist": np.lib.format.open_memmap(out / "dist.npy", "w+", np.float32, (n, k)),
        "index": np.lib.format.open_memmap(out / "index.npy", "w+", np.int64, (n, k)),
        "sigma": np.lib.format.open_memmap(out / "sigma.npy", "w+", np.float32, (n,)),
    }
    manifold_dev = manifold.to(device)
    started = time.perf_counter()
    row = 0
    rows: list[list[int]] = []  # per unit built here: [first row in the whole set, count]
    for kind, level, sigma, count, unit_index, start in progress.track(
        units, "posendf targets", total=len(units)
    ):
        rows.append([start, count])
        generator = make_generator(seed, "posendf-targets", kind, str(level), str(unit_index))
        if kind == "noisy":
            query = _noisy_unit(poses, count, sigma, config["noise"], generator)
        else:
            query = random_starts(count, config["random_init"], generator).double()
        dist, index = knn_targets(
            query.float().to(device),
            manifold_dev,
            k=k,
            search=config["search"],
            candidates=int(config["candidates"]),
            rerank=int(config["rerank"]),
            manifold_chunk=int(config["manifold_chunk"]),
        )
        cut = slice(row, row + count)
        arrays["noisy"][cut] = query.float().numpy()
        arrays["dist"][cut] = dist.float().cpu().numpy()
        arrays["target"][cut] = dist.mean(dim=1).float().cpu().numpy()
        arrays["index"][cut] = index.cpu().numpy()
        arrays["sigma"][cut] = sigma
        row += count
    for array in arrays.values():
        array.flush()
    seconds = time.perf_counter() - started
    meta = {
        "format": TARGETS_FORMAT,
        "complete": True,
        "search": config["search"],
        "search_note": (
            "exact k-NN under the metric over all manifold poses"
            if config["search"] == "exact"
            else f"published: {config['candidates']} candidates by 84-D L2, re-ranked exactly"
        ),
        "config": dict(config),
        "seed": int(seed),
        "counts": {"manifold": len(manifold), "queries": n, "units": len(units)},
        "shard": None if shard is None else {"index": shard.index, "count": shard.count},
        "rows": rows,
        "manifold_hash": manifold_hash(poses),
        "source": dict(source or {}),
        "device": str(device),
        "wall_time_s": round(seconds, 3),
        "queries_per_s": round(n / seconds, 1) if seconds > 0 else None,
    }
    atomic_write_json(out / "meta.json", json.loads(json.dumps(meta, default=str)))
    return out


def numbered_units(
    units: list[tuple[str, int, float, int]],
) -> list[tuple[str, int, float, int, int, int]]:
    """Each unit with its index among the units of its (kind, level), which names its random
    stream, and its first row in the whole set."""
    numbered, counters, row = [], Counter[str](), 0
    for kind, level, sigma, count in units:
        numbered.append((kind, level, sigma, count, counters[f"{kind}{level}"], row))
        counters[f"{kind}{level}"] += 1
        row += count
    return numbered


def shard_folder(out_dir: str | Path, shard: Shard) -> Path:
    """Where shard I of N writes its part of the set."""
    return Path(out_dir) / f"shard-{shard.index}-of-{shard.count}"


def merge_target_shards(out_dir: str | Path, count: int) -> Path:
    """Assemble the ``count`` shard folders under ``out_dir`` into the whole set in ``out_dir``
    (the same arrays as an unsharded build); the shard folders are left for you to delete."""
    out = Path(out_dir)
    metas = []
    for index in range(count):
        meta_path = shard_folder(out, Shard(index, count)) / "meta.json"
        if not meta_path.is_file():
            raise InputError(
                f"{meta_path} is missing: shard {index} of {count} has not finished; run "
                f"posebench data prepare posendf-targets --shard {index}/{count} first"
            )
        metas.append(_read_meta(meta_path))
    first = metas[0]
    for key in ("config", "seed", "manifold_hash"):
        if any(m.get(key) != first.get(key) for m in metas):
            raise InputError(f"the shards under {out} differ in {key}; build them again alike")
    spans = sorted((start, n, i) for i, m in enumerate(metas) for start, n in m["rows"])
    total = sum(n for _, n, _ in spans)
    if [s for s, _, _ in spans] != list(np.cumsum([0] + [n for _, n, _ in spans[:-1]])):
        raise InputError(f"the shards under {out} do not tile one set; build them again")
    (out / "meta.json").unlink(missing_ok=True)
    k = int(first["config"]["k"])
    shapes = {"noisy": (21, 4), "target": (), "dist": (k,), "index": (k,), "sigma": ()}
    dtypes = {"noisy": np.float32, "target": np.float32, "dist": np.float32,
              "index": np.int64, "sigma": np.float32}  # fmt: skip
    for name in _FILES:
        whole = np.lib.format.open_memmap(
            out / f"{name}.npy", "w+", dtypes[name], (total, *shapes[name])
        )
        parts = [
            np.load(shard_folder(out, Shard(i, count)) / f"{name}.npy", mmap_mode="r")
            for i in range(count)
        ]
        read = [0] * count
        for start, n, i in spans:
            whole[start : start + n] = parts[i][read[i] : read[i] + n]
            read[i] += n
        whole.flush()
        del whole
    shutil.copyfile(shard_folder(out, Shard(0, count)) / "manifold.npy", out / "manifold.npy")
    seconds = sum(m["wall_time_s"] for m in metas)
    meta = {
        **first,
        "counts": {**first["counts"], "queries": total, "units": len(spans)},
        "shard": None,
        "rows": [[0, total]],
        "merged_from": count,
        "wall_time_s": round(seconds, 3),
        "queries_per_s": round(total / seconds, 1) if seconds > 0 else None,
    }
    atomic_write_json(out / "meta.json", meta)
    return out


def load_targets(folder: str | Path) -> TargetSet:
    """Open a folder written by :func:`prepare_targets` (memory-mapped); one-line errors."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise InputError(
            f"{folder} holds no complete Pose-NDF training set (no meta.json); run posebench "
            "data prepare posendf-targets again"
        )
    meta = _read_meta(meta_path)
    if meta.get("format") != TARGETS_FORMAT or not meta.get("complete"):
        raise InputError(f"{meta_path} is not a complete {TARGETS_FORMAT} folder")
    if meta.get("shard"):
        part = meta["shard"]
        raise InputError(
            f"{folder} is shard {part['index']} of {part['count']}, not a whole training set; "
            f"merge the shards with posebench data prepare posendf-targets --merge {part['count']}"
        )
    arrays = {name: _open_array(folder / f"{name}.npy") for name in (*_FILES, "manifold")}
    queries = int(meta.get("counts", {}).get("queries", -1))
    short = [name for name in _FILES if len(arrays[name]) != queries]
    if short:
        raise InputError(
            f"{folder}: {', '.join(short)} hold(s) other than the {queries} rows meta.json "
            "records; the folder is damaged: run posebench data prepare posendf-targets again"
        )
    return TargetSet(folder=folder, meta=meta, **arrays)


def _read_meta(path: Path) -> dict[str, Any]:
    """A targets folder's meta.json, or a one-line error when it is damaged."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{path} is damaged ({exc}); run posebench data prepare posendf-targets again"
        ) from None
    if not isinstance(meta, dict):
        raise InputError(f"{path} holds no JSON object; run posebench data prepare posendf-targets")
    return meta


def _open_array(path: Path) -> np.ndarray:
    """A memory-mapped array of a targets folder, or a one-line error naming the damaged file."""
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path} is missing or damaged ({exc}); run posebench data prepare posendf-targets "
            "again"
        ) from None


def matches(folder: Path, config: Mapping[str, Any], seed: int, manifold_hash: str) -> bool:
    """True if ``folder`` is a complete set built with this config, seed and manifold."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    same_config = json.loads(json.dumps(dict(config), default=str)) == meta.get("config")
    return (
        bool(meta.get("complete"))
        and same_config
        and meta.get("seed") == seed
        and meta.get("manifold_hash") == manifold_hash
    )


def expected_size(config: Mapping[str, Any]) -> int:
    """Number of query poses a config produces."""
    return len(config["sigmas"]) * int(config["per_sigma"]) + int(config["num_random"])


def prepare_posendf_targets(
    dataset: Any,
    out_dir: str | Path,
    prior_config: str | Path | Mapping[str, Any] | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    quick: bool = False,
    progress: Progress | None = None,
    shard: Shard | None = None,
) -> Path:
    """``posebench data prepare posendf-targets``: build the training set of ``dataset``'s
    train split into ``out_dir`` with the prior config's ``targets`` section (``quick``: the
    CI-sized ``quick_overrides``). Returns ``out_dir``; pass it as ``train.targets_dir``."""
    config = resolve_config(prior_config)
    if quick:
        config = merge_config(config, config["quick_overrides"], where="quick_overrides")
    source = {"dataset": getattr(dataset, "name", type(dataset).__name__)}
    return prepare_targets(
        dataset.poses("train"), out_dir, config["targets"], seed, device, progress, source, shard
    )
