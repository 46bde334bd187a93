"""A suite split over shards: --shard I/N, torchrun and Slurm variables, same results as one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import posebench
from posebench.cli.main import main
from posebench.core.errors import ConfigError
from posebench.core.shards import Shard, parse_shard, shard_from_environment


def test_shards_split_the_runs_round_robin_and_together_cover_them_once():
    runs = list(range(11))
    parts = [Shard(i, 3).take(runs) for i in range(3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    assert sorted(run for part in parts for run in part) == runs


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RANK": "1", "WORLD_SIZE": "4"}, (1, 4)),
        ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"},
         (2, 3)),
        ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"}, (0, 2)),
        ({"SLURM_JOB_ID": "7"}, None),
    ],
)  # fmt: skip
def test_launchers_variables_give_the_shard(env, expected):
    shard = shard_from_environment(env)
    assert (None if shard is None else (shard.index, shard.count)) == expected


@pytest.mark.parametrize("text", ["2/2", "a/b", "1", "-1/2", "0/0"])
def test_bad_shards_are_config_errors(text):
    with pytest.raises(ConfigError, match="shard"):
        parse_shard(text)
    assert parse_shard(" 1 / 2 ") == Shard(1, 2)


def test_two_shards_write_exactly_the_unsharded_suites_results(tmp_path, monkeypatch, toy_plugin):
    args = ["suite", "--priors", "none,toy-gauss", "--tasks", "toy-energy-gap", "--seeds", "0,1,2",
            "--dataset", "toy-poses", "--body-model", "toy-stick", "--quick", "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    for rank in ("0", "1"):  # the variables torchrun sets for two processes
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("WORLD_SIZE", "2")
        assert main([*args, "--out", str(tmp_path / "sharded")]) == 0
    one = result_metrics(tmp_path / "one")
    assert len(one) == 6 and result_metrics(tmp_path / "sharded") == one


def result_metrics(folder: Path) -> dict[str, dict]:
    return {
        str(path.relative_to(folder)): json.loads(path.read_text())["metrics"]
        for path in folder.rglob("seed*.json")
    }


@pytest.mark.slow
def test_a_suite_launched_by_torchrun_writes_the_unsharded_results(tmp_path):
    """Two processes started by torchrun itself (as on a multi-GPU machine; here on the CPU)
    take the two shards from its variables and together write the one-process suite's files."""
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    args = ["suite", "--priors", "none,gmm", "--tasks", "interpolate,sample", "--seeds", "0,1",
            "--device", "cpu", "--quick", "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    root = str(Path(posebench.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}  # fmt: skip
    for variable in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_ARRAY_TASK_ID"):
        env.pop(variable, None)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
               "2", "-m", "posebench", *args, "--out", str(tmp_path / "two")]  # fmt: skip
    for _ in range(2):  # one retry: a busy shared machine can fail torchrun's rendezvous
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stderr[-3000:]
    one = result_metrics(tmp_path / "one")
    assert len(one) == 8 and result_metrics(tmp_path / "two") == one
