"""Viewer labels never overlap: their layout is computed in the scene, without a browser."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import posebench
from posebench.viz.frames import (
    HEAD_JOINT,
    LABEL_GAP,
    SPACING,
    build_scene,
    camera_distance,
    label_height,
    label_lifts,
    label_rows,
    label_width,
)
from posebench.viz.inputs import read_input

pytestmark = pytest.mark.usefixtures("one_thread")


def boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two (left, bottom, right, top) boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def rows_are_clear(labels: list[str], xs: list[float], height: float) -> list[int]:
    """The rows of ``label_rows``, checked: labels of one row keep the gap between them."""
    rows = label_rows(labels, xs, height)
    for i, j in itertools.combinations(range(len(labels)), 2):
        if rows[i] == rows[j]:
            reach = (label_width(labels[i], height) + label_width(labels[j], height)) / 2
            assert abs(xs[i] - xs[j]) >= reach + LABEL_GAP * height - 1e-9, (i, j, rows)
    return rows


def test_eight_long_labels_side_by_side_take_rows_that_never_overlap():
    labels = [f"projected_poses.npz #{i}" for i in range(8)]
    xs = [SPACING * i for i in range(8)]
    height = label_height(xs[-1])
    rows = rows_are_clear(labels, xs, height)
    assert max(rows) >= 1  # one row could not hold them
    assert rows[0] == 0 and rows[1] != rows[0]  # neighbours alternate
    # the same labels far apart, or short ones, stay in one row
    assert set(label_rows(labels, [10.0 * i for i in range(8)], height)) == {0}
    assert set(label_rows([f"#{i}" for i in range(8)], xs, height)) == {0}


def test_any_labels_anywhere_keep_clear_of_each_other():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 12))
        labels = ["x" * int(k) for k in rng.integers(1, 30, size=n)]
        xs = list(rng.uniform(0, 10, size=n))
        rows = rows_are_clear(labels, xs, 0.2)
        assert max(rows) < n


def test_labels_look_the_same_size_however_many_bodies():
    for width in (0.0, 1.2, 8.4, 30.0):
        assert label_height(width) / camera_distance(width) == pytest.approx(
            label_height(0.0) / camera_distance(0.0)
        )
    lifts = label_lifts(["a" * 30, "b" * 30], [0.0, 0.5], 0.1)
    assert lifts[0] < lifts[1]  # the second row is higher


def test_viewer_scene_of_eight_bodies_has_disjoint_label_boxes(body, tmp_path):
    rng = np.random.default_rng(1)
    steps = (0.2 * rng.standard_normal((3, 8, 63))).astype(np.float32)
    np.savez(tmp_path / "projected_with_a_long_name.npz", steps_pose_body=steps)
    view_input = read_input(str(tmp_path / "projected_with_a_long_name.npz"))
    assert len(view_input.bodies) == 8
    scene = build_scene([view_input], body, posebench.load_prior("none"))
    height = scene.label_height
    assert height == pytest.approx(label_height(7 * SPACING))
    for frame in range(scene.frames):
        boxes = []
        for track, position in zip(scene.tracks, scene.label_positions(frame), strict=True):
            half = label_width(track.label, height) / 2 + LABEL_GAP * height / 2
            x, bottom = float(position[0]), float(position[1])
            boxes.append((x - half, bottom, x + half, bottom + height))
            top_of_head = float(track.joints(frame)[HEAD_JOINT, 1])
            assert bottom > top_of_head + 0.2  # above the body
        for a, b in itertools.combinations(boxes, 2):
            assert not boxes_overlap(a, b)
