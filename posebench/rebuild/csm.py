"""Character Studio Motion (``.csm``) marker file reader.

The format (3ds Max Character Studio's optical marker text format, as Vicon IQ writes it):

* header lines ``$Keyword value`` (``$Filename``, ``$Date``, ``$Time``, ``$Actor``,
  ``$Comments``, ``$FirstFrame``, ``$LastFrame``, ``$Rate``, ...); a keyword with nothing after it
  takes the lines that follow it up to the next ``$`` line (``$Comments``, and usually
  ``$Order``);
* ``$Order``: the marker names, in the order their coordinates appear in each row;
* ``$Points``: one row per frame, the frame number then ``x y z`` for every marker, or the single
  word ``DROPOUT`` in place of the three values of a marker that was not seen.

Coordinates are millimetres in 3ds Max's world, whose vertical axis is z. :func:`read_csm`
returns metres in posebench's axes (y up) through one fixed proper rotation,
:data:`CSM_TO_POSEBENCH`; which way the subject faces is left as captured (see
:func:`posebench.rebuild.markers.face_forward`). Missing markers are NaN (see
:attr:`Markers.visible`); frames absent from the numbering are rows of NaN, so row ``i`` is always
frame ``first_frame + i``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.source import file_error

#: Metres per CSM length unit (millimetres).
CSM_UNIT = 0.001
#: CSM world axes (z up) -> posebench axes (y up): (x, y, z) -> (x, z, -y), a proper rotation
#: (-90° about x), so left/right are kept and a subject facing -y in the file faces +z.
CSM_TO_POSEBENCH = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
#: The word a CSM row writes in place of the x y z of a marker that was not seen.
DROPOUT = "DROPOUT"


@dataclass(frozen=True)
class Markers:
    """Marker trajectories: ``positions[f, m]`` in metres, posebench axes, NaN where missing."""

    names: tuple[str, ...]
    positions: np.ndarray  # (F, M, 3)
    fps: float
    first_frame: int = 1
    header: Mapping[str, str] = field(default_factory=dict)
    path: str = ""

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    @property
    def visible(self) -> np.ndarray:
        """(F, M) bool: the marker was seen in that frame (not a dropout or a missing frame)."""
        return np.isfinite(self.positions).all(axis=-1)

    @property
    def frame_numbers(self) -> np.ndarray:
        """(F,) frame numbers as the file counts them."""
        return self.first_frame + np.arange(self.n_frames)

    def index(self, name: str) -> int:
        """Column of a marker, or a one-line error naming the file."""
        try:
            return self.names.index(name)
        except ValueError:
            raise InputError(
                f"{self.path or 'marker data'}: has no marker '{name}' (it has "
                f"{', '.join(self.names)})"
            ) from None

    def get(self, name: str) -> np.ndarray:
        """(F, 3) trajectory of one marker."""
        return self.positions[:, self.index(name)]

    def rotated(self, rotation: np.ndarray) -> Markers:
        """The same markers with one fixed rotation (3, 3) applied to every position."""
        return Markers(
            names=self.names,
            positions=self.positions @ np.asarray(rotation, dtype=np.float64).T,
            fps=self.fps,
            first_frame=self.first_frame,
            header=self.header,
            path=self.path,
        )


# --------------------------------------------------------------------------- parsing


_error = file_error


def _sections(path: Path, text: str) -> dict[str, tuple[int, list[tuple[int, str]]]]:
    """``$Keyword`` -> (its line, [(line, text)] of its value and the lines up to the next one)."""
    sections: dict[str, tuple[int, list[tuple[int, str]]]] = {}
    current: list[tuple[int, str]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("$"):
            key, _, rest = line[1:].partition(" ")
            key = key.strip().lower()
            if not key:
                raise _error(path, number, "a '$' with no keyword after it")
            if key in sections:
                raise _error(path, number, f"${key} appears twice")
            current = [(number, rest.strip())] if rest.strip() else []
            sections[key] = (number, current)
        elif current is None:
            raise _error(path, number, "text before the first $keyword; is this a .csm file?")
        else:
            current.append((number, line))
    return sections


def _number(path: Path, sections: dict, key: str, kind: type) -> float | int | None:
    """The value of a one-number header such as $Rate or $FirstFrame, or None when absent."""
    if key not in sections:
        return None
    line, body = sections[key]
    text = " ".join(t for _, t in body)
    try:
        value = kind(text)
    except ValueError:
        raise _error(path, line, f"${key} must be one number, not {text!r}") from None
    if not np.isfinite(value):
        raise _error(path, line, f"${key} must be finite, not {text!r}")
    return value


def _names(path: Path, sections: dict) -> tuple[str, ...]:
    if "order" not in sections:
        raise _error(
            path, None, "no $Order line naming the markers; is this a Character Studio .csm file?"
        )
    line, body = sections["order"]
    names = tuple(token for _, text in body for token in text.split())
    if not names:
        raise _error(path, line, "$Order names no markers")
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise _error(path, line, f"marker {duplicate!r} is named twice in $Order")
    return names


def _row(
    path: Path, line: int, tokens: list[str], names: tuple[str, ...]
) -> tuple[int, np.ndarray]:
    """(frame number, (M, 3) millimetres with NaN for dropouts) from one $Points row."""
    try:
        frame = int(tokens[0])
    except ValueError:
        raise _error(path, line, f"frame number {tokens[0]!r} is not an integer") from None
    values = np.full((len(names), 3), np.nan)
    position, count = 1, len(tokens)
    for m, name in enumerate(names):
        if position >= count:
            raise _error(
                path,
                line,
                f"frame {frame} has values for {m} of {len(names)} markers (stops before "
                f"{name}); each marker needs x y z or {DROPOUT}",
            )
        if tokens[position].upper() == DROPOUT:
            position += 1
            continue
        chunk = tokens[position : position + 3]
        if len(chunk) < 3:
            raise _error(
                path,
                line,
                f"frame {frame} ends inside marker {name} ({len(chunk)} of its 3 values); each "
                f"marker needs x y z or {DROPOUT}",
            )
        try:
            values[m] = [float(t) for t in chunk]
        except ValueError:
            raise _error(
                path,
                line,
                f"frame {frame} has a non-numeric value for marker {name} in {' '.join(chunk)!r}",
            ) from None
        if not np.isfinite(values[m]).all():
            raise _error(path, line, f"frame {frame} has a non-finite value for marker {name}")
        position += 3
    if position != count:
        raise _error(
            path,
            line,
            f"frame {frame} has {count - position} values more than its {len(names)} markers "
            f"take; each marker needs x y z or {DROPOUT}",
        )
    return frame, values


def _points(path: Path, sections: dict, names: tuple[str, ...]) -> tuple[int, np.ndarray]:
    """(first frame number, (F, M, 3) millimetres) from $Points, gaps in the numbering NaN."""
    if "points" not in sections:
        raise _error(path, None, "no $Points section with the marker rows; is the file truncated?")
    start, body = sections["points"]
    if not body:
        raise _error(path, start, "$Points has no frames")
    frames: list[tuple[int, np.ndarray]] = []
    for line, text in body:
        number, values = _row(path, line, text.split(), names)
        if frames and number <= frames[-1][0]:
            raise _error(
                path,
                line,
                f"frame {number} comes after frame {frames[-1][0]}; frame numbers must increase",
            )
        frames.append((number, values))
    first = frames[0][0]
    positions = np.full((frames[-1][0] - first + 1, len(names), 3), np.nan)
    for number, values in frames:
        positions[number - first] = values
    return first, positions


def read_csm(path: str | Path) -> Markers:
    """Read a Character Studio marker file: trajectories in metres, posebench axes (y up)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    sections = _sections(path, text)
    names = _names(path, sections)
    rate = _number(path, sections, "rate", float)
    if rate is None or not rate > 0:
        raise _error(path, None, "needs a positive $Rate (frames per second), e.g. '$Rate 120'")
    first, positions = _points(path, sections, names)
    last = first + len(positions) - 1
    for key, value in (("firstframe", first), ("lastframe", last)):
        declared = _number(path, sections, key, int)
        if declared is not None and declared != value:
            raise _error(
                path,
                sections[key][0],
                f"${key} says {declared} but the rows run from frame {first} to {last}; "
                "is the file truncated?",
            )
    header = {
        key: "\n".join(text for _, text in body)
        for key, (_, body) in sections.items()
        if key not in ("order", "points")
    }
    return Markers(
        names=names,
        positions=positions * CSM_UNIT @ CSM_TO_POSEBENCH.T,
        fps=float(rate),
        first_frame=first,
        header=header,
        path=str(path),
    )
