"""Pose-NDF throughput: ``python benchmarks/posendf_speed.py [--device D] [--batches ...]``.

Prints poses/s of energy+gradient, one projection step and a projection for a batch-size sweep,
next to an official-style loop (21 sequential per-joint MLPs, ``create_graph=True`` as in the
official projection) at the same precision, the max bf16 deviation, and the k-NN target speed.
The network has random weights of the published size: speed does not depend on the values.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import torch
from torch import nn

from posebench.body.base import NUM_BODY_JOINTS
from posebench.core.device import resolve_device, synchronize
from posebench.priors.posendf.model import PARENT_TABLES, PoseNDF, build_model
from posebench.priors.posendf.official import to_official_state_dict
from posebench.priors.posendf.projection import project_quaternions
from posebench.priors.posendf.quat import canonical
from posebench.priors.posendf.starts import random_starts


class OfficialStyleNet(nn.Module):
    """The official layout, evaluated the official way: 21 sequential BoneMLPs then DFNet."""

    def __init__(self, model: PoseNDF) -> None:
        super().__init__()
        state = to_official_state_dict(model.state_dict())
        self.parents = PARENT_TABLES["official_v2"]
        self.bones = nn.ModuleList()
        for j in range(NUM_BODY_JOINTS):
            w1, w2 = state[f"enc.net.{j}.net.0.weight"], state[f"enc.net.{j}.net.2.weight"]
            bone = nn.Sequential(
                nn.Linear(w1.shape[1], w1.shape[0]),
                nn.Softplus(beta=100),
                nn.Linear(w2.shape[1], w2.shape[0]),
                nn.Softplus(beta=100),
            )
            bone[0].weight.data, bone[0].bias.data = w1, state[f"enc.net.{j}.net.0.bias"]
            bone[2].weight.data, bone[2].bias.data = w2, state[f"enc.net.{j}.net.2.bias"]
            self.bones.append(bone)
        self.lins = nn.ModuleList()
        layer = 0
        while f"dfnet.lin{layer}.weight" in state:
            w = state[f"dfnet.lin{layer}.weight"]
            lin = nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data, lin.bias.data = w, state[f"dfnet.lin{layer}.bias"]
            self.lins.append(lin)
            layer += 1
        self.act = nn.Softplus(beta=100)

    def forward(self, quat: torch.Tensor) -> torch.Tensor:
        feats: list[torch.Tensor] = []
        for j, parent in enumerate(self.parents):
            x = quat[:, j] if parent < 0 else torch.cat([quat[:, j], feats[parent]], dim=1)
            feats.append(self.bones[j](x))
        x = torch.cat(feats, dim=1)
        for lin in self.lins:
            x = self.act(lin(x))
        return x


def official_style_project(net: nn.Module, quat: torch.Tensor, steps: int) -> torch.Tensor:
    """The official projection loop, including its unused second-order graph."""
    quat = canonical(quat)
    for _ in range(steps):
        quat = quat.detach().requires_grad_(True)
        dist = net(quat)
        (grad,) = torch.autograd.grad(dist, quat, torch.ones_like(dist), create_graph=True)
        grad = grad.reshape(len(quat), -1)
        grad = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
        quat = canonical(quat - (dist * grad).reshape(-1, NUM_BODY_JOINTS, 4)).detach()
    return quat


def timed(fn: Callable[[], object], device: torch.device, min_time: float = 0.5) -> float:
    """Seconds per call: the best of repeated runs for at least ``min_time`` (the minimum is
    the least disturbed by other processes on a shared machine)."""
    return timed_pair(fn, fn, device, min_time)[0]


def timed_pair(
    first: Callable[[], object],
    second: Callable[[], object],
    device: torch.device,
    min_time: float = 1.0,
    min_rounds: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float]:
    """Best seconds per call of two functions, run alternately so load affects both alike
    (``clock=time.process_time`` with one thread: CPU time, robust on a shared machine)."""
    best = [float("inf"), float("inf")]
    spent, rounds = 0.0, 0
    for fn in (first, second):  # warm-up
        fn()
    synchronize(device)
    while spent < 2 * min_time or rounds < min_rounds:
        for i, fn in enumerate((first, second)):
            start = clock()
            fn()
            synchronize(device)
            elapsed = clock() - start
            best[i], spent = min(best[i], elapsed), spent + elapsed
        rounds += 1
    return best[0], best[1]


def default_model(device: torch.device, dtype: torch.dtype, parents: str = "official_v2"):
    """A published-size network with random weights, inference-only as in the prior."""
    config = {"parents": parents, "encoder_act": "softplus", "act": "softplus", "beta": 100.0,
              "encoder_beta": 100.0, "dims": [256, 512, 1024, 512, 256, 64], "hidden": 10,
              "feature": 6}  # fmt: skip
    model = build_model(config, torch.Generator().manual_seed(0))
    return model.requires_grad_(False).to(device, dtype).eval()


def main(argv: list[str] | None = None) -> None:
    """Print the sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batches", default="1,16,256,2048")
    parser.add_argument("--steps", type=int, default=10, help="projection steps timed")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--skip-targets", action="store_true", help="no k-NN timing")
    parser.add_argument(
        "--cpu-time", action="store_true", help="time by process CPU time (use with --threads 1)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    clock = time.process_time if args.cpu_time and device.type == "cpu" else time.perf_counter
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device {device} ({name or platform.machine()}), torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}")  # fmt: skip
    for dtype in (torch.float32, torch.float64):
        model = default_model(device, dtype)
        official = OfficialStyleNet(model).to(device, dtype)
        print(f"\n{str(dtype).replace('torch.', '')}: poses/s  (ours | official-style)")
        print(f"{'batch':>6} {'energy+grad':>24} {'proj step':>24} {f'{args.steps}-step proj':>24}")
        for batch in [int(b) for b in args.batches.split(",")]:
            gen = torch.Generator().manual_seed(1)
            quat = random_starts(batch, "orthant", gen).to(device, dtype)

            def grad_ours(m=model, q=quat):
                x = q.clone().requires_grad_(True)
                return torch.autograd.grad(m(x).sum(), x)

            def grad_official(m=official, q=quat):
                x = q.clone().requires_grad_(True)
                return torch.autograd.grad(m(x).sum(), x)

            cells = []
            for ours, theirs in (
                (grad_ours, grad_official),
                (lambda m=model, q=quat: project_quaternions(m, q, 1),
                 lambda m=official, q=quat: official_style_project(m, q, 1)),
                (lambda m=model, q=quat: project_quaternions(m, q, args.steps),
                 lambda m=official, q=quat: official_style_project(m, q, args.steps)),
            ):  # fmt: skip
                a, b = timed_pair(ours, theirs, device, clock=clock)
                cells.append(f"{batch / a:>10.0f} | {batch / b:>10.0f}")
            print(f"{batch:>6} " + " ".join(f"{c:>24}" for c in cells))
    model = default_model(device, torch.float32)
    quat = random_starts(2048, "orthant", torch.Generator().manual_seed(2)).to(device)
    with torch.no_grad():
        exact = model(quat)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            low = model(quat).float()
    print(f"\nbf16 autocast: max |d_bf16 - d_fp32| = {(low - exact).abs().max():.2e} "
          f"(random weights; use bf16 only where this stays < 1e-3)")  # fmt: skip
    if args.skip_targets:
        return
    from posebench.priors.posendf.targets import knn_targets

    manifold = random_starts(20000, "rest", torch.Generator().manual_seed(3)).to(device)
    query = random_starts(1000, "rest", torch.Generator().manual_seed(4)).to(device)
    for search in ("exact", "candidates"):
        seconds = timed(lambda s=search: knn_targets(query, manifold, search=s), device, 1.0)
        rate = len(query) * len(manifold) / seconds
        print(f"5-NN targets ({search}): {len(query) / seconds:.0f} queries/s against "
              f"{len(manifold)} manifold poses = {rate / 1e6:.1f} M pairs/s")  # fmt: skip


if __name__ == "__main__":
    main()
