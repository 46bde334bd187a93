"""A tiny built-in 5 x 7 bitmap font, so that pictures carry labels without a font library.

Digits, lower-case letters, ``E`` and ``. , = - + # : ( ) / % ?`` and space: enough for step
numbers, distances in any float format and short legends. Characters without a glyph draw as
``?``. Text is drawn straight into (H, W, 3) uint8 arrays, clipped at the borders.
"""

from __future__ import annotations

import numpy as np

GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7
ADVANCE = GLYPH_WIDTH + 1  # one blank column between characters

# Each glyph: seven rows of five columns, '#' ink and '.' paper.
_GLYPHS: dict[str, str] = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "a": "..... ..... .###. ....# .#### #...# .####",
    "b": "#.... #.... #.##. ##..# #...# #...# ####.",
    "c": "..... ..... .###. #.... #.... #...# .###.",
    "d": "....# ....# .##.# #..## #...# #...# .####",
    "e": "..... ..... .###. #...# ##### #.... .###.",
    "f": "..##. .#..# .#... ###.. .#... .#... .#...",
    "g": "..... ..... .#### #...# .#### ....# .###.",
    "h": "#.... #.... #.##. ##..# #...# #...# #...#",
    "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
    "j": "...#. ..... ..##. ...#. ...#. #..#. .##..",
    "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
    "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "m": "..... ..... ##.#. #.#.# #.#.# #...# #...#",
    "n": "..... ..... #.##. ##..# #...# #...# #...#",
    "o": "..... ..... .###. #...# #...# #...# .###.",
    "p": "..... ..... ####. #...# ####. #.... #....",
    "q": "..... ..... .##.# #..## .#### ....# ....#",
    "r": "..... ..... #.##. ##..# #.... #.... #....",
    "s": "..... ..... .###. #.... .###. ....# ####.",
    "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
    "u": "..... ..... #...# #...# #...# #..## .##.#",
    "v": "..... ..... #...# #...# #...# .#.#. ..#..",
    "w": "..... ..... #...# #...# #.#.# #.#.# .#.#.",
    "x": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
    "y": "..... ..... #...# #...# .#### ....# .###.",
    "z": "..... ..... ##### ...#. ..#.. .#... #####",
    "E": "##### #.... #.... ####. #.... #.... #####",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    "=": "..... ..... ##### ..... ##### ..... .....",
    "-": "..... ..... ..... ##### ..... ..... .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
    " ": "..... ..... ..... ..... ..... ..... .....",
}


def _bitmap(rows: str) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows.split()], dtype=bool)


GLYPHS: dict[str, np.ndarray] = {char: _bitmap(rows) for char, rows in _GLYPHS.items()}


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """(7 s, (6 n - 1) s) bool ink of one line of ``text``; a font pixel is ``scale`` px wide."""
    if not text:
        return np.zeros((GLYPH_HEIGHT * scale, 0), dtype=bool)
    gap = np.zeros((GLYPH_HEIGHT, 1), dtype=bool)
    parts: list[np.ndarray] = []
    for char in text:
        parts += [GLYPHS.get(char, GLYPHS["?"]), gap]
    mask = np.concatenate(parts[:-1], axis=1)
    return mask.repeat(scale, axis=0).repeat(scale, axis=1)


def text_size(text: str, scale: int = 1) -> tuple[int, int]:
    """(width, height) in pixels of one line of ``text`` at ``scale``."""
    return max(len(text) * ADVANCE - 1, 0) * scale, GLYPH_HEIGHT * scale


def draw_text(
    image: np.ndarray,
    text: str,
    x: int,
    y: int,
    scale: int = 1,
    colour: tuple[int, int, int] = (0, 0, 0),
    box: tuple[int, int, int] | None = None,
) -> tuple[int, int]:
    """Draw one line of ``text`` with its top-left corner at (x, y) into ``image`` (H, W, 3)
    uint8, in place; ``box`` fills a margin of ``scale`` pixels around it first, so the text
    reads over a busy picture. Returns the (width, height) taken, box included."""
    ink = text_mask(text, scale)
    pad = scale if box is not None else 0
    if box is not None:
        ink = np.pad(ink, pad)
    height, width = ink.shape
    x0, y0 = x - pad, y - pad
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y0 + height, image.shape[0]), min(x0 + width, image.shape[1])
    if top < bottom and left < right:
        window = image[top:bottom, left:right]
        part = ink[top - y0 : bottom - y0, left - x0 : right - x0]
        if box is not None:
            window[:] = box
        window[part] = colour
    return width, height


def draw_lines(
    image: np.ndarray,
    lines: list[str],
    x: int,
    y: int,
    scale: int = 1,
    colour: tuple[int, int, int] = (0, 0, 0),
    box: tuple[int, int, int] | None = None,
) -> None:
    """Draw ``lines`` below one another from (x, y), as :func:`draw_text` draws one line."""
    for line in lines:
        _, height = draw_text(image, line, x, y, scale, colour, box)
        y += height + scale
