"""Leaderboard tables: ranks, best marks, units and arrows, warnings for mixed results."""

from __future__ import annotations

from posebench.benchmark.results import ResultRecord
from posebench.leaderboard import collect_results, leaderboard_tables, render

METRICS = {
    "mpjpe_mm": {"unit": "mm", "higher_is_better": False},
    "recall": {"unit": "", "higher_is_better": True},
}


def write(out, prior, seed, mpjpe, recall, version="1", size="full"):
    ResultRecord(
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
