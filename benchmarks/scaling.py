"""How preparation, Pose-NDF's targets and training grow with the data: wall time and peak memory.

For each size (training poses after preparation) it writes a synthetic AMASS-format folder
(``tests/synthetic_amass.py``), then runs, each as its own process so that its peak resident
memory is its own:

1. ``posebench data prepare amass`` (streams file by file into memory-mapped arrays);
2. ``posebench data prepare posendf-targets`` (a fixed number of noisy poses, each against every
   training pose: time linear in the training poses);
3. ``posebench train --prior posendf`` for one epoch over those noisy poses.

and writes the figures to a Markdown table (and a plot when matplotlib is installed)::

    python benchmarks/scaling.py --sizes 10000,50000,300000 --work /tmp/scaling \\
        --out benchmarks/SCALING.md

Wall time, peak RSS and peak anonymous memory of each stage: ``processes.run_posebench``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from processes import run_posebench
from synthetic_amass import write_synthetic_amass

#: One epoch over the default noisy poses (5 sigmas x 20,000 + 10,000 random) at batch 2,048.
TRAIN_OVERRIDES = {
    "train": {
        "steps": 54, "batch_noisy": 2048, "batch_manifold": 2048, "checkpoint_every": 54,
        "log_every": 54, "val_size": 1024,
    }
}  # fmt: skip


def run_stage(argv: list[str], amass: Path) -> dict[str, float]:
    """``python -m posebench ARGV`` with the prepared AMASS folder ``amass``: its figures."""
    return run_posebench(argv, env={**os.environ, "POSEBENCH_AMASS_DIR": str(amass)})


def folder_mib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def measure(size: int, work: Path) -> dict[str, object]:
    """All three stages for ``size`` training poses under ``work``."""
    root = work / f"n{size}"
    shutil.rmtree(root, ignore_errors=True)
    amass, prepared, targets, runs = (root / name for name in ("amass", "prep", "targets", "run"))
    started = time.perf_counter()
    counts = write_synthetic_amass(amass, size)
    generated = time.perf_counter() - started
    config = root / "train.yaml"
    config.write_text(yaml.safe_dump({**TRAIN_OVERRIDES, "train": {
        **TRAIN_OVERRIDES["train"], "targets_dir": str(targets)}}))  # fmt: skip
    record: dict[str, object] = {"requested_poses": size, **counts,
                                 "generate_s": round(generated, 1),
                                 "amass_mib": folder_mib(amass)}  # fmt: skip
    record["prepare"] = run_stage(
        ["data", "prepare", "amass", "--amass-dir", str(amass), "--out", str(prepared), "--quiet"],
        prepared,
    )
    manifest = json.loads((prepared / "amass_manifest.json").read_text())
    record["train_poses"] = int(manifest["counts"]["poses_total"]["train"])
    record["prepared_mib"] = folder_mib(prepared)
    common = ["--dataset", "amass", "--device", "cpu", "--quiet"]
    record["targets"] = run_stage(
        ["data", "prepare", "posendf-targets", *common, "--out", str(targets)], prepared
    )
    record["targets_mib"] = folder_mib(targets)
    record["train_epoch"] = run_stage(
        ["train", "--prior", "posendf", *common, "--prior-config", str(config),
         "--out", str(runs)], prepared,
    )  # fmt: skip
    shutil.rmtree(amass)  # the raw folder is the largest; the figures are kept
    return record


def markdown(records: list[dict[str, object]], machine: str, plot_name: str | None) -> str:
    """The figures as a Markdown table, with the machine and the plot."""
    lines = [
        "| training poses | AMASS files | raw AMASS | prepare: time, peak RSS (anonymous) | "
        "targets: time, peak RSS (anonymous) | one epoch: time, peak RSS (anonymous) |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        stages = [r[k] for k in ("prepare", "targets", "train_epoch")]
        cells = [
            f"{s['wall_s']:.1f} s, {s['peak_rss_mib']:.0f} MiB"  # type: ignore[index]
            + (f" ({s['peak_anon_mib']:.0f})" if "peak_anon_mib" in s else "")  # type: ignore[operator,index]
            for s in stages
        ]
        lines.append(
            f"| {r['train_poses']:,} | {r['files']:,} | {r['amass_mib']:.0f} MiB | "
            + " | ".join(cells)
            + " |"
        )
    picture = (
        f"\n![wall time and peak memory against training poses]({plot_name})\n" if plot_name else ""
    )
    return f"Machine: {machine}.\n\n" + "\n".join(lines) + "\n" + picture


def machine_name() -> str:
    """The CPU model and core count (Linux), else the platform's machine name."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores"


def plot(records: list[dict[str, object]], out: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    poses = [r["train_poses"] for r in records]
    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    for stage, label in (("prepare", "prepare amass"), ("targets", "posendf targets"),
                         ("train_epoch", "one epoch")):  # fmt: skip
        time_axis.plot(poses, [r[stage]["wall_s"] for r in records], "o-", label=label)  # type: ignore[index]
        line = memory_axis.plot(poses, [r[stage]["peak_rss_mib"] for r in records], "o-")  # type: ignore[index]
        if all("peak_anon_mib" in r[stage] for r in records):  # type: ignore[operator]
            anon = [r[stage]["peak_anon_mib"] for r in records]  # type: ignore[index]
            memory_axis.plot(poses, anon, "s--", color=line[0].get_color(), alpha=0.6)
    labels = ((time_axis, "wall time (s)"),
              (memory_axis, "peak RSS (MiB); dashed: anonymous"))  # fmt: skip
    for axis, ylabel in labels:
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("training poses")
        axis.set_ylabel(ylabel)
        axis.grid(True, which="both", alpha=0.3)
    time_axis.legend()
    figure.tight_layout()
    path = out.with_suffix(".png")
    figure.savefig(path, dpi=120)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,300000", help="training poses, commas")
    parser.add_argument("--work", type=Path, default=Path("scaling-work"))
    parser.add_argument("--out", type=Path, help="write the table here (Markdown) and the plot")
    parser.add_argument("--from-json", type=Path, help="render a finished run's scaling.json")
    args = parser.parse_args()
    if args.from_json:
        records = json.loads(args.from_json.read_text())
    else:
        records = []
        args.work.mkdir(parents=True, exist_ok=True)
        for size in (int(s) for s in args.sizes.split(",")):
            records.append(measure(size, args.work))
            print(json.dumps(records[-1]), flush=True)
        (args.work / "scaling.json").write_text(json.dumps(records, indent=2))
    picture = plot(records, args.out) if args.out else None
    table = markdown(records, machine_name(), picture.name if picture else None)
    print(table)
    if args.out:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
