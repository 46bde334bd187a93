"""AMASS: read your licensed copy, split it as the published priors did, serve poses and motion.

AMASS (https://amass.is.tue.mpg.de) is licence-restricted: posebench never downloads or ships it.
``posebench data prepare amass`` (:func:`posebench.datasets.amass_prepare.prepare_amass`) walks a
raw AMASS folder once and writes a *prepared* folder; :class:`AmassDataset` reads only prepared
folders, so a benchmark run never silently spends an hour reading 20 GB of npz files.

Definitions (the published priors' splits; docs/posendf.md and docs/baselines.md):

- **Files**: ``poses`` (T, 156) SMPL+H or (T, 165) SMPL-X (or (T, 72) SMPL, as AMASS-style
  exports of SMPL fits write them), ``trans`` (T, 3), ``mocap_framerate`` (SMPL+H) or
  ``mocap_frame_rate`` (SMPL-X); ``betas`` and ``gender`` are kept when present.
  Body pose = ``poses[:, 3:66]`` as (T, 21, 3) in all three; root orientation = ``poses[:, :3]``.
  Shape-only files (``shape.npz``, ``*_stagei.npz``, ``{female,male,neutral}.npz``, or any npz
  without ``poses`` but with ``betas``) are skipped and counted. Anything else that is not a
  valid motion file is an :class:`~posebench.core.errors.InputError` naming the file.
- **Pose splits** (:data:`POSE_SPLITS`, what ``poses(split)`` serves): the VPoser / Pose-NDF
  split by sub-dataset. **Motion splits** (:data:`MOTION_SPLITS`, what ``sequences(split)``
  serves): HuMoR's split, whose test set is Transitions_mocap + HumanEva (HumanEva is in the
  *val* pose split). Neither train split contains a sub-dataset of the other's val or test.
- **Folder names**: tables use the names of the published split lists (the old AMASS names);
  :data:`ALIASES` maps the current download names (BMLrub, PosePrior, ...) onto them.
- **Pose sampling** (VPoser): per motion file with N frames, ``int(0.3 * 0.8 * N)`` frame
  indices drawn uniformly without replacement from ``[int(0.1 N), int(0.9 N))``, sorted, from
  ``numpy_rng(seed, "amass-sampling", key)`` where ``key`` is the file's path with the
  sub-dataset folder replaced by its canonical name: each file's sample is independent of the
  others and of old versus current folder names. VPoser v2's quirk of sampling CMU twice is not
  reproduced.
- **Motion** (HuMoR): frames ``[int(0.1 N), int(0.9 N))``, resampled to 30 Hz by
  :func:`resample_indices`, dropped when shorter than 1 s (30 frames) at 30 Hz or recorded below
  30 Hz (both counted in the manifest). Only the val and test motion is prepared by default.
- **Canonicalisation** (:func:`canonicalize`): see there; it needs no body model.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posebench.core.errors import InputError
from posebench.datasets.base import SPLITS, Dataset, MotionSequence, windows

ENV_VAR = "POSEBENCH_AMASS_DIR"
MANIFEST_NAME = "amass_manifest.json"
FORMAT = "posebench-amass/1"
AMASS_URL = "https://amass.is.tue.mpg.de"

KEEP_RATE = 0.3  # VPoser's keep_rate: 30 % of the middle 80 % of every motion file
TRIM = (0.1, 0.9)  # fractions of the frames kept at both ends (avoids T-poses)
MOTION_FPS = 30.0  # HuMoR's rate
MIN_MOTION_SECONDS = 1.0  # HuMoR drops shorter sequences
POSE_COLUMNS = {72: "smpl", 156: "smplh", 165: "smplx"}

# VPoser (v1 README, human_body_prior) / Pose-NDF version2 data/data_splits.py; NRDF uses it too.
POSE_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "ACCAD", "BMLhandball", "BMLmovi", "BioMotionLab_NTroje", "CMU", "EKUT",
        "Eyes_Japan_Dataset", "KIT", "MPI_Limits", "TCD_handMocap", "TotalCapture",
    ),
    "val": ("HumanEva", "MPI_HDM05", "MPI_mosh", "SFU"),
    "test": ("SSM_synced", "Transitions_mocap"),
}  # fmt: skip

# HuMoR humor/datasets/amass_utils.py (docs/baselines.md, docs/protocols.md).
MOTION_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "ACCAD", "BMLmovi", "BioMotionLab_NTroje", "CMU", "EKUT", "Eyes_Japan_Dataset", "KIT",
        "MPI_Limits", "TotalCapture",
    ),
    "val": ("MPI_HDM05", "MPI_mosh", "SFU"),
    "test": ("HumanEva", "Transitions_mocap"),
}  # fmt: skip

#: Other AMASS folder names -> the name used in the split tables. Sources: Pose-NDF issue #37
#: (BioMotionLab_NTroje is now BMLrub); VIBE #78/#284, amass #12 and mmhuman3d #49 (BMLrub,
#: PosePrior, Transitions, HDM05, SSM; their two name lists also give MoSh, TCDHands, DFaust);
#: DPoser (TCDHands = TCD_handMocap); and the VPoser v1 notebook's "BML". Matching is
#: case-insensitive.
ALIASES: dict[str, str] = {
    "BMLrub": "BioMotionLab_NTroje",
    "BML": "BioMotionLab_NTroje",
    "PosePrior": "MPI_Limits",
    "Transitions": "Transitions_mocap",
    "HDM05": "MPI_HDM05",
    "SSM": "SSM_synced",
    "MoSh": "MPI_mosh",
    "TCDHands": "TCD_handMocap",
    "DFaust": "DFaust_67",  # in no split; mapped so both names are reported alike
}

#: HuMoR's AMASS_EVAL_BLACKLIST (humor/fitting/eval_utils.py): kept, flagged in ``meta``.
HUMOR_EVAL_EXCLUDED = ("HumanEva/S1/Box_1", "HumanEva/S1/Box_3", "HumanEva/S1/Gestures_1")

_SHAPE_STEMS = ("shape", "female", "male", "neutral")
_BAD_FILE_HINT = "re-extract it from the AMASS archive, or skip bad files (--skip-bad-files)"


def _known_names() -> dict[str, str]:
    """Lower-case folder name -> split-table name, for every table name and alias."""
    names = {
        name.lower(): name
        for table in (POSE_SPLITS, MOTION_SPLITS)
        for members in table.values()
        for name in members
    }
    names.update({alias.lower(): canonical for alias, canonical in ALIASES.items()})
    return names


_CANONICAL = _known_names()


def canonical_name(folder: str) -> str:
    """The split-table name of an AMASS sub-dataset folder (old or current name, any case)."""
    return _CANONICAL.get(folder.lower(), folder)


def split_of(folder: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The split of a sub-dataset folder in ``table`` (POSE_SPLITS or MOTION_SPLITS), or None."""
    name = canonical_name(folder)
    return next((split for split, names in table.items() if name in names), None)


# --- reading one AMASS file ---------------------------------------------------------------------


@dataclass(frozen=True)
class AmassMotion:
    """One AMASS motion file, validated: float32 arrays, body pose as (T, 21, 3)."""

    path: Path
    pose_body: np.ndarray  # (T, 21, 3) local axis-angle
    root_orient: np.ndarray  # (T, 3)
    trans: np.ndarray  # (T, 3) metres, z up
    fps: float
    model: str  # "smpl" (72 columns), "smplh" (156) or "smplx" (165)
    gender: str | None = None
    betas: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.pose_body.shape[0])


def is_shape_file_name(path: Path) -> bool:
    """Shape-only files by name: VPoser skips these without opening them."""
    stem = path.stem.lower()
    return stem in _SHAPE_STEMS or stem.endswith(("_shape", "_stagei"))


def _bad(path: Path, reason: str) -> InputError:
    return InputError(f"AMASS file {path}: {reason}; {_BAD_FILE_HINT}")


def read_amass_file(path: str | Path) -> AmassMotion | None:
    """Read and validate one AMASS npz; None for a shape-only file (no ``poses``, has ``betas``).

    Raises InputError naming the file for an unreadable archive, missing keys, wrong shapes,
    a bad frame rate, or NaN / infinite values.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:  # ours to close, also when numpy fails half-way
            data = np.load(handle, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise _bad(path, "is a .npy array, not an .npz archive")
            return parse_amass(path, data)
    except InputError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _bad(path, f"cannot be read as an .npz archive ({reason})") from exc


def parse_amass(path: Path, data: Mapping[str, Any]) -> AmassMotion | None:
    """One AMASS file's arrays (an open npz or a dict of them) validated as
    :func:`read_amass_file` does; ``path`` names the file in errors."""
    keys = set(data)
    if "poses" not in keys:
        if "betas" in keys:
            return None
        raise _bad(path, f"has no 'poses' array (keys: {', '.join(sorted(keys)) or 'none'})")
    poses = _numeric(path, data, "poses")
    if poses.ndim != 2 or poses.shape[1] not in POSE_COLUMNS:
        raise _bad(
            path,
            f"'poses' has shape {poses.shape}, expected (T, 156) SMPL+H, (T, 165) SMPL-X or "
            "(T, 72) SMPL",
        )
    frames = poses.shape[0]
    if frames == 0:
        raise _bad(path, "'poses' has no frames")
    if "trans" not in keys:
        raise _bad(path, "has no 'trans' array")
    trans = _numeric(path, data, "trans")
    if trans.shape != (frames, 3):
        raise _bad(path, f"'trans' has shape {trans.shape}, expected ({frames}, 3)")
    fps = _frame_rate(path, data, keys)
    for key, array in (("poses", poses), ("trans", trans)):
        if not np.isfinite(array).all():
            raise _bad(path, f"'{key}' contains NaN or infinite values")
    return AmassMotion(
        path=path,
        pose_body=poses[:, 3:66].astype(np.float32).reshape(frames, 21, 3),
        root_orient=poses[:, :3].astype(np.float32),
        trans=trans.astype(np.float32),
        fps=fps,
        model=POSE_COLUMNS[poses.shape[1]],
        gender=_gender(data, keys),
        betas=_betas(data, keys),
    )


def _numeric(path: Path, data: Any, key: str) -> np.ndarray:
    try:
        array = np.asarray(data[key])
    except ValueError as exc:  # object arrays need pickle, which is never allowed
        raise _bad(path, f"'{key}' is not a numeric array") from exc
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise _bad(path, f"'{key}' has dtype {array.dtype}, expected numbers")
    return array


def _frame_rate(path: Path, data: Any, keys: set[str]) -> float:
    key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in keys), None)
    if key is None:
        raise _bad(path, "has no 'mocap_framerate' / 'mocap_frame_rate'")
    value = _numeric(path, data, key)
    if value.size != 1 or not math.isfinite(float(value.reshape(-1)[0])) or value <= 0:
        raise _bad(path, f"'{key}' must be one positive number, got {value.tolist()}")
    return float(value.reshape(-1)[0])


def _gender(data: Any, keys: set[str]) -> str | None:
    if "gender" not in keys:
        return None
    try:
        value = np.asarray(data["gender"]).reshape(-1)[0]
    except (ValueError, IndexError):
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _betas(data: Any, keys: set[str]) -> np.ndarray | None:
    if "betas" not in keys:
        return None
    try:
        betas = np.asarray(data["betas"], dtype=np.float32).reshape(-1)
    except (ValueError, TypeError):
        return None
    return betas if np.isfinite(betas).all() else None


# --- sampling, resampling, canonicalisation -----------------------------------------------------


def trim_range(n_frames: int) -> tuple[int, int]:
    """``[int(0.1 N), int(0.9 N))``: the middle 80 % VPoser and HuMoR keep."""
    return int(TRIM[0] * n_frames), int(TRIM[1] * n_frames)


def sample_frames(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """VPoser's sample: ``int(0.3 * 0.8 * N)`` sorted distinct frames of the middle 80 %."""
    low, high = trim_range(n_frames)
    count = int(KEEP_RATE * 0.8 * n_frames)
    return np.sort(rng.choice(high - low, size=count, replace=False)) + low


def resample_indices(n_frames: int, fps: float, target: float = MOTION_FPS) -> np.ndarray:
    """Source frames for ``target`` Hz: frame ``round(k * fps / target)`` for k = 0, 1, ...

    An integer rate ratio (120 or 60 Hz to 30 Hz) gives every 4th or 2nd frame exactly. Any
    other ratio (100 Hz, 250 Hz) takes the frame nearest to each 30 Hz instant, at most half a
    source frame off (5 ms at 100 Hz); HuMoR's ``linspace`` rule is off by up to one frame.
    Rates below ``target`` cannot be resampled by dropping frames: an empty index is returned.
    """
    ratio = fps / target
    if ratio < 1 - 1e-6 or n_frames <= 0:
        return np.zeros(0, dtype=np.int64)
    if abs(ratio - round(ratio)) < 1e-6:
        ratio = float(round(ratio))
    indices = np.floor(np.arange(math.ceil(n_frames / ratio) + 1) * ratio + 0.5).astype(np.int64)
    return indices[indices < n_frames]


def canonicalize(sequence: MotionSequence) -> MotionSequence:
    """Rotate about the vertical (z) axis and shift horizontally so that, at frame 0, the root's
    right vector points along +x (the body faces +y, z up) and the translation's xy is zero.

    HuMoR canonicalises with joint positions from a body model; without one, the right vector
    is the pelvis's own left-right axis (``-R_root[:, 0]``; the forward axis ``R_root[:, 2]`` is
    used when the pelvis's left-right axis is vertical), and ``trans``, not the pelvis joint, is
    moved to the origin. The result is an exact rigid motion of the original body; it differs
    from HuMoR's by a constant horizontal offset (the rest pelvis offset, betas-dependent) and
    the floor is not moved to z = 0 (that needs vertices). The body pose is unchanged.
    """
    import roma

    rot = roma.rotvec_to_rotmat(sequence.root_orient.double())  # (T, 3, 3)
    if len(rot) == 0:
        return sequence
    right = -rot[0, :, 0]
    if torch.linalg.vector_norm(right[:2]) > 1e-3:
        angle = -torch.atan2(right[1], right[0])  # turns right onto +x
    else:
        forward = rot[0, :, 2]
        angle = math.pi / 2 - torch.atan2(forward[1], forward[0])  # turns forward onto +y
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero, one = torch.zeros_like(cos), torch.ones_like(cos)
    turn = torch.stack([cos, -sin, zero, sin, cos, zero, zero, zero, one]).reshape(3, 3)
    trans = sequence.trans.double()
    shift = torch.cat([trans[0, :2], trans.new_zeros(1)])
    dtype = sequence.root_orient.dtype
    return MotionSequence(
        pose_body=sequence.pose_body,
        root_orient=roma.rotmat_to_rotvec(turn @ rot).to(dtype),
        trans=((trans - shift) @ turn.T).to(sequence.trans.dtype),
        fps=sequence.fps,
        name=sequence.name,
        meta={**sequence.meta, "canonical": True},
    )


def humor_windows(
    sequences: list[MotionSequence], length: int = 60, stride: int | None = None
) -> list[MotionSequence]:
    """HuMoR test windows: consecutive non-overlapping ``length``-frame windows at 30 Hz from
    frame 0 of each sequence (shorter rests dropped), each canonicalised to its own first frame.
    HuMoR's config default is 60 frames; its paper's Table 2 used 90.
    """
    return [
        canonicalize(window)
        for sequence in sequences
        for window in windows(sequence, length, MOTION_FPS, stride)
    ]


# --- the dataset plugin -------------------------------------------------------------------------


def _missing_root_error() -> InputError:
    return InputError(
        f"dataset 'amass' needs --amass-dir DIR or {ENV_VAR} (AMASS is licence-restricted: "
        f"download it from {AMASS_URL})"
    )


def _looks_raw(root: Path) -> bool:
    """A folder with AMASS sub-dataset folders or npz files: raw data, not prepared."""
    for child in root.iterdir():
        if child.is_dir() and canonical_name(child.name) in _CANONICAL.values():
            return True
        if child.suffix == ".npz":
            return True
    return any(True for _ in root.glob("*/*.npz")) or any(True for _ in root.glob("*/*/*.npz"))


def resolve_prepared_root(root: str | Path | None) -> Path:
    """The prepared folder from ``root`` or $POSEBENCH_AMASS_DIR, or a one-line InputError.

    A raw AMASS folder is refused with the command that prepares it: preparing takes long,
    so it is never started behind the user's back.
    """
    if root is None or str(root) == "":
        root = os.environ.get(ENV_VAR) or None
    if root is None:
        raise _missing_root_error()
    path = Path(root).expanduser()
    if (path / MANIFEST_NAME).is_file():
        return path
    if not path.is_dir():
        raise InputError(f"AMASS folder {path} does not exist; check --amass-dir / {ENV_VAR}")
    if _looks_raw(path):
        raise InputError(
            f"{path} is a raw AMASS folder, not a prepared one; run 'posebench data prepare amass "
            f"--amass-dir {path} --out DIR' once, then give DIR as --amass-dir / {ENV_VAR}"
        )
    raise InputError(
        f"{path} has no {MANIFEST_NAME}: it is not a prepared AMASS folder; run 'posebench data "
        "prepare amass --amass-dir AMASS --out DIR' and give DIR"
    )


def load_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a prepared folder, checked for the format this posebench reads."""
    path = root / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read {path} ({exc}); prepare the folder again with 'posebench data prepare "
            "amass'"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InputError(
            f"{path} has format {found!r}, this posebench reads {FORMAT!r}; prepare the folder "
            "again with 'posebench data prepare amass'"
        )
    return manifest


class AmassDataset(Dataset):
    """Your prepared AMASS copy: VPoser / Pose-NDF pose splits and HuMoR 30 Hz motion.

    ``root`` (or ``amass_dir``, the same thing under the command line's name) is a prepared
    folder; None reads $POSEBENCH_AMASS_DIR. Poses are memory-mapped copy-on-write: a split
    costs page cache, not process memory, until a caller writes into the tensor (4 M train
    poses are about 1 GB on disk).
    """

    name = "amass"
    version = "1"

    def __init__(self, root: str | Path | None = None, *, amass_dir: str | Path | None = None):
        if root is not None and amass_dir is not None and Path(root) != Path(amass_dir):
            raise InputError(f"dataset 'amass' got two folders, {root} and {amass_dir}; give one")
        self.root = resolve_prepared_root(root if root is not None else amass_dir)
        self.manifest = load_manifest(self.root)

    def _array(self, file_name: str) -> np.ndarray:
        path = self.root / file_name
        expected = self.manifest.get("outputs", {}).get(file_name, {}).get("shape")
        if expected is None:
            raise InputError(
                f"the manifest of {self.root} does not list {file_name}; prepare the folder again "
                "with 'posebench data prepare amass'"
            )
        try:  # numpy cannot memory-map an empty array
            array = np.load(path, mmap_mode="c") if expected[0] else np.load(path)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot read {path} ({exc}); prepare the folder again with 'posebench data "
                "prepare amass'"
            ) from exc
        if list(array.shape) != list(expected):
            raise InputError(
                f"{path} has shape {tuple(array.shape)}, its manifest says {expected}; prepare "
                "the folder again with 'posebench data prepare amass'"
            )
        return array

    def poses(self, split: str) -> torch.Tensor:
        """The sampled body poses of a pose split, ``(N, 21, 3)`` float32, memory-mapped."""
        poses = torch.from_numpy(self._array(f"poses_{self.check_split(split)}.npy"))
        if len(poses) == 0:
            raise self._empty_split("pose", split, POSE_SPLITS[split])
        return poses

    def sequences(self, split: str) -> list[MotionSequence]:
        """The motion split's sequences at 30 Hz, middle 80 %, each canonicalised at frame 0.

        Cut HuMoR test windows with :func:`humor_windows` (which canonicalises each window).
        """
        self.check_split(split)
        prepared = self.manifest["motion"]["splits"]
        if split not in prepared:
            raise InputError(
                f"the prepared AMASS folder {self.root} has motion for {', '.join(prepared)} "
                f"only; prepare it again with motion splits that include '{split}'"
            )
        arrays = [
            torch.from_numpy(self._array(f"motion_{split}_{key}.npy"))
            for key in ("pose_body", "root_orient", "trans")
        ]
        out = []
        for entry in self.manifest["sequences"][split]:
            part = slice(entry["offset"], entry["offset"] + entry["length"])
            pose, root, trans = (a[part] for a in arrays)
            meta = {k: v for k, v in entry.items() if k not in ("offset", "length", "name")}
            sequence = MotionSequence(pose, root, trans, MOTION_FPS, entry["name"], meta)
            out.append(canonicalize(sequence))
        if not out:
            raise self._empty_split("motion", split, MOTION_SPLITS[split])
        return out

    def _empty_split(self, kind: str, split: str, sub_datasets: tuple[str, ...]) -> InputError:
        """The one-line error for a split the user's AMASS copy has nothing in."""
        return InputError(
            f"the prepared AMASS folder {self.root} has an empty {kind} split '{split}': its "
            f"sub-datasets ({', '.join(sub_datasets)}) were not in the AMASS copy it was prepared "
            "from; download at least one of them and run 'posebench data prepare amass' again"
        )

    @property
    def provenance(self) -> dict[str, Any]:
        """AMASS citation, the prepared folder, the seed and which sub-datasets each split has."""
        counts = self.manifest["counts"]
        return {
            "source": "AMASS",
            "citation": (
                "N. Mahmood, N. Ghorbani, N. F. Troje, G. Pons-Moll, M. J. Black: AMASS: Archive "
                "of Motion Capture as Surface Shapes. ICCV 2019 (also cite each sub-dataset used)"
            ),
            "url": AMASS_URL,
            "licence": "AMASS licence (non-commercial research); not redistributed by posebench",
            "prepared": str(self.root),
            "prepared_with": self.manifest.get("posebench_version"),
            "seed": self.manifest.get("seed"),
            "pose_splits": "VPoser / Pose-NDF (posebench.datasets.amass.POSE_SPLITS)",
            "motion_splits": "HuMoR (posebench.datasets.amass.MOTION_SPLITS)",
            "pose_sub_datasets": {s: sorted(counts["poses"].get(s, {})) for s in SPLITS},
            "motion_sub_datasets": {s: sorted(counts["sequences"].get(s, {})) for s in SPLITS},
            "body_models": self.manifest.get("model_types", {}),
        }

    def describe(self) -> list[dict[str, Any]]:
        """One record per motion file read when preparing: its sub-dataset, frames, rate and
        pose split (AMASS has no motion-kind labels: ``motion`` names the sub-dataset).
        """
        motion_split = {
            entry.get("file_id"): split
            for split, entries in self.manifest.get("sequences", {}).items()
            for entry in entries
        }
        out = []
        for k, entry in enumerate(self.manifest.get("files", [])):
            fps = float(entry["fps"])
            out.append(
                {
                    "id": entry["path"],
                    "source": "AMASS",
                    "package": f"AMASS/{entry['dataset']}",
                    "file": entry["path"],
                    "licence": "AMASS licence (non-commercial research)",
                    "motion": f"{entry['dataset']} (not labelled)",
                    "frames": int(entry["frames"]),
                    "fps": fps,
                    "seconds": round(int(entry["frames"]) / fps, 3),
                    "split": entry.get("pose_split"),
                    "motion_split": motion_split.get(k),
                    "model": entry.get("model"),
                }
            )
        return out

    def content_hash(self) -> str:
        """The hash of the prepared arrays and sequence index, computed when preparing."""
        return str(self.manifest["content_hash"])
