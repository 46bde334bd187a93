"""Leaderboard tables: ranks, best marks, units and arrows, warnings for mixed results."""

from __future__ import annotations

import base64
import re

import pytest
import torch

import posebench
from posebench.core.npzio import write_npz
from posebench.leaderboard import BOLD, collect_results, leaderboard_tables, render
from posebench.render import decode_png
from posebench.results import ResultRecord

METRICS = {
    "mpjpe_mm": {"unit": "mm", "higher_is_better": False},
    "recall": {"unit": "", "higher_is_better": True},
}


def write(out, prior, seed, mpjpe, recall, version="1", size="full"):
    return ResultRecord(
        prior={"name": prior, "version": "1"},
        task={
            "name": "denoise",
            "version": version,
            "protocol": "humor",
            "main_metric": "mpjpe_mm",
            "metrics": METRICS,
        },
        dataset={"name": "embedded", "content_hash": "abcdef0123456789"},
        body_model={"name": "anny"},
        seed=seed,
        size=size,
        device={"type": "cpu"},
        metrics={"mpjpe_mm": mpjpe, "recall": recall},
    ).write(out)


def test_ranks_best_marks_and_columns(tmp_path):
    for seed, (a, b) in enumerate([(10.0, 20.0), (12.0, 22.0)]):
        write(tmp_path, "posendf", seed, a, 0.5)
        write(tmp_path, "none", seed, b, 0.9)
    (board,) = leaderboard_tables(collect_results(tmp_path))
    assert list(board.display["prior"]) == ["posendf", "none"]
    assert list(board.display.columns) == ["prior", "rank", "denoise@humor mpjpe_mm (mm) ↓ ★"]
    detail = board.per_task["denoise@humor"]
    assert list(detail.columns) == [
        "prior", "rank", "denoise@humor mpjpe_mm (mm) ↓ ★", "denoise@humor recall ↑",
    ]  # fmt: skip
    assert detail.iloc[0, 2] == "**11 ± 1.4 (n=2)**"
    assert detail.iloc[1, 3] == "**0.9 ± 0 (n=2)**"  # higher recall is better
    assert board.warnings == []
    assert "content abcdef012345" in board.caption and "denoise@humor v1" in board.caption
    csv = render([board], "csv").splitlines()
    assert csv[0].startswith("prior,task,metric,unit,higher_is_better,main,mean,std,n,rank")
    assert len(csv) == 5


def test_quick_and_full_are_separate_tables_and_mixing_is_reported(tmp_path):
    write(tmp_path, "posendf", 0, 10.0, 0.5)
    write(tmp_path, "none", 0, 20.0, 0.9, version="2")
    write(tmp_path, "none", 1, 20.0, 0.9, version="2")
    write(tmp_path, "none", 0, 30.0, 0.1, size="quick")
    boards = leaderboard_tables(collect_results(tmp_path))
    assert [b.size for b in boards] == ["full", "quick"]
    warnings = " ".join(boards[0].warnings)
    assert "mixes task versions 1, 2" in warnings
    assert "different seeds per prior" in warnings
    md = render(boards, "md")
    assert "> ⚠ denoise@humor mixes task versions 1, 2" in md
    assert "<table" in render(boards, "html")


def write_sample(out, prior, seed, fid, poses=None):
    """A sample-task result, with its kept samples beside it when ``poses`` is given."""
    path = ResultRecord(
        prior={"name": prior, "version": "1"},
        task={
            "name": "sample",
            "version": "1",
            "protocol": "default",
            "main_metric": "fid",
            "metrics": {"fid": {"unit": "", "higher_is_better": False}},
        },
        dataset={"name": "embedded", "content_hash": "abcdef0123456789"},
        body_model={"name": "anny"},
        seed=seed,
        size="full",
        device={"type": "cpu"},
        metrics={"fid": fid},
    ).write(out)
    if poses is not None:
        write_npz(path.with_suffix(".npz"), {"pose_body": poses.reshape(len(poses), 63)}, {})


def test_html_page_has_tables_charts_and_pictures_of_samples(tmp_path):
    pytest.importorskip("matplotlib")  # the charts need the 'report' extra
    for seed, (a, b) in enumerate([(10.0, 20.0), (12.0, 22.0)]):
        write(tmp_path, "posendf", seed, a, 0.5)
        write(tmp_path, "none", seed, b, 0.9)
    poses = 0.3 * torch.randn(10, 21, 3, generator=torch.Generator().manual_seed(0))
    write_sample(tmp_path, "posendf", 0, 5.0)  # seed 0 kept nothing: seed 1's samples are used
    write_sample(tmp_path, "posendf", 1, 6.0, poses.numpy())
    write_sample(tmp_path, "none", 0, 50.0, poses[:3].numpy())
    (board,) = leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"])
    files = board.arrays["sample@default"]
    assert files["posendf"].name == "seed1.npz" and files["none"].name == "seed0.npz"

    assert "data:image/png" not in render([board], "html")  # no body model given: no pictures
    page = render([board], "html", body_model=posebench.load_body_model)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<b>11 ± 1.4 (n=2)</b>" in page and "**" not in page
    assert page.count("<svg") == 2  # one chart per task
    assert "mpjpe_mm (mm) ★" in page and "↓ better" in page
    pictures = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(pictures) == 2  # one row per prior with samples, in leaderboard order
    first = decode_png(base64.b64decode(pictures[0]))
    assert first.shape == (144, 8 * 144 + 7 * 4, 3)  # posendf: 8 of its 10 samples
    assert decode_png(base64.b64decode(pictures[1])).shape[1] == 3 * 144 + 2 * 4
    assert page.index("the first 8 samples") < page.index("the first 3 samples")


def test_html_page_without_matplotlib_still_has_tables(tmp_path, monkeypatch, capsys):
    from posebench.cli.main import main
    from posebench.leaderboard import plots

    write(tmp_path, "posendf", 0, 10.0, 0.5)
    monkeypatch.setattr(plots, "matplotlib_available", lambda: False)
    out = tmp_path / "board.html"
    assert main(["leaderboard", "--results", str(tmp_path), "--out", str(out)]) == 0
    page = out.read_text()
    assert "<table" in page and "<svg" not in page and "posebench[report]" in page
    assert "no charts" in capsys.readouterr().err
