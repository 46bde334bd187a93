"""The GPU figures of posebench in one process: ``python benchmarks/gpu/measure.py --out DIR``.

Sections, each timed on the same device in the same run (so ratios are meaningful), each written
to ``DIR/gpu_figures.json`` as soon as it is done (a run cut short keeps what it measured):

* ``matmul``: the bf16 matrix-multiply rate (TFLOP/s), the arithmetic ceiling of the others;
* ``projection``: Pose-NDF 100-step projection, poses/s, over a batch sweep, float32 and bf16
  autocast, posebench's loop against an official-style one (21 sequential bone MLPs,
  ``create_graph=True``), the largest bf16 deviation in distance, the FLOPs of one step per pose
  (counted by torch) and so the fraction of the matrix-multiply floor reached;
* ``training``: Pose-NDF training steps (its loss, backward and Adam), samples/s;
* ``knn``: exact and 500-candidate 5-NN targets on a slice of the queries against the whole
  manifold, with the extrapolation to the full query count stated;
* ``suite``: wall time of ``posebench suite`` (every prior x every task, one seed).

A profile of the busiest operators is kept for projection and k-NN, so a missed target comes
with its explanation. ``--dry-run`` uses tiny sizes (the CPU check in the test suite).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from posendf_speed import OfficialStyleNet, official_style_project  # noqa: E402

import posebench  # noqa: E402
from posebench.core.atomic import atomic_write, atomic_write_json  # noqa: E402
from posebench.core.device import resolve_device, synchronize  # noqa: E402
from posebench.priors.posendf.projection import autocast_context, project_quaternions  # noqa: E402
from posebench.priors.posendf.starts import random_starts  # noqa: E402
from posebench.priors.posendf.targets import knn_targets  # noqa: E402
from posebench.priors.posendf.train import losses  # noqa: E402

SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "matmul": 8192,
        "batches": [10, 1024, 16384, 131072, 524288],
        "official": [10, 16384],
        "steps": 100,
        "train": [4096, 65536, 262144],
        "knn_query": 65536,
        "knn_manifold": 4_000_000,
        "knn_target": 4_000_000,
        "exact_query": 8192,
    },
    "dry": {
        "matmul": 128,
        "batches": [10, 64],
        "official": [10, 64],
        "steps": 3,
        "train": [64, 256],
        "knn_query": 256,
        "knn_manifold": 4096,
        "knn_target": 8192,
        "exact_query": 128,
    },
}


def timed(fn: Callable[[], object], device: torch.device, repeats: int = 3) -> float:
    """Best wall seconds of ``repeats`` calls after one warm-up, synchronised on ``device``."""
    fn()
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def profile(fn: Callable[[], object], device: torch.device, rows: int = 8) -> str:
    """The busiest operators of one call of ``fn`` (self time on the device, else the CPU)."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        fn()
        synchronize(device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return str(prof.key_averages().table(sort_by=key, row_limit=rows))


def measure_matmul(device: torch.device, n: int) -> dict[str, Any]:
    """bf16 (float32 on a CPU dry run) n x n x n products: TFLOP/s."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=generator).to(device, dtype) for _ in range(2))
    seconds = timed(lambda: a @ b, device, repeats=10)
    return {"n": n, "dtype": str(dtype), "tflops": round(2 * n**3 / seconds / 1e12, 2)}


def step_flops(model: torch.nn.Module, quat: torch.Tensor) -> float:
    """FLOPs per pose of one projection step (distance and its gradient), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    x = quat.clone().requires_grad_(True)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()  # the weights are frozen: only the input's gradient
    return counter.get_total_flops() / len(quat)


def measure_projection(device: torch.device, size: dict[str, Any]) -> dict[str, Any]:
    model = posebench.load_prior("posendf", device=str(device)).model.requires_grad_(False)
    steps = int(size["steps"])
    rows: list[dict[str, Any]] = []
    best: dict[str, tuple[float, int]] = {}
    for bf16 in (False, True):
        precision = "bf16" if bf16 else "fp32"
        for batch in size["batches"]:
            quat = random_starts(batch, "orthant", torch.Generator().manual_seed(1)).to(device)

            def ours(q: torch.Tensor = quat, bf: bool = bf16) -> torch.Tensor:
                return project_quaternions(model, q, steps, chunk_size=len(q), bf16=bf)

            rate = batch / timed(ours, device, repeats=2)
            row = {"precision": precision, "batch": batch, "posebench_poses_s": round(rate)}
            if batch in size["official"]:
                official = OfficialStyleNet(model).to(device)

                def theirs(
                    q: torch.Tensor = quat, bf: bool = bf16, net: OfficialStyleNet = official
                ) -> torch.Tensor:
                    with autocast_context(bf, device):
                        return official_style_project(net, q, steps)

                row["official_poses_s"] = round(batch / timed(theirs, device, repeats=2))
            rows.append(row)
            if rate > best.get(precision, (0.0, 0))[0]:
                best[precision] = (rate, batch)
    batch = best["fp32"][1]
    quat = random_starts(batch, "orthant", torch.Generator().manual_seed(2)).to(device)
    with torch.no_grad():
        exact = model(quat).float()
        with autocast_context(True, device):
            low = model(quat).float()
    flops = step_flops(model, quat[:1024])
    return {
        "steps": steps,
        "rows": rows,
        "best": {k: {"poses_s": round(v[0]), "batch": v[1]} for k, v in best.items()},
        "bf16_max_distance_deviation": float((low - exact).abs().max()),
        "flops_per_pose_step": round(flops),
        "profile_best_fp32": profile(
            lambda: project_quaternions(model, quat, min(steps, 10), chunk_size=len(quat)), device
        ),
    }


def measure_training(device: torch.device, size: dict[str, Any]) -> dict[str, Any]:
    prior = posebench.load_prior("posendf", device=str(device))
    model = prior.model.requires_grad_(True).train()
    train = prior.config["train"]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-6)
    rows = []
    for batch in size["train"]:
        generator = torch.Generator().manual_seed(3)
        noisy = random_starts(batch, "orthant", generator).to(device)
        manifold = random_starts(batch, "rest", generator).to(device)
        target = torch.rand(batch, generator=generator).to(device)

        def step(n=noisy, t=target, m=manifold) -> None:
            terms = losses(model, n, t, m, train["weights"], train["loss"])
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            optimizer.step()

        seconds = timed(step, device, repeats=3)
        rows.append({"noisy": batch, "manifold": batch, "samples_s": round(2 * batch / seconds)})
    return {"weights": dict(train["weights"]), "rows": rows}


def measure_knn(device: torch.device, size: dict[str, Any]) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(4)
    manifold = random_starts(size["knn_manifold"], "rest", generator).to(device)
    rows = []
    for search, n_query in (("candidates", size["knn_query"]), ("exact", size["exact_query"])):
        query = random_starts(n_query, "rest", generator).to(device)
        seconds = timed(lambda s=search, q=query: knn_targets(q, manifold, 5, s), device, 1)
        full = seconds * (size["knn_target"] / n_query) * (size["knn_target"] / len(manifold))
        rows.append(
            {
                "search": search,
                "queries": n_query,
                "manifold": len(manifold),
                "seconds": round(seconds, 3),
                "pairs_per_s": round(n_query * len(manifold) / seconds),
                "extrapolated_s": round(full, 1),
                "extrapolated_to": f"{size['knn_target']} x {size['knn_target']}",
            }
        )
    query = random_starts(min(size["knn_query"], 8192), "rest", generator).to(device)
    return {
        "rows": rows,
        "profile_candidates": profile(
            lambda: knn_targets(query, manifold[: 16384 * 8], 5, "candidates"), device
        ),
    }


def measure_suite(device: torch.device, dry: bool, out: Path, limit_s: float) -> dict[str, Any]:
    """``posebench suite`` (default suite, seed 0) as a child process: wall seconds."""
    folder = out / "suite-results"
    argv = [
        sys.executable,
        "-m",
        "posebench",
        "suite",
        "--seeds",
        "0",
        "--device",
        str(device),
        "--out",
        str(folder),
        "--force",
        "--quiet",
        *(["--quick"] if dry else []),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        finished = len(list(folder.rglob("seed0*.json")))
        return {"timed_out_after_s": round(limit_s), "runs_finished": finished}
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"suite failed: {done.stderr.strip()[-800:]}")
    runs = sorted(folder.rglob("seed0*.json"))
    run_s = {
        f"{p.parent.parent.name}/{p.parent.name}": json.loads(p.read_text())["timings"]["run_s"]
        for p in runs
    }
    return {"wall_s": round(wall, 1), "runs": len(runs), "quick": dry, "run_s": run_s}


def markdown(figures: dict[str, Any]) -> str:
    """The table for benchmarks/RESULTS.md."""
    lines = [
        f"Device: {figures['device']['name']}, torch {figures['device']['torch']}",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    if "matmul" in figures:
        m = figures["matmul"]
        lines.append(f"| matrix multiply {m['n']}³ {m['dtype']} | {m['tflops']} TFLOP/s |")
    if "projection" in figures:
        p = figures["projection"]
        for row in p["rows"]:
            theirs = row.get("official_poses_s")
            lines.append(
                f"| projection {p['steps']} steps, {row['precision']}, batch "
                f"{row['batch']:,} | {row['posebench_poses_s']:,} poses/s"
                + (f" (official-style {theirs:,})" if theirs else "")
                + " |"
            )
        lines.append(f"| bf16 max distance deviation | {p['bf16_max_distance_deviation']:.2e} |")
        lines.append(f"| FLOPs per pose per projection step | {p['flops_per_pose_step']:,} |")
        if "matmul" in figures:
            floor = figures["matmul"]["tflops"] * 1e12 / (p["flops_per_pose_step"] * p["steps"])
            reached = p["best"]["bf16"]["poses_s"] / floor
            lines.append(
                f"| matrix-multiply floor, {p['steps']} steps | {floor:,.0f} poses/s "
                f"(best bf16 reaches {reached:.1%}) |"
            )
    for row in figures.get("training", {}).get("rows", []):
        lines.append(
            f"| Pose-NDF training, {row['noisy']:,} + {row['manifold']:,} per step | "
            f"{row['samples_s']:,} samples/s |"
        )
    for row in figures.get("knn", {}).get("rows", []):
        lines.append(
            f"| 5-NN {row['search']}, {row['queries']:,} x {row['manifold']:,} | {row['seconds']} "
            f"s; {row['extrapolated_to']}: ~{row['extrapolated_s']} s |"
        )
    if "suite" in figures:
        s = figures["suite"]
        if "wall_s" in s:
            value = f"{s['wall_s']} s ({s['runs']} runs)"
        else:
            value = f"over {s['timed_out_after_s']} s ({s['runs_finished']} runs done)"
        lines.append(f"| suite, every prior x every task, seed 0 | {value} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, required=True, help="folder for the figures")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes (a CPU check)")
    parser.add_argument("--sections", default="matmul,projection,training,knn,suite")
    parser.add_argument("--suite-limit", type=float, default=300.0, help="seconds for the suite")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    size = SIZES["dry" if args.dry_run else "full"]
    args.out.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    about = {
        "name": name or platform.machine(),
        "type": device.type,
        "torch": torch.__version__,
        "dry_run": args.dry_run,
    }
    figures: dict[str, Any] = {"device": about}
    sections: dict[str, Callable[[], dict[str, Any]]] = {
        "matmul": lambda: measure_matmul(device, size["matmul"]),
        "projection": lambda: measure_projection(device, size),
        "training": lambda: measure_training(device, size),
        "knn": lambda: measure_knn(device, size),
        "suite": lambda: measure_suite(device, args.dry_run, args.out, args.suite_limit),
    }
    failed = []
    for section in args.sections.split(","):
        started = time.perf_counter()
        try:
            figures[section] = sections[section]()
        except Exception as exc:  # record and go on: one broken section must not cost the rest
            figures[section + "_error"] = f"{type(exc).__name__}: {exc}"
            failed.append(section)
        figures.setdefault("section_s", {})[section] = round(time.perf_counter() - started, 1)
        print(f"{section}: {figures['section_s'][section]} s", flush=True)
        atomic_write_json(args.out / "gpu_figures.json", figures)
    table = markdown(figures)
    atomic_write(args.out / "gpu_figures.md", lambda f: f.write(table + "\n"))
    print(table)
    for section in failed:
        print(f"measure.py: {section} failed: {figures[section + '_error']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
