"""The published leaderboard is what its committed results make, and those results come from one
commit with a clean tree, the one its README names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import cli

BOARD = Path(__file__).resolve().parents[2] / "leaderboard"
RESULTS = BOARD / "results"

pytestmark = pytest.mark.skipif(not RESULTS.is_dir(), reason="no committed leaderboard here")


def test_every_committed_result_comes_from_one_clean_commit_the_readme_names():
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.rglob("seed*.json"))]
    assert records
    commits = {(r["git"]["commit"], r["git"]["dirty"]) for r in records}
    assert len(commits) == 1, commits
    ((commit, dirty),) = commits
    assert dirty is False
    assert f"commit {commit[:7]}" in (BOARD / "README.md").read_text()


@pytest.mark.parametrize(("form", "name"), [("md", "LEADERBOARD.md"), ("csv", "leaderboard.csv")])
def test_the_committed_tables_are_regenerated_from_the_committed_results(
    capsys, tmp_path, form, name
):
    out = tmp_path / name
    code, _, err = cli(capsys, "leaderboard", "--results", str(RESULTS), "--format", form,
                           "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert out.read_text() == (BOARD / name).read_text()
