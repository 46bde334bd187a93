"""Pose-NDF multi-process training: torchrun with two CPU processes (gloo) matches one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import posebench
from posebench.core.seeding import derive_seed
from posebench.priors.posendf.model import build_model
from posebench.priors.posendf.prior import PoseNDFPrior
from posebench.priors.posendf.train import FINAL_FILE

# Only a guard against a hung rendezvous blocking CI forever; not a speed requirement.
HANG_GUARD_S = 1800
TOY_PLUGIN = Path(__file__).parents[1] / "plugins" / "toy_plugin.py"
OVERRIDES = {
    "model": {"dims": [32, 32]},
    "train": {"steps": 4, "batch_noisy": 32, "batch_manifold": 16, "checkpoint_every": 2,
              "log_every": 1, "val_size": 8, "lr": 1.0e-3},
    "targets": {"per_sigma": 16, "group_size": 16, "num_random": 16},
}  # fmt: skip

SCRIPT = """
import importlib.util, sys
from pathlib import Path
import torch
spec = importlib.util.spec_from_file_location("toy_plugin", {toy!r})
toy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(toy)
from posebench.priors.posendf.prior import PoseNDFPrior
prior = PoseNDFPrior({overrides!r})
config = {{**prior.config, "quick": False, "seed": 5}}
prior.fit(toy.ToyPoses(), config, Path({out!r}), torch.device("cpu"))
"""


@pytest.mark.slow
def test_two_gloo_processes_match_one(tmp_path, toy_plugin):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    one = PoseNDFPrior(OVERRIDES)
    config = {**one.config, "quick": False, "seed": 5}
    one.fit(posebench.load_dataset("toy-poses"), config, tmp_path / "one", torch.device("cpu"))

    script = tmp_path / "train_ddp.py"
    out = tmp_path / "two"
    script.write_text(SCRIPT.format(toy=str(TOY_PLUGIN), overrides=OVERRIDES, out=str(out)))
    root = str(Path(posebench.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}  # fmt: skip
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", str(script)]  # fmt: skip
    for _ in range(2):  # one retry: a busy shared machine can fail torchrun's rendezvous
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S
        )
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stderr[-3000:]

    two = posebench.load_prior("posendf", checkpoint=str(out / FINAL_FILE))
    assert two.record["processes"] == 2 and two.record["steps"] == 4
    assert two.record["batch_noisy_per_process"] == 16
    init = build_model(one.config["model"], torch.Generator().manual_seed(
        derive_seed(5, "posendf-init"))).state_dict()  # fmt: skip
    moved = 0.0
    for name, value in one.model.state_dict().items():
        other = two.model.state_dict()[name]
        torch.testing.assert_close(other, value, rtol=1e-4, atol=1e-6, msg=name)
        moved = max(moved, float((value - init[name]).abs().max()))
    assert moved > 1e-3  # training really changed the weights
