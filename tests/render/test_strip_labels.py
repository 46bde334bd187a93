"""Strips of projection steps and interpolation paths carry their step and, where the file has
them, the prior's distance (or energy) in each picture, in the built-in font."""

from __future__ import annotations

import numpy as np
import pytest
from cli_runner import cli

from posebench.core.npzio import write_npz
from posebench.render import decode_png
from posebench.render.files import step_label
from posebench.render.font import text_mask
from posebench.render.scene import LABEL_COLOUR

pytestmark = pytest.mark.usefixtures("one_thread")

SIZE, GAP = 64, 4  # pictures of 64 px: labels at font scale 1, from (2, 2)
L_SHOULDER = 15
STEPS, POSES = 11, 2


def steps_file(path, prior: str, energies: bool = True) -> None:
    steps = np.zeros((STEPS, POSES, 63), np.float32)
    steps[:, :, L_SHOULDER * 3 + 2] = np.linspace(-1.3, 0, STEPS)[:, None]
    arrays = {"pose_body": steps[-1], "steps_pose_body": steps}
    if energies:
        arrays["steps_energy"] = energy_table()
    write_npz(path, arrays, {"prior": prior})


def energy_table() -> np.ndarray:
    """(S, K): 0.5 / (s + 1) + k, so every step and pose has its own value."""
    return (0.5 / (np.arange(STEPS)[:, None] + 1) + np.arange(POSES)[None]).astype(np.float32)


def ink(picture: np.ndarray, x: int, y: int, text: str) -> np.ndarray:
    """The label colour's pixels where ``text`` would be drawn at (x, y)."""
    height, width = text_mask(text).shape
    region = picture[y : y + height, x : x + width]
    return (region == LABEL_COLOUR).all(axis=-1)


def pictures_of(strip_path) -> list[np.ndarray]:
    strip = decode_png(strip_path.read_bytes())
    count = (strip.shape[1] + GAP) // (SIZE + GAP)
    return [strip[:, i * (SIZE + GAP) : i * (SIZE + GAP) + SIZE] for i in range(count)]


def test_step_label_lines():
    assert step_label(3) == ["step 3"]
    assert step_label(3, 0.25) == ["step 3", "d=0.25"]
    assert step_label(12, -1234.5678, "E") == ["step 12", "E=-1.23e+03"]
    assert step_label(1, 1 / 12) == ["step 1", "d=0.0833"]


@pytest.mark.parametrize(("prior", "symbol"), [("posendf", "d"), ("gmm", "E")])
def test_projection_strips_show_step_and_distance(capsys, tmp_path, prior, symbol):
    steps_file(tmp_path / "steps.npz", prior)
    code, _, err = cli(capsys, "render", "--input", str(tmp_path / "steps.npz"),
                       "--out", str(tmp_path / "s"), "--size", str(SIZE), "--frames", "3",
                       "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    table = energy_table()
    for item in range(POSES):
        pictures = pictures_of(tmp_path / "s" / f"steps_{item:04d}.png")
        assert len(pictures) == 3
        for picture, step in zip(pictures, (0, 5, 10), strict=True):
            first, second = step_label(step, float(table[step, item]), symbol)
            np.testing.assert_array_equal(ink(picture, 2, 2, first), text_mask(first))
            np.testing.assert_array_equal(ink(picture, 2, 12, second), text_mask(second))
    grid = decode_png((tmp_path / "s" / "grid.png").read_bytes())
    np.testing.assert_array_equal(ink(grid, 2, 2, "step 0"), text_mask("step 0"))


def test_path_strips_show_the_step_only(capsys, tmp_path):
    steps = np.zeros((STEPS, 1, 63), np.float32)
    steps[:, 0, L_SHOULDER * 3 + 2] = np.linspace(-1.3, 0, STEPS)
    write_npz(tmp_path / "path.npz", {"path_pose_body": steps}, {"prior": "posendf"})
    code, _, err = cli(capsys, "render", "--input", str(tmp_path / "path.npz"),
                       "--out", str(tmp_path / "p"), "--size", str(SIZE), "--frames", "2",
                       "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    first, last = pictures_of(tmp_path / "p" / "path_0000.png")
    np.testing.assert_array_equal(ink(first, 2, 2, "step 0"), text_mask("step 0"))
    np.testing.assert_array_equal(ink(last, 2, 2, "step 10"), text_mask("step 10"))
    assert not ink(last, 2, 12, "d=0.000").any()  # no distance line


def test_steps_without_energies_show_the_step_and_bad_energies_are_one_line(capsys, tmp_path):
    steps_file(tmp_path / "plain.npz", "none", energies=False)
    code, _, err = cli(capsys, "render", "--input", str(tmp_path / "plain.npz"),
                       "--out", str(tmp_path / "s"), "--size", str(SIZE), "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    picture = pictures_of(tmp_path / "s" / "steps_0000.png")[-1]
    np.testing.assert_array_equal(ink(picture, 2, 2, "step 10"), text_mask("step 10"))

    steps = np.zeros((STEPS, POSES, 63), np.float32)
    write_npz(tmp_path / "bad.npz",
              {"steps_pose_body": steps, "steps_energy": np.zeros((STEPS, 5))}, {})  # fmt: skip
    code, _, err = cli(capsys, "render", "--input", str(tmp_path / "bad.npz"),
                       "--out", str(tmp_path / "b"), "--size", str(SIZE))  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'steps_energy' has shape (11, 5); expected (11, 2)" in err
