"""``posebench data prepare amass``: walk a raw AMASS folder once, write a prepared folder.

The prepared folder (read by :class:`posebench.datasets.amass.AmassDataset`) holds

- ``poses_{split}.npy`` (N, 21, 3) float32: the VPoser-sampled body poses of each pose split,
  and ``index_{split}.npy`` (N, 2) int32: (file id in the manifest, source frame) of each pose;
- ``motion_{split}_{pose_body,root_orient,trans}.npy``: the HuMoR motion of the motion splits
  (default val and test) at 30 Hz, sequences concatenated, located by the manifest;
- ``amass_manifest.json``: format, posebench version, seed, the split tables, every input file
  (path, size, mtime, sub-dataset, frames, rate, body model, where its poses went), counts per
  split and sub-dataset, what was skipped and why, and the content hash.

Arrays stream to disk: each is appended to file by file behind a fixed-size .npy header that is
filled in at the end, so memory stays at one motion file whatever the size of AMASS. Every file
is written atomically and the manifest last; the old manifest is removed first, so an
interrupted run leaves a folder that :class:`AmassDataset` refuses instead of a mixed one.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import numpy as np

from posebench.core.atomic import atomic_path, atomic_write_json
from posebench.core.errors import InputError
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import numpy_rng
from posebench.datasets.amass import (
    ALIASES,
    FORMAT,
    HUMOR_EVAL_EXCLUDED,
    KEEP_RATE,
    MANIFEST_NAME,
    MIN_MOTION_SECONDS,
    MOTION_FPS,
    MOTION_SPLITS,
    POSE_SPLITS,
    TRIM,
    AmassMotion,
    canonical_name,
    is_shape_file_name,
    read_amass_file,
    resample_indices,
    sample_frames,
    split_of,
    trim_range,
)
from posebench.datasets.base import SPLITS

SAMPLING_STREAM = "amass-sampling"
_HEADER_BYTES = 128  # room for any shape up to 10**15 rows; a multiple of 64 keeps data aligned


class NpyAppender:
    """A .npy file that grows row block by row block; the header is written by :meth:`finish`."""

    def __init__(self, path: Path, tail: tuple[int, ...], dtype: str) -> None:
        self.tail, self.dtype, self.rows = tail, np.dtype(dtype), 0
        self.digest = hashlib.sha256()
        self._handle: IO[bytes] = open(path, "wb")  # noqa: SIM115 (closed by finish / close)
        self._handle.write(b"\0" * _HEADER_BYTES)

    def append(self, block: np.ndarray) -> None:
        """Append rows of shape ``(n, *tail)``."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.shape[1:] != self.tail:
            raise ValueError(f"block of shape {block.shape} does not end in {self.tail}")
        data = block.tobytes()
        self._handle.write(data)
        self.digest.update(data)
        self.rows += len(block)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, *self.tail)

    def finish(self) -> dict[str, Any]:
        """Write the header and close; return the manifest entry (shape, sha256 of the data)."""
        self._handle.seek(0)
        self._handle.write(_npy_header(self.shape, self.dtype))
        self._handle.close()
        return {
            "shape": list(self.shape),
            "dtype": self.dtype.str,
            "sha256": self.digest.hexdigest(),
        }

    def close(self) -> None:
        self._handle.close()


def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    """A version 1.0 .npy header of exactly ``_HEADER_BYTES`` bytes (padded with spaces)."""
    text = f"{{'descr': '{dtype.str}', 'fortran_order': False, 'shape': {shape!r}, }}"
    length = _HEADER_BYTES - 10  # magic (6) + version (2) + header length (2)
    if len(text) + 1 > length:
        raise ValueError(f"shape {shape} does not fit a {_HEADER_BYTES}-byte .npy header")
    return (
        b"\x93NUMPY\x01\x00"
        + struct.pack("<H", length)
        + (text.ljust(length - 1) + "\n").encode("latin1")
    )


# --- walking the AMASS folder -------------------------------------------------------------------


def _find_files(amass_dir: Path) -> tuple[dict[str, list[Path]], int]:
    """npz files by top-level folder ('' for files at the top), sorted; and the hidden ones."""
    by_folder: dict[str, list[Path]] = defaultdict(list)
    hidden = 0
    for path in sorted(amass_dir.rglob("*.npz")):
        relative = path.relative_to(amass_dir)
        if any(part.startswith(".") for part in relative.parts):
            hidden += 1  # macOS '._x.npz' forks and hidden folders are never AMASS data
            continue
        by_folder[relative.parts[0] if len(relative.parts) > 1 else ""].append(path)
    return dict(by_folder), hidden


def _check_folders(amass_dir: Path, folders: Sequence[str]) -> None:
    """Refuse two folders that are the same sub-dataset (an old and a current download)."""
    seen: dict[str, str] = {}
    for folder in folders:
        name = canonical_name(folder)
        if folder and name in seen:
            raise InputError(
                f"{amass_dir} has both '{seen[name]}' and '{folder}', which are the same AMASS "
                "sub-dataset; keep one of them (they would be counted twice)"
            )
        seen[name] = folder


def _sampling_key(amass_dir: Path, path: Path) -> str:
    """The file's path with its sub-dataset folder renamed canonically: same sample either way."""
    parts = path.relative_to(amass_dir).parts
    return "/".join([canonical_name(parts[0]), *parts[1:]])


class _Writers:
    """The growing arrays of one preparation, each behind its own atomic path."""

    def __init__(self, stack: ExitStack, out_dir: Path, motion_splits: Sequence[str]) -> None:
        self.arrays: dict[str, NpyAppender] = {}
        for split in SPLITS:
            self._add(stack, out_dir, f"poses_{split}.npy", (21, 3), "<f4")
            self._add(stack, out_dir, f"index_{split}.npy", (2,), "<i4")
        for split in motion_splits:
            self._add(stack, out_dir, f"motion_{split}_pose_body.npy", (21, 3), "<f4")
            self._add(stack, out_dir, f"motion_{split}_root_orient.npy", (3,), "<f4")
            self._add(stack, out_dir, f"motion_{split}_trans.npy", (3,), "<f4")

    def _add(self, stack: ExitStack, out_dir: Path, name: str, tail: tuple[int, ...], dtype: str):
        tmp = stack.enter_context(atomic_path(out_dir / name))
        appender = NpyAppender(tmp, tail, dtype)
        stack.callback(appender.close)  # runs before the atomic rename (LIFO)
        self.arrays[name] = appender

    def finish(self) -> dict[str, dict[str, Any]]:
        return {name: array.finish() for name, array in self.arrays.items()}


# --- the preparation ----------------------------------------------------------------------------


def prepare_amass(
    amass_dir: str | Path,
    out_dir: str | Path,
    seed: int = 0,
    progress: Progress | None = None,
    *,
    skip_bad_files: bool = False,
    motion_splits: Sequence[str] = ("val", "test"),
) -> dict[str, Any]:
    """Prepare a raw AMASS folder into ``out_dir`` and return the summary (see module doc).

    ``skip_bad_files``: record malformed files in the summary and go on; by default the first
    one stops the run with an InputError naming it. ``motion_splits``: the HuMoR splits whose
    30 Hz motion is stored (train motion is large and no built-in task needs it).
    """
    started = time.monotonic()
    amass_dir, out_dir = Path(amass_dir).expanduser(), Path(out_dir).expanduser()
    motion_splits = _check_inputs(amass_dir, out_dir, motion_splits)
    progress = progress or NullProgress()
    by_folder, hidden = _find_files(amass_dir)
    _check_folders(amass_dir, list(by_folder))
    unassigned = {
        folder or "(top level)": len(files)
        for folder, files in by_folder.items()
        if not folder or split_of(folder, POSE_SPLITS) is None
    }
    todo = [
        path
        for folder, files in sorted(by_folder.items())
        if folder and split_of(folder, POSE_SPLITS) is not None
        for path in files
    ]
    if not todo:
        raise InputError(
            f"{amass_dir} has no AMASS motion files in the sub-dataset folders of any split "
            f"({', '.join(sorted(POSE_SPLITS['train']))}, ...); give the folder that holds them"
        )
    for folder, count in sorted(unassigned.items()):
        progress.log(f"AMASS: '{folder}' is in no split; its {count} files are not used")
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)

    state = _State(amass_dir, seed, motion_splits, skip_bad_files)
    with ExitStack() as stack:
        writers = _Writers(stack, out_dir, motion_splits)
        for path in progress.track(todo, "AMASS files", total=len(todo)):
            state.add_file(path, writers.arrays)
        outputs = writers.finish()

    manifest = state.manifest(outputs, unassigned, hidden)
    atomic_write_json(out_dir / MANIFEST_NAME, manifest)
    if len(manifest["model_types"]) > 1:
        progress.log(
            f"AMASS: mixed body models {manifest['model_types']}: SMPL+H and SMPL-X fits differ; "
            "prefer one download"
        )
    summary = {k: v for k, v in manifest.items() if k not in ("files", "sequences", "splits")}
    return {**summary, "out_dir": str(out_dir), "seconds": round(time.monotonic() - started, 3)}


def _check_inputs(amass_dir: Path, out_dir: Path, motion_splits: Sequence[str]) -> tuple[str, ...]:
    if not amass_dir.is_dir():
        raise InputError(f"AMASS folder {amass_dir} does not exist; check --amass-dir")
    if (amass_dir / MANIFEST_NAME).is_file():
        raise InputError(
            f"{amass_dir} is already a prepared folder; give the raw AMASS folder as --amass-dir"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is a file; give a folder")
    unknown = [s for s in motion_splits if s not in SPLITS]
    if unknown:
        raise InputError(f"unknown motion split(s) {', '.join(unknown)}; use train, val, test")
    return tuple(s for s in SPLITS if s in motion_splits)


class _State:
    """What a preparation has read so far: file entries, counts, skips, sequence index."""

    def __init__(
        self, amass_dir: Path, seed: int, motion_splits: tuple[str, ...], skip_bad: bool
    ) -> None:
        self.amass_dir, self.seed = amass_dir, seed
        self.motion_splits, self.skip_bad = motion_splits, skip_bad
        self.files: list[dict[str, Any]] = []
        self.bad: list[dict[str, str]] = []
        self.shape_files = 0
        self.dropped = Counter[str]()  # motion: too short / rate below 30 Hz
        self.models = Counter[str]()
        self.pose_counts: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
        self.sequences: dict[str, list[dict[str, Any]]] = {s: [] for s in motion_splits}

    def add_file(self, path: Path, arrays: dict[str, NpyAppender]) -> None:
        """Read one file and append its sampled poses and 30 Hz motion."""
        relative = path.relative_to(self.amass_dir).as_posix()
        if is_shape_file_name(path):
            self.shape_files += 1
            return
        try:
            motion = read_amass_file(path)
        except InputError as exc:
            if not self.skip_bad:
                raise
            self.bad.append({"path": relative, "error": str(exc)})
            return
        if motion is None:
            self.shape_files += 1
            return
        folder = path.relative_to(self.amass_dir).parts[0]
        dataset = canonical_name(folder)
        stat = path.stat()
        entry: dict[str, Any] = {
            "path": relative,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "dataset": dataset,
            "frames": len(motion),
            "fps": motion.fps,
            "model": motion.model,
        }
        file_id = len(self.files)
        self.files.append(entry)
        self.models[motion.model] += 1
        self._add_poses(file_id, entry, motion, arrays)
        self._add_motion(file_id, entry, motion, arrays)

    def _add_poses(
        self, file_id: int, entry: dict[str, Any], motion: AmassMotion, arrays: dict
    ) -> None:
        split = split_of(entry["dataset"], POSE_SPLITS)
        assert split is not None  # only files of assigned folders are read
        rng = numpy_rng(self.seed, SAMPLING_STREAM, _sampling_key(self.amass_dir, motion.path))
        frames = sample_frames(len(motion), rng)
        entry.update(
            pose_split=split, pose_offset=arrays[f"poses_{split}.npy"].rows, pose_count=len(frames)
        )
        arrays[f"poses_{split}.npy"].append(motion.pose_body[frames])
        arrays[f"index_{split}.npy"].append(
            np.stack([np.full(len(frames), file_id), frames], axis=1)
        )
        self.pose_counts[split][entry["dataset"]] += len(frames)

    def _add_motion(
        self, file_id: int, entry: dict[str, Any], motion: AmassMotion, arrays: dict
    ) -> None:
        split = split_of(entry["dataset"], MOTION_SPLITS)
        if split not in self.motion_splits:
            return
        if motion.fps < MOTION_FPS - 1e-6:
            self.dropped["rate below 30 Hz"] += 1
            return
        low, high = trim_range(len(motion))
        picked = resample_indices(high - low, motion.fps)
        if len(picked) < MIN_MOTION_SECONDS * MOTION_FPS:
            self.dropped["shorter than 1 s"] += 1
            return
        frames = picked + low
        key = f"motion_{split}_pose_body.npy"
        offset = arrays[key].rows
        arrays[key].append(motion.pose_body[frames])
        arrays[f"motion_{split}_root_orient.npy"].append(motion.root_orient[frames])
        arrays[f"motion_{split}_trans.npy"].append(motion.trans[frames])
        name = entry["path"].rsplit(".", 1)[0]
        stem = "/".join([entry["dataset"], *name.split("/")[1:]])
        self.sequences[split].append(
            {
                "name": stem,
                "file_id": file_id,
                "offset": offset,
                "length": len(frames),
                "dataset": entry["dataset"],
                "mocap_fps": motion.fps,
                "mocap_start": int(low),
                "gender": motion.gender,
                "betas": None if motion.betas is None else motion.betas.tolist(),
                "humor_eval_excluded": stem.rsplit("_", 1)[0] in HUMOR_EVAL_EXCLUDED,
            }
        )
        entry["motion_split"] = split

    def manifest(
        self, outputs: dict[str, Any], unassigned: dict[str, int], hidden: int
    ) -> dict[str, Any]:
        """The manifest JSON, with the content hash of the arrays and the sequence index."""
        from posebench.core.version import __version__

        content = {"outputs": outputs, "sequences": self.sequences, "format": FORMAT}
        content_hash = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        seq_counts = {
            s: dict(sorted(Counter(e["dataset"] for e in seqs).items()))
            for s, seqs in self.sequences.items()
        }
        return {
            "format": FORMAT,
            "posebench_version": __version__,
            "source": str(self.amass_dir.resolve()),
            "seed": self.seed,
            "sampling": {"keep_rate": KEEP_RATE, "trim": list(TRIM), "stream": SAMPLING_STREAM},
            "motion": {
                "fps": MOTION_FPS,
                "min_seconds": MIN_MOTION_SECONDS,
                "splits": list(self.motion_splits),
            },
            "splits": {"poses": POSE_SPLITS, "sequences": MOTION_SPLITS, "aliases": ALIASES},
            "counts": {
                "poses": {s: dict(sorted(c.items())) for s, c in self.pose_counts.items()},
                "poses_total": {s: sum(c.values()) for s, c in self.pose_counts.items()},
                "sequences": seq_counts,
                "files_read": len(self.files),
            },
            "skipped": {
                "shape_files": self.shape_files,
                "hidden_files": hidden,
                "unassigned_files": dict(sorted(unassigned.items())),
                "bad_files": self.bad,
                "motion_dropped": dict(sorted(self.dropped.items())),
            },
            "model_types": dict(sorted(self.models.items())),
            "content_hash": content_hash,
            "outputs": outputs,
            "files": self.files,
            "sequences": self.sequences,
        }


def empty_split_warnings(summary: dict[str, Any]) -> list[str]:
    """One warning per empty split: a copy of AMASS without some sub-datasets prepares fine, but
    every task that needs the missing split will refuse it, so say so now."""
    counts = summary["counts"]
    warnings = [
        f"warning: pose split {split} is empty: none of {', '.join(POSE_SPLITS[split])} was "
        "found; tasks that need it will refuse this folder"
        for split in POSE_SPLITS
        if not counts["poses_total"].get(split)
    ]
    warnings += [
        f"warning: motion split {split} is empty: none of {', '.join(MOTION_SPLITS[split])} "
        "with motion of at least the minimum length was found; motion tasks on it will refuse "
        "this folder"
        for split in summary["motion"]["splits"]
        if not sum(counts["sequences"].get(split, {}).values())
    ]
    return warnings


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A few human-readable lines about a preparation, for the command line to print."""
    counts, skipped = summary["counts"], summary["skipped"]
    poses = ", ".join(f"{split} {n:,}" for split, n in counts["poses_total"].items())
    sequences = ", ".join(
        f"{split} {sum(by_dataset.values())}" for split, by_dataset in counts["sequences"].items()
    )
    lines = [
        f"AMASS prepared into {summary['out_dir']} (seed {summary['seed']}, "
        f"{counts['files_read']} files, {summary['seconds']:.0f} s)",
        f"poses: {poses}",
        f"30 Hz sequences: {sequences or 'none'}",
        f"skipped: {skipped['shape_files']} shape files, {len(skipped['bad_files'])} bad files, "
        f"{sum(skipped['unassigned_files'].values())} files of sub-datasets in no split",
    ]
    if skipped["unassigned_files"]:
        lines.append("not in any split: " + ", ".join(skipped["unassigned_files"]))
    lines.extend(empty_split_warnings(summary))
    lines.extend(f"bad file: {entry['error']}" for entry in skipped["bad_files"])
    return lines
