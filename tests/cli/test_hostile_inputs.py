"""Hostile command lines: bad numbers and unwritable output paths are one usage line, status 2,
refused before any work, with nothing written; boundary values still run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runner import cli

from posebench.datasets.pose_files import write_poses

BIG = "99999999999999999999"  # > 2**64: overflowed torch's seeding before the parser checked it


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A folder with a pose file of two pairs, a motion, an empty folder and a regular file."""
    monkeypatch.chdir(tmp_path)
    pose = 0.3 * torch.randn(4, 21, 3, generator=torch.Generator().manual_seed(0))
    write_poses(tmp_path / "poses.npz", pose, {})
    np.savez(tmp_path / "motion.npz", pose_body=np.zeros((5, 63), np.float32))
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("a regular file\n")
    return tmp_path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


SAMPLE = ["sample", "--prior", "none", "--n", "2", "--out", "s.npz"]
PROJECT = ["project", "--prior", "none", "--input", "poses.npz", "--out", "p.npz"]
INTERPOLATE = ["interpolate", "--prior", "none", "--input", "poses.npz", "--out", "i.npz"]
RENDER = ["render", "--input", "poses.npz", "--out", "pictures", "--mode", "skeleton"]

# (command line, what the one error line must name)
BAD = [
    (["sample", "--prior", "none", "--seed", BIG, "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--seed", "-1", "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--seed", str(2**63), "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--seed", "1.5", "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--n", "0", "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", "-3", "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", "1000001", "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", BIG, "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", "2", "--out", "folder"], "folder"),
    (["sample", "--prior", "none", "--n", "2", "--out", "plain/s.npz"], "plain"),
    ([*SAMPLE, "--render", "--size", "8"], "--size"),
    ([*SAMPLE, "--render", "--azimuth", "nan"], "--azimuth"),
    ([*SAMPLE, "--render", "plain"], "plain"),
    ([*PROJECT, "--steps", "-1"], "--steps"),
    ([*PROJECT, "--steps", "1e3"], "--steps"),
    ([*PROJECT, "--tol", "nan"], "--tol"),
    ([*PROJECT, "--tol", "-0.1"], "--tol"),
    ([*PROJECT, "--tol", "inf"], "--tol"),
    (["project", "--prior", "none", "--input", "poses.npz", "--out", "folder"], "folder"),
    ([*INTERPOLATE, "--steps", "0"], "--steps"),
    ([*INTERPOLATE, "--steps", "100001"], "--steps"),
    ([*INTERPOLATE, "--step-size", "0"], "--step-size"),
    ([*INTERPOLATE, "--step-size", "-1"], "--step-size"),
    ([*INTERPOLATE, "--step-size", "nan"], "--step-size"),
    (["interpolate", "--prior", "none", "--input", "poses.npz", "--out", "folder"], "folder"),
    (["denoise", "--prior", "none", "--input", "motion.npz", "--out", "folder"], "folder"),
    (["denoise", "--prior", "none", "--input", "motion.npz", "--out", "plain/d.npz"], "plain"),
    (["export", "--task", "sample", "--quick", "--out", "folder"], "folder"),
    (["export", "--task", "sample", "--quick", "--out", "plain/x/in.npz"], "plain"),
    (["export", "--task", "sample", "--seed", BIG, "--out", "in.npz"], "--seed"),
    (["run", "--prior", "none", "--task", "sample", "--seed", "-5"], "--seed"),
    (["run", "--prior", "none", "--task", "sample", "--out", "plain"], "plain"),
    (["suite", "--seeds", "0,-1"], "--seeds"),
    (["suite", "--seeds", f"0,{BIG}"], "--seeds"),
    (["train", "--prior", "none", "--seed", BIG], "--seed"),
    (["train", "--prior", "none", "--out", "plain"], "plain"),
    (["data", "prepare", "amass", "--amass-dir", "folder", "--out", "p", "--seed", "-1"], "--seed"),
    (["data", "prepare", "amass", "--amass-dir", "folder", "--out", "plain"], "plain"),
    (["fit-image", "--prior", "none", "--images", "folder", "--out", "plain"], "plain"),
    ([*RENDER, "--frames", "1"], "--frames"),
    ([*RENDER, "--frames", "101"], "--frames"),
    ([*RENDER, "--limit", "0"], "--limit"),
    ([*RENDER, "--every", "-2"], "--every"),
    ([*RENDER, "--size", "4097"], "--size"),
    (["render", "--input", "poses.npz", "--out", "plain"], "plain"),
]


@pytest.mark.parametrize(("argv", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_command_line_is_one_line_status_2_and_writes_nothing(capsys, workspace, argv, named):
    before = files_under(workspace)
    code, out, err = cli(capsys, *argv)
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].strip(), err
    assert named in lines[0]
    assert "Traceback" not in err and out == ""
    assert files_under(workspace) == before  # refused before any work: nothing written


@pytest.mark.parametrize(
    "argv",
    [
        [*SAMPLE[:-1], "s.npz", "--seed", "0", "--n", "1"],
        [*SAMPLE, "--seed", str(2**63 - 1)],
        [*PROJECT, "--steps", "0", "--tol", "0"],
        [*INTERPOLATE, "--steps", "1"],
    ],
    ids=["seed 0, n 1", "largest seed", "project steps 0 tol 0", "interpolate steps 1"],
)
def test_boundary_values_still_run(capsys, workspace, argv):
    code, out, err = cli(capsys, *argv)
    assert code == 0, err
    written = workspace / argv[argv.index("--out") + 1]
    assert written.is_file() and "->" in out


def test_boundary_seed_gives_the_same_poses_as_before(capsys, workspace):
    """The parser's range check passes a valid seed through unchanged."""
    from posebench.datasets.pose_files import read_poses

    for name, seed in (("a.npz", "7"), ("b.npz", "7"), ("c.npz", "8")):
        code, _, err = cli(capsys, "sample", "--prior", "none", "--n", "3", "--seed", seed,
                           "--out", name)  # fmt: skip
        assert code == 0, err
    torch.testing.assert_close(read_poses("a.npz"), read_poses("b.npz"))
    assert not torch.allclose(read_poses("a.npz"), read_poses("c.npz"))
