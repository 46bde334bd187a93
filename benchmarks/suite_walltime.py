"""Wall time of a whole suite at this checkout against a baseline commit, in one run.

The baseline is checked out into a git worktree and both suites run one after the other, each
as its own process with the same priors, tasks, seed, device and thread count, into their own
result folders; nothing else should run on the machine meanwhile. For each it records the wall
time, the CPU time and peak memory of the process (``wait4``), and every run's own
``timings.run_s`` and main metric from its result file, so a reader sees where the time went
and that both suites did the same work::

    python benchmarks/suite_walltime.py --baseline 723880f --work /tmp/suite-walltime \\
        --json benchmarks/suite_walltime.json

The default priors and tasks are the ones the baseline's default suite had (4 x 4, seed 0).
The baseline's code runs from its worktree (``PYTHONPATH``) with this environment's packages.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

from processes import run_posebench

REPO = Path(__file__).resolve().parents[1]


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip


def run_suite(tree: Path, out: Path, args: argparse.Namespace) -> dict[str, object]:
    """``posebench suite`` with the code of ``tree`` into ``out``: wall, CPU and peak memory."""
    shutil.rmtree(out, ignore_errors=True)
    argv = ["suite", "--priors", args.priors, "--tasks", args.tasks, "--seeds", str(args.seed),
            "--device", "cpu", "--out", str(out)]  # fmt: skip
    if args.quick:
        argv.append("--quick")
    threads = str(args.threads)
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads}  # fmt: skip
    figures: dict[str, object] = {**run_posebench(argv, env=env, cwd=tree)}
    figures["runs"] = read_runs(out)
    return figures


def read_runs(out: Path) -> dict[str, dict[str, object]]:
    """Each result file's run time and metrics, keyed ``task@protocol/prior``."""
    runs = {}
    for path in sorted(out.rglob("seed*.json")):
        record = json.loads(path.read_text())
        key = f"{path.parent.parent.name}/{path.parent.name}"
        runs[key] = {"run_s": record["timings"]["run_s"], "metrics": record["metrics"]}
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="commit to compare against")
    parser.add_argument("--priors", default="posendf,vposer,gmm,none")
    parser.add_argument("--tasks", default="sample,interpolate,denoise,image_fit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of each suite")
    parser.add_argument("--quick", action="store_true", help="CI-sized suites (a smoke test)")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    baseline_tree = args.work / "baseline"
    if not baseline_tree.exists():
        git("worktree", "add", "--detach", "-f", str(baseline_tree), args.baseline)
    record: dict[str, object] = {
        "priors": args.priors, "tasks": args.tasks, "seed": args.seed, "threads": args.threads,
        "quick": args.quick, "machine": f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores", "python": platform.python_version(),
        "baseline": git("rev-parse", args.baseline),
        "current": git("rev-parse", "HEAD") + ("-dirty" if git("status", "--porcelain") else ""),
    }  # fmt: skip
    for label, tree in (("baseline", baseline_tree), ("current", REPO)):
        print(f"{label}: running the suite ...", flush=True)
        record[label + "_suite"] = figures = run_suite(tree, args.work / f"{label}-results", args)
        print(f"{label}: {figures['wall_s']} s wall, {figures['cpu_s']} s CPU", flush=True)
    base, current = record["baseline_suite"], record["current_suite"]
    record["speedup"] = round(base["wall_s"] / current["wall_s"], 2)  # type: ignore[index]
    print(f"speed-up: {record['speedup']}x ({base['wall_s']} s -> {current['wall_s']} s)")  # type: ignore[index]
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
