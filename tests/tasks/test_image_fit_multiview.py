"""Image fitting on the real photographs (``image_fit@multiview``): the run on the shipped
recording, its frames, its floor row and the leaderboard's pictures of the fits."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import roma
import torch

import posebench
from posebench.core.progress import NullProgress
from posebench.leaderboard.fits import fit_rows
from posebench.render.png import decode_png
from posebench.tasks.image_fit import ImageFitTask
from posebench.tasks.image_fit_multiview import (
    FLOOR_ROW,
    REFERENCE_ROW,
    _view_disagreement,
    body_floor_mm,
    evaluated_frames,
)
from posebench.tasks.metrics import procrustes_align

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def quick_run(body):
    task = ImageFitTask()
    config = task.config("multiview", quick=True)
    prior = posebench.load_prior("none")
    return task.run(prior, None, body, config, torch.device("cpu"), 0, NullProgress()), config


def test_quick_run_scores_every_view_against_the_reference(quick_run):
    run, _ = quick_run
    metrics, details = run.metrics, run.details
    frames = details["frames"]
    assert len(frames) == 3 and details["views"] == 4 * len(frames)  # 1 frame + 2 pictured
    assert metrics["kp2d_error_px"] < 40 and 0 < metrics["pa_mpjpe_mm"] < metrics["mpjpe_mm"]
    assert 0 <= metrics["failure_rate"] <= 100 and metrics["view_disagreement_mm"] > 0
    assert metrics["kp2d_error_clean_px"] is None and metrics["mpvpe_mm"] is None
    scored = details["per_view"]["scored_keypoints"]
    assert all(15 <= n <= 22 for n in scored)  # Neck, hips ignored; BlazePose has no small toes
    assert details["triangulation"]["kept_share"] >= 0.9
    reference = run.data_rows[REFERENCE_ROW]["kp2d_error_px"]
    assert 0 < reference < 10  # the reference's own reprojection error, beside the priors
    floor = run.data_rows[FLOOR_ROW]["pa_mpjpe_mm"]
    assert 0 < floor < metrics["pa_mpjpe_mm"]
    units = run.per_unit
    assert units["unit"] == "camera" and sorted(units["values"]) == [
        "cam01", "cam02", "cam03", "cam04"
    ]  # fmt: skip
    assert all(len(v) == len(frames) for v in units["values"].values())
    assert run.arrays["picture_view"].shape == (8, 2) and run.inputs_hash


def test_evaluated_frames_step_limit_and_pictures():
    recording = SimpleNamespace(
        kept=np.array([True] * 8 + [False, True]), picture_frames=np.array([3, 8])
    )
    config = {"multiview": {"frame_step": 2, "max_frames": None}}
    assert evaluated_frames(recording, config) == [0, 2, 3, 4, 6, 9]  # 9: the 9th kept frame
    config = {"multiview": {"frame_step": 1, "max_frames": 2}}
    assert evaluated_frames(recording, config) == [0, 3, 9]


def test_the_floor_is_near_zero_for_the_bodys_own_keypoints(body):
    generator = torch.Generator().manual_seed(0)
    pose = 0.3 * torch.randn(2, 21, 3, generator=generator)
    with torch.no_grad():
        keypoints = body.forward_skeleton(pose).body25
        turned = 1.3 * keypoints @ roma.random_rotmat(generator=generator).T + 0.5
    scored = torch.ones(2, 25, dtype=torch.bool)
    exact = body_floor_mm(body, turned, scored, steps=300)
    noisy = turned + 0.03 * torch.randn(turned.shape, generator=generator)
    assert exact.max() < 10.0
    assert body_floor_mm(body, noisy, scored, steps=300).min() > exact.max()


def test_views_that_agree_do_not_disagree():
    fitted = torch.randn(1, 25, 3).repeat(4, 1, 1)
    items = [(5, 0), (5, 1), (7, 0), (7, 1)]
    fitted[2:] += torch.randn(1, 25, 3)  # frame 7: another skeleton, the same in both views
    scored = torch.ones(4, 25, dtype=torch.bool)
    assert torch.allclose(_view_disagreement(fitted, scored, items), torch.zeros(2), atol=1e-3)
    fitted[3] = procrustes_align(torch.randn(1, 25, 3), fitted[2:3])[0]
    assert _view_disagreement(fitted, scored, items)[1] > 100


def test_the_leaderboard_draws_the_fits_over_the_photographs(quick_run, body, tmp_path):
    run, _ = quick_run
    path = tmp_path / "seed0.npz"
    np.savez(path, **run.arrays)
    (row,) = fit_rows({"none": path, "gmm": tmp_path / "missing.npz"}, body, ["gmm", "none"])
    picture = decode_png(row.png)
    assert row.prior == "none" and picture.shape[0] == 256 and picture.shape[1] >= 4 * 128
    assert picture.std() > 20  # a photograph, not a blank canvas
    path.with_suffix(".json").write_text(json.dumps({"details": run.details}))
    (labelled,) = fit_rows({"none": path}, body, ["none"])  # each view's PA-MPJPE written on it
    changed = (decode_png(labelled.png) != picture).any(axis=2)
    assert 0 < changed.mean() < 0.05 and changed[:40].mean() > changed[40:].mean()
