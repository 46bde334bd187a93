"""benchmarks/gpu/run.sh, the one command a GPU session runs, checked on the CPU (--dry-run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "run.sh"
SECTIONS = ("matmul", "projection", "training", "knn", "suite")
HANG_GUARD_S = 1800  # only against a hung child blocking CI; not a speed requirement


def run_script(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable}
    env.pop("POSEBENCH_CUDA_TESTS_DEVICE", None)
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=HANG_GUARD_S)  # fmt: skip


@pytest.mark.slow
def test_dry_run_runs_the_cuda_tests_and_every_measurement(tmp_path):
    done = run_script("--dry-run", out=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    log = (tmp_path / "cuda_tests.log").read_text()
    assert " passed" in log and "failed" not in log and "error" not in log.lower(), log[-2000:]
    figures = json.loads((tmp_path / "gpu_figures.json").read_text())
    assert not [key for key in figures if key.endswith("_error")], figures
    assert set(SECTIONS) <= figures.keys() and figures["device"]["dry_run"] is True
    projection = figures["projection"]
    assert {row["precision"] for row in projection["rows"]} == {"fp32", "bf16"}
    assert all(row["posebench_poses_s"] > 0 for row in projection["rows"])
    assert any("official_poses_s" in row for row in projection["rows"])
    assert projection["flops_per_pose_step"] > 1e5  # the distance network's products at least
    assert all(row["samples_s"] > 0 for row in figures["training"]["rows"])
    assert {row["search"] for row in figures["knn"]["rows"]} == {"exact", "candidates"}
    assert figures["suite"]["runs"] > 0 and figures["suite"]["wall_s"] > 0
    table = (tmp_path / "gpu_figures.md").read_text()
    for line in ("| projection", "| 5-NN exact", "| suite", "matrix-multiply floor"):
        assert line in table, table


def test_refuses_without_cuda_or_with_an_unknown_option(tmp_path):
    done = run_script("--fast", out=tmp_path)
    assert done.returncode == 2 and "unknown option '--fast'" in done.stderr
    if torch.cuda.is_available():
        return
    done = run_script(out=tmp_path)
    assert done.returncode == 2 and "no CUDA device here" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
