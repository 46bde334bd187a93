"""Build the embedded dataset file: read every catalogued clip out of its pinned registry package,
retarget it onto the body, measure it, and write one reproducible file.

Build-time only (``posebench data build-embedded --sources DIR``): the file ships with posebench
and :mod:`posebench.datasets.embedded` reads it. The clips, their terms and the method are
described in docs/embedded_data.md; the file's metadata records them per clip.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import roma
import scipy
import torch

from posebench.body.anny import AnnyBody
from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.hashing import hash_arrays, hash_file
from posebench.core.npzio import write_reproducible_npz
from posebench.core.progress import NullProgress, Progress
from posebench.core.version import __version__
from posebench.datasets.embedded import (
    ARRAYS,
    DEFAULT_PATH,
    EXTENDED_PATH,
    FORMAT_VERSION,
    POSE_FPS,
    WINDOW,
)
from posebench.rebuild.catalogue import PACKAGES, TIER_A, TIER_B, ClipSource
from posebench.rebuild.packages import check_sha256, read_members
from posebench.rebuild.readers import SourceRead, read_source
from posebench.rebuild.retarget import retarget
from posebench.rebuild.retarget_report import RetargetReport, check_retarget

SPLIT_RULE = (
    "whole clips: train holds only clips whose source captures all 22 joints; no test motion "
    "kind is in train; validation and test hold sources not in train (DeepMimic, the fencing "
    "capture)"
)


@dataclass
class BuiltClip:
    """One clip as written: its arrays (float32 / bool), its record and its retarget report."""

    arrays: dict[str, np.ndarray]
    record: dict[str, Any]
    report: RetargetReport


def _extract(source: ClipSource, sources_dir: Path, tmp: Path) -> dict[str, Path]:
    """Write the clip's files out of its package into ``tmp``; their paths by member name."""
    names = (source.member, *source.extra_members)
    members = read_members(sources_dir / source.package.file, names)
    paths = {}
    for name, data in members.items():
        path = tmp / source.id / Path(name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths[name] = path
    return paths


def _record(source: ClipSource, read: SourceRead, paths: dict[str, Path]) -> dict[str, Any]:
    package = source.package
    fps = float(read.clip.fps)
    return {
        "id": source.id,
        "source": source.source,
        "package": f"{package.name} {package.version}",
        "package_file": package.file,
        "package_sha256": package.sha256,
        "registry": package.registry,
        "get_it": package.get_it,
        "package_licence": package.licence,
        "file": source.member,
        "sha256": hash_file(paths[source.member]),
        "other_files": {m: hash_file(paths[m]) for m in source.extra_members},
        "licence": source.licence,
        "terms": source.terms,
        "credit": source.credit,
        "subject": source.subject,
        "motion": source.motion,
        "fps": fps,
        "source_frames": read.source_frames,
        "dropped": read.dropped,
        "reader_notes": read.notes,
    }


def build_clip(source: ClipSource, sources_dir: Path, body: AnnyBody, tmp: Path) -> BuiltClip:
    """Read, retarget and measure one clip (``body`` a float64 copy of the embedded body)."""
    paths = _extract(source, sources_dir, tmp)
    read = read_source(source, paths)
    result = retarget(read.clip, read.profile, body)
    arrays = {
        "pose_body": result.pose_body.astype(np.float32),
        "root_orient": result.root_orient.astype(np.float32),
        "trans": result.trans.astype(np.float32),
        "observed": result.observed.astype(bool),
    }
    report = check_retarget(
        read.clip,
        read.profile,
        arrays["pose_body"],
        arrays["root_orient"],
        arrays["trans"],
        body,
        result.scale,
        result.floor_offset,
    )
    frames = len(arrays["pose_body"])
    record = {
        **_record(source, read, paths),
        "frames": frames,
        "seconds": round(frames / result.fps, 3),
        "split": source.split,
        "observed": [
            n for n, seen in zip(SMPL22_JOINT_NAMES, result.observed[0], strict=True) if seen
        ],
        "retarget": {
            "profile": read.profile.name,
            "scale": round(result.scale, 6),
            "floor_offset_m": result.floor_offset,
            "standing_frames": result.standing_frames,
            "hinge_axes_estimated": list(result.frames.estimated_hinges),
        },
        "retarget_report": report.as_dict(),
    }
    return BuiltClip(arrays, record, report)


def build_all(
    sources_dir: str | Path, out_dir: str | Path, progress: Progress | None = None
) -> dict[Path, list[BuiltClip]]:
    """Both data files into ``out_dir``: the embedded dataset (tier A) and the extra clips of
    ``embedded-extended`` (tier B), as ``posebench data build-embedded`` writes them.
    """
    for package in PACKAGES:  # all present and pinned before anything is written
        check_sha256(Path(sources_dir) / package.file, package.sha256)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    for clips, name, dataset in (
        (TIER_A, DEFAULT_PATH.name, "embedded"),
        (TIER_B, EXTENDED_PATH.name, "embedded-extended"),
    ):
        path = out_dir / name
        built[path] = build_embedded(sources_dir, path, clips, progress, dataset)
    return built


def build_embedded(
    sources_dir: str | Path,
    out_path: str | Path | None = None,
    clips: Sequence[ClipSource] = TIER_A,
    progress: Progress | None = None,
    name: str = "embedded",
) -> list[BuiltClip]:
    """Rebuild the embedded dataset file from the pinned packages in ``sources_dir``.

    ``posebench data build-embedded --sources DIR [--out F]`` calls this. The same packages and
    library versions give the same bytes; other numpy/scipy/torch versions should differ by
    float32 rounding only.
    """
    sources_dir = Path(sources_dir)
    out_path = Path(out_path) if out_path is not None else DEFAULT_PATH
    progress = progress or NullProgress()
    used = {c.package.file for c in clips}
    for package in PACKAGES:
        if package.file in used:
            check_sha256(sources_dir / package.file, package.sha256)
    body = AnnyBody().to(dtype=torch.float64)
    built = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in progress.track(clips, "retargeting clips"):
            built.append(build_clip(source, sources_dir, body, Path(tmp)))
    _write(built, clips, out_path, body, name)
    return built


def _write(
    built: list[BuiltClip],
    clips: Sequence[ClipSource],
    out_path: Path,
    body: AnnyBody,
    name: str,
) -> None:
    order = sorted(range(len(built)), key=lambda k: ("train", "val", "test").index(clips[k].split))
    start = 0
    records = []
    for k in order:
        record = {**built[k].record, "start": start}
        start += record["frames"]
        records.append(record)
    arrays = {name: np.concatenate([built[k].arrays[name] for k in order]) for name in ARRAYS}
    meta = _metadata(arrays, records, clips, body, name)
    write_reproducible_npz(
        out_path, {"meta": np.asarray(json.dumps(meta, sort_keys=True)), **arrays}
    )


def _library_versions() -> dict[str, str]:
    return {
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "roma": getattr(roma, "__version__", "unknown"),
    }


def _metadata(
    arrays: dict[str, np.ndarray],
    records: list[dict[str, Any]],
    clips: Sequence[ClipSource],
    body: AnnyBody,
    name: str,
) -> dict[str, Any]:
    """Everything about the data file except the arrays: provenance, method, clips, splits."""
    packages = {c.package.file: c.package for c in clips}
    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "content_sha256": hash_arrays(*(arrays[k] for k in ARRAYS)),
        "arrays": {
            "pose_body": "(N, 21, 3) float32 local axis-angle of SMPL joints 1..21, radians",
            "root_orient": "(N, 3) float32 axis-angle of the pelvis, radians",
            "trans": "(N, 3) float32 metres; the body's pelvis joint = trans (its rest pelvis "
            "is at the origin); y up, facing +z, left at +x; feet on y = 0",
            "observed": "(N, 22) bool: the source captured this joint in this frame; joints it "
            "did not capture hold the identity local rotation",
        },
        "clips": records,
        "sources": {
            p.file: {
                "package": f"{p.name} {p.version}",
                "registry": p.registry,
                "sha256": p.sha256,
                "get_it": p.get_it,
                "licence": p.licence,
            }
            for p in packages.values()
        },
        "body_model": {"name": "anny", "content_sha256": body.content_sha256},
        "command": "posebench data build-embedded --sources DIR --out-dir DIR",
        "posebench_version": __version__,
        "library_versions": _library_versions(),
        "method": "docs/embedded_data.md#retargeting; posebench.rebuild.retarget",
        "split_rule": SPLIT_RULE,
        "pose_fps": POSE_FPS,
        "windows": {**WINDOW, "rule": "cut inside each clip, no overlap"},
    }


def summary_lines(built: list[BuiltClip], path: str | Path) -> list[str]:
    """What ``posebench data build-embedded`` prints: per clip a line, then the file."""
    path = Path(path)
    lines = []
    for clip in built:
        r = clip.record
        dropped = sum(d["frames"][1] - d["frames"][0] for d in r["dropped"])
        lines.append(
            f"{r['id']:<28} {r['split']:<5} {r['frames']:>5} frames {r['seconds']:>6.1f} s "
            f"@{r['fps']:g} Hz  {len(r['observed'])}/22 joints  dropped {dropped}  "
            f"one-to-one max {clip.report.one_to_one_max_deg:.1e} deg  "
            f"off-hinge max {clip.report.off_hinge_max_deg:.1f} deg  ({r['motion']})"
        )
    total = sum(c.record["seconds"] for c in built)
    lines.append(
        f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, sha256 {hash_file(path)[:16]}...): "
        f"{len(built)} clips, {total:.1f} s"
    )
    return lines
