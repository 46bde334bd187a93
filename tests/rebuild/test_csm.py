"""Character Studio marker (.csm) reader: header, units and axes, dropouts, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from posebench.core.errors import InputError
from posebench.rebuild.csm import CSM_TO_POSEBENCH, read_csm

CSM = """$Filename tiny.csm
$Date 2008/07/17
$Actor Someone

$Comments
General Capture
second line

$FirstFrame 5
$LastFrame 7
$Rate 120.000

$Order
A B C

$Points
5  1000.0 2000.0 3000.0  -10 20 -30  0 0 0
6  1001.0 2000.0 3000.0  DROPOUT  0 0 1
7  1002.0 2000.0 3000.0  -10 20 -30  dropout
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.csm"
    path.write_text(text)
    return path


def test_header_names_and_rate(tmp_path: Path) -> None:
    markers = read_csm(write(tmp_path, CSM))
    assert markers.names == ("A", "B", "C")
    assert markers.fps == 120.0 and markers.first_frame == 5 and markers.n_frames == 3
    assert markers.frame_numbers.tolist() == [5, 6, 7]
    assert markers.header["actor"] == "Someone"
    assert markers.header["comments"] == "General Capture\nsecond line"
    assert markers.header["filename"] == "tiny.csm"


def test_millimetres_z_up_become_metres_y_up(tmp_path: Path) -> None:
    markers = read_csm(write(tmp_path, CSM))
    # file (x, y, z) mm, z up -> (x, z, -y) m, y up: a proper rotation keeps left and right.
    np.testing.assert_allclose(markers.get("A")[0], [1.0, 3.0, -2.0])
    np.testing.assert_allclose(markers.get("B")[0], [-0.01, -0.03, -0.02])
    np.testing.assert_allclose(markers.get("A")[:, 0], [1.0, 1.001, 1.002])
    assert np.linalg.det(CSM_TO_POSEBENCH) == pytest.approx(1.0)
    np.testing.assert_allclose(CSM_TO_POSEBENCH @ [0, 0, 1], [0, 1, 0])  # file up -> y
    np.testing.assert_allclose(CSM_TO_POSEBENCH @ [0, -1, 0], [0, 0, 1])  # file -y -> +z


def test_dropouts_are_nan_and_not_visible(tmp_path: Path) -> None:
    markers = read_csm(write(tmp_path, CSM))
    assert markers.visible.tolist() == [
        [True, True, True],
        [True, False, True],
        [True, True, False],
    ]
    assert np.isnan(markers.get("B")[1]).all() and np.isnan(markers.get("C")[2]).all()
    np.testing.assert_allclose(markers.get("C")[1], [0.0, 0.001, 0.0])


def test_order_may_continue_on_its_own_lines_and_gaps_are_missing_frames(tmp_path: Path) -> None:
    text = CSM.replace("$Order\nA B C", "$Order A\nB\nC").replace("$LastFrame 7", "$LastFrame 9")
    text = text.replace("\n7  1002.0", "\n9  1002.0")
    markers = read_csm(write(tmp_path, text))
    assert markers.names == ("A", "B", "C") and markers.n_frames == 5
    assert markers.frame_numbers.tolist() == [5, 6, 7, 8, 9]
    assert not markers.visible[2:4].any()  # frames 7 and 8 are not in the file
    np.testing.assert_allclose(markers.get("A")[4, 0], 1.002)


def test_rotated_applies_one_fixed_rotation(tmp_path: Path) -> None:
    markers = read_csm(write(tmp_path, CSM))
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # +90° about y
    turned = markers.rotated(turn)
    np.testing.assert_allclose(turned.get("A")[0], [-2.0, 3.0, -1.0])
    assert turned.names == markers.names and turned.fps == markers.fps


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("$Order\nA B C\n", ""), "no \\$Order"),
        (("$Points", "$Pointz"), "no \\$Points"),
        (("-10 20 -30  0 0 0", "-10 20 -30  0 0"), "line 17: frame 5 ends inside marker C"),
        (("DROPOUT  0 0 1", "DROPOUT  0 0 1 4"), "line 18: frame 6 has 1 values more"),
        (("DROPOUT  0 0 1", "DROPOUT"), "line 18: frame 6 has values for 2 of 3 markers"),
        (("-10 20 -30  dropout", "-1x 20 -30  dropout"), "line 19: .*non-numeric .*marker B"),
        (("\n6  1001.0", "\n4  1001.0"), "line 18: frame 4 comes after frame 5"),
        (("\n7  1002.0", "\n6  1002.0"), "line 19: frame 6 comes after frame 6"),
        (("\n6  1001.0", "\n6.5  1001.0"), "line 18: frame number '6.5'"),
        (("1001.0 2000.0", "nan 2000.0"), "line 18: frame 6 has a non-finite value for marker A"),
        (("$Rate 120.000", "$Rate fast"), "line 11: \\$rate must be one number"),
        (("$Rate 120.000", "$Rate 0"), "positive \\$Rate"),
        (("$LastFrame 7", "$LastFrame 2439"), "line 10: \\$lastframe says 2439 .* truncated"),
        (("A B C", "A B A"), "marker 'A' is named twice"),
        (("$Order\nA B C", "$Order\n"), "\\$Order names no markers"),
        (("$Filename", "Filename"), "line 1: text before the first \\$keyword"),
        (("$Rate 120.000", "$Rate 120\n$Rate 60"), "\\$rate appears twice"),
    ],
)
def test_malformed_csm(tmp_path: Path, replace: tuple[str, str], message: str) -> None:
    path = write(tmp_path, CSM.replace(*replace))
    with pytest.raises(InputError, match=message) as info:
        read_csm(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_inside_a_row(tmp_path: Path) -> None:
    path = write(tmp_path, CSM[: CSM.index("dropout")])
    with pytest.raises(InputError, match="line 19: frame 7 has values for 2 of 3 markers"):
        read_csm(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read .*nope.csm"):
        read_csm(tmp_path / "nope.csm")


SOURCES = os.environ.get("POSEBENCH_SOURCES_DIR")


@pytest.mark.skipif(not SOURCES, reason="set POSEBENCH_SOURCES_DIR to a folder like /work/sources")
def test_real_thomas_fechten() -> None:
    path = Path(str(SOURCES)) / "assimp/usr/share/assimp/models/CSM/ThomasFechten.csm"
    markers = read_csm(path)
    assert markers.n_frames == 2439 and markers.fps == 120.0 and len(markers.names) == 43
    assert markers.names[:4] == ("LFHD", "RFHD", "LBHD", "RBHD") and markers.names[-1] == "RMT5"
    assert markers.visible.all()  # no dropouts in this capture
    # y is up: the head is about 1.65 m above the toes, which sit near the floor.
    assert markers.get("LFHD")[0, 1] - markers.get("LTOE")[0, 1] == pytest.approx(1.59, abs=0.02)
    # the subject faces +z at the start: front head markers ahead of the back ones.
    assert markers.get("LFHD")[0, 2] > markers.get("LBHD")[0, 2] + 0.1
