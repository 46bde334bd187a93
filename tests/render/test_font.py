"""The built-in bitmap font and the 2D drawing primitives that pictures' labels and overlays use."""

from __future__ import annotations

import numpy as np

from posebench.render.draw import draw_disc, draw_segment, tint
from posebench.render.font import (
    ADVANCE,
    GLYPH_HEIGHT,
    GLYPH_WIDTH,
    GLYPHS,
    draw_lines,
    draw_text,
    text_mask,
    text_size,
)


def test_every_glyph_is_five_by_seven_and_the_labels_characters_have_one():
    assert all(g.shape == (GLYPH_HEIGHT, GLYPH_WIDTH) for g in GLYPHS.values())
    for char in "0123456789abcdefghijklmnopqrstuvwxyzE.=- +#:()/%,?":
        assert char in GLYPHS
    ink = {char: int(g.sum()) for char, g in GLYPHS.items()}
    assert ink[" "] == 0 and all(n > 0 for char, n in ink.items() if char != " ")
    bitmaps = [g.tobytes() for g in GLYPHS.values()]
    assert len(set(bitmaps)) == len(bitmaps)  # no two characters look alike


def test_text_is_glyphs_side_by_side_scaled_and_unknown_characters_are_question_marks():
    mask = text_mask("d=0.5")
    assert mask.shape == text_size("d=0.5")[::-1] == (7, 5 * ADVANCE - 1)
    np.testing.assert_array_equal(mask[:, 2 * ADVANCE : 2 * ADVANCE + 5], GLYPHS["0"])
    assert not mask[:, ADVANCE - 1].any()  # a blank column between characters
    big = text_mask("7", scale=3)
    np.testing.assert_array_equal(big[::3, ::3], GLYPHS["7"])
    np.testing.assert_array_equal(text_mask("Q"), GLYPHS["?"])


def test_text_is_drawn_in_place_clipped_and_over_a_box():
    image = np.full((12, 20, 3), 200, np.uint8)
    width, height = draw_text(image, "12", 1, 2, colour=(10, 20, 30), box=(255, 255, 255))
    assert (width, height) == (11 + 2, 7 + 2)  # text plus a margin of one pixel
    ink = (image == (10, 20, 30)).all(axis=-1)
    np.testing.assert_array_equal(ink[2:9, 1:6], GLYPHS["1"])
    assert (image[1, 0] == 255).all() and (image[11, 19] == 200).all()  # box, untouched
    draw_text(image, "888", 15, 8)  # runs off the right and bottom edges: clipped, no error
    draw_text(image, "8", -3, -4)
    lines = np.full((30, 20, 3), 255, np.uint8)
    draw_lines(lines, ["1", "2"], 0, 0)
    np.testing.assert_array_equal((lines[8:15, 0:5] == 0).all(axis=-1), GLYPHS["2"])


def test_segments_discs_and_tints():
    image = np.zeros((20, 20, 3), np.uint8)
    draw_segment(image, (2.5, 10.5), (17.5, 10.5), 1.0, (255, 0, 0))
    red = (image == (255, 0, 0)).all(axis=-1)
    assert red[10, 2:18].all() and not red[13].any() and not red[10, 0]
    draw_disc(image, (5.0, 5.0), 2.0, (0, 255, 0))
    green = (image == (0, 255, 0)).all(axis=-1)
    assert green[4:6, 4:6].all() and not green[0, 0] and 9 <= green.sum() <= 16
    draw_segment(image, (np.nan, 0.0), (1.0, 1.0), 3.0, (1, 1, 1))  # NaN: nothing drawn
    mask = np.zeros((20, 20), bool)
    mask[0, 0] = True
    tint(image, mask, np.array([1.0, 1.0, 1.0]), 0.5)
    assert tuple(image[0, 0]) == (128, 128, 128) and tuple(image[0, 1]) == (0, 0, 0)
