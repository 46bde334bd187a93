"""One adapter per catalogued reader: the package's files in, a :class:`SourceRead` out (the clip
after the reader's own frame rejection, its retargeting profile, and what was dropped and why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.catalogue import ClipSource
from posebench.rebuild.source import SourceClip, SourceProfile, runs


@dataclass
class SourceRead:
    """A clip ready to retarget, and the reader's account of it."""

    clip: SourceClip
    profile: SourceProfile
    source_frames: int  # frames in the file, before any were dropped
    dropped: list[dict[str, Any]] = field(default_factory=list)  # {"frames": [a, b], "reason"}
    notes: dict[str, Any] = field(default_factory=dict)


def _asfamc(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    from posebench.rebuild.asfamc import read_amc, read_asf
    from posebench.rebuild.cmu_asf import CMU_ASF_PROFILE, asf_clip

    asf = next(p for name, p in paths.items() if name.endswith(".asf"))
    skeleton = read_asf(asf)
    clip = asf_clip(skeleton, read_amc(paths[source.member], skeleton))
    return SourceRead(clip, CMU_ASF_PROFILE, clip.n_frames)


def _bvh(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    from posebench.rebuild.bvh import CGSPEED_REFERENCE_FRAMES, CMU_BVH_PROFILE, read_bvh

    clip = read_bvh(paths[source.member])
    n = CGSPEED_REFERENCE_FRAMES
    dropped = [
        {
            "frames": [0, n],
            "reason": "a reference pose the cgspeed conversion puts before the take (its frame "
            "1 matches the ASF/AMC take's first frame)",
        }
    ]
    return SourceRead(clip.select(slice(n, None)), CMU_BVH_PROFILE, clip.n_frames, dropped)


def _bvh_21(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    from posebench.rebuild.bvh import BOXING_PROFILE, parse_bvh, to_clip

    bvh = parse_bvh(paths[source.member], allow_extra_rows=True)
    clip = to_clip(bvh, length_unit=0.01)  # centimetres
    notes = {"rows_after_the_declared_frame_count": "dropped (the file declares fewer frames)"}
    return SourceRead(clip, BOXING_PROFILE, clip.n_frames, notes=notes)


def _deepmimic(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    from posebench.rebuild.deepmimic import (
        DEEPMIMIC_PROFILE,
        deepmimic_clip,
        read_deepmimic_motion,
        read_humanoid_urdf,
    )

    urdf = next(p for name, p in paths.items() if name.endswith(".urdf"))
    motion = read_deepmimic_motion(paths[source.member])
    clip = deepmimic_clip(read_humanoid_urdf(urdf), motion)
    notes: dict[str, Any] = {"loop": motion.loop}
    if motion.inserted:
        notes["inserted_frames"] = motion.inserted
        notes["inserted_why"] = (
            "a keyframe lasting a whole number of regular steps: the missing frames are "
            "interpolated (slerp), as DeepMimic plays it"
        )
    return SourceRead(clip, DEEPMIMIC_PROFILE, motion.n_frames - motion.inserted, notes=notes)


def _rom(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    from posebench.rebuild import rom_take

    clip = rom_take.read_rom_take(paths[source.member])
    bad = rom_take.recording_errors(clip)
    reason = (
        f"recording errors: a joint turning faster than {rom_take.MAX_JOINT_SPEED:g} deg/s "
        f"relative to its parent or two spine links folding more than "
        f"{rom_take.MAX_SPINE_KINK:g} deg (the pelvis and lumbar solve flips); bad frames less "
        f"than {rom_take.MERGE_GAP:g} s apart dropped as one stretch, with "
        f"{rom_take.MARGIN:g} s on each side"
    )
    dropped = [{"frames": list(span), "reason": reason} for span in runs(bad)]
    notes = {
        "kept": [list(span) for span in runs(~bad)],
        "joined": "the kept stretches follow each other in the clip",
    }
    return SourceRead(clip.select(~bad), rom_take.ROM_PROFILE, clip.n_frames, dropped, notes)


def _csm(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    from posebench.rebuild import markers as mk
    from posebench.rebuild.csm import read_csm

    faced, yaw = mk.face_forward(read_csm(paths[source.member]))
    fit = mk.fit_markers(faced)
    residual = mk.fit_residual(faced, fit)
    rejected = mk.rejected_frames(fit, residual)
    kept = runs(~rejected)
    if not kept:
        raise InputError(f"{paths[source.member]}: every frame is rejected")
    start, stop = max(kept, key=lambda run: run[1] - run[0])
    keep = np.zeros(fit.n_frames, dtype=bool)
    keep[start:stop] = True
    reason = (
        f"marker fit: RMS residual above {1000 * mk.MAX_RMS_RESIDUAL:g} mm, a marker more than "
        f"{1000 * mk.MAX_MARKER_ERROR:g} mm from its segment's rigid model (a sliding marker), "
        "or a needed marker missing"
    )
    dropped = [{"frames": list(span), "reason": reason} for span in runs(rejected)]
    dropped += [
        {"frames": list(span), "reason": "kept frames outside the longest continuous run"}
        for span in runs(~rejected & ~keep)
    ]
    kept_rms = residual.rms[keep]
    notes = {
        "turned_about_vertical_deg": round(float(np.degrees(yaw)), 2),
        "fit_rms_residual_mm": {
            "median": round(1000 * float(np.median(kept_rms)), 2),
            "p95": round(1000 * float(np.percentile(kept_rms, 95)), 2),
            "max": round(1000 * float(kept_rms.max()), 2),
        },
        "joint_centres": "hips: Harrington 2007 regression from the waist markers; knees and "
        "ankles: chord rule; shoulders below the shoulder marker; elbows at the elbow marker; "
        "wrists between the two wrist markers (posebench.rebuild.markers)",
    }
    return SourceRead(fit.clip(keep), mk.MARKER_PROFILE, fit.n_frames, dropped, notes)


READERS: dict[str, Callable[[ClipSource, dict[str, Path]], SourceRead]] = {
    "asfamc": _asfamc,
    "bvh": _bvh,
    "bvh_21": _bvh_21,
    "deepmimic": _deepmimic,
    "rom": _rom,
    "csm": _csm,
}


def profile_of(reader: str) -> SourceProfile:
    """The retargeting profile a reader's clips use."""
    from posebench.rebuild.bvh import BOXING_PROFILE, CMU_BVH_PROFILE
    from posebench.rebuild.cmu_asf import CMU_ASF_PROFILE
    from posebench.rebuild.deepmimic import DEEPMIMIC_PROFILE
    from posebench.rebuild.markers import MARKER_PROFILE
    from posebench.rebuild.rom_take import ROM_PROFILE

    profiles = {
        "asfamc": CMU_ASF_PROFILE,
        "bvh": CMU_BVH_PROFILE,
        "bvh_21": BOXING_PROFILE,
        "deepmimic": DEEPMIMIC_PROFILE,
        "csm": MARKER_PROFILE,
        "rom": ROM_PROFILE,
    }
    if reader not in profiles:
        raise InputError(f"no reader '{reader}' in this posebench")
    return profiles[reader]


def read_source(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    """Read a catalogued clip from its extracted files."""
    reader = READERS.get(source.reader)
    if reader is None:
        raise InputError(f"clip {source.id}: no reader '{source.reader}' in this posebench")
    return reader(source, paths)
