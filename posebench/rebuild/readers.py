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
from posebench.rebuild.source import SourceClip, SourceProfile


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


def _stretches(mask: np.ndarray) -> list[list[int]]:
    """[start, stop) frame ranges where ``mask`` is true."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2], strict=True)]


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
    dropped = [{"frames": span, "reason": reason} for span in _stretches(bad)]
    notes = {"kept": _stretches(~bad), "joined": "the kept stretches follow each other in the clip"}
    return SourceRead(clip.select(~bad), rom_take.ROM_PROFILE, clip.n_frames, dropped, notes)


READERS: dict[str, Callable[[ClipSource, dict[str, Path]], SourceRead]] = {
    "asfamc": _asfamc,
    "bvh": _bvh,
    "deepmimic": _deepmimic,
    "rom": _rom,
}


def read_source(source: ClipSource, paths: dict[str, Path]) -> SourceRead:
    """Read a catalogued clip from its extracted files."""
    reader = READERS.get(source.reader)
    if reader is None:
        raise InputError(f"clip {source.id}: no reader '{source.reader}' in this posebench")
    return reader(source, paths)
