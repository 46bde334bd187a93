"""Build leaderboard tables from result files.

One table per (dataset, body model, size): priors as rows, each task@protocol's main metric as a
column (mean ± std over seeds, with its unit and direction), and a rank per column. Quick and full
runs, and different protocols, are never averaged together.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from posebench.benchmark.results import read_result
from posebench.errors import InputError

FORMATS = ("md", "html", "csv")


def collect_results(results_dir: str | Path) -> pd.DataFrame:
    """One row per result file under ``results_dir`` (every metric, long format)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError(f"results folder {results_dir} does not exist; run 'posebench run' first")
    rows: list[dict[str, Any]] = []
    for path in sorted(results_dir.rglob("seed*.json")):
        record = read_result(path)
        for metric, value in record.metrics.items():
            spec = record.task["metrics"].get(metric, {})
            rows.append(
                {
                    "dataset": record.dataset["name"],
                    "body_model": record.body_model["name"],
                    "size": record.size,
                    "task": f"{record.task['name']}@{record.task['protocol']}",
                    "task_version": record.task["version"],
                    "prior": record.prior["name"],
                    "seed": record.seed,
                    "metric": metric,
                    "main": metric == record.task["main_metric"],
                    "unit": spec.get("unit", ""),
                    "higher_is_better": bool(spec.get("higher_is_better", False)),
                    "value": value,
                    "posebench_version": record.posebench_version,
                    "path": str(path),
                }
            )
    if not rows:
        raise InputError(
            f"no result files (seed*.json) under {results_dir}; run 'posebench run' first"
        )
    return pd.DataFrame(rows)


def leaderboard_tables(results: pd.DataFrame) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Main-metric tables keyed by (dataset, body_model, size); rows are priors, ranked."""
    tables = {}
    main = results[results["main"]]
    for key, group in main.groupby(["dataset", "body_model", "size"], sort=True):
        columns: dict[str, pd.Series] = {}
        ranks: list[pd.Series] = []
        for (task, metric, unit, higher), cell in group.groupby(
            ["task", "metric", "unit", "higher_is_better"], sort=True
        ):
            stats = cell.groupby("prior")["value"].agg(["mean", "std", "count"])
            arrow = "↑" if higher else "↓"
            label = f"{task} {metric} ({unit}) {arrow}" if unit else f"{task} {metric} {arrow}"
            columns[label] = stats.apply(_format_cell, axis=1)
            ranks.append(stats["mean"].rank(ascending=not higher, method="min"))
        table = pd.DataFrame(columns)
        table.insert(0, "rank", pd.concat(ranks, axis=1).mean(axis=1).rank(method="min"))
        table = table.sort_values("rank").rename_axis("prior").reset_index()
        table["rank"] = table["rank"].astype("Int64")
        tables[key] = table
    return tables


def _format_cell(stats: pd.Series) -> str:
    if pd.isna(stats["mean"]):
        return "not supported"
    if stats["count"] > 1 and not pd.isna(stats["std"]):
        return f"{stats['mean']:.4g} ± {stats['std']:.2g} (n={int(stats['count'])})"
    return f"{stats['mean']:.4g}"


def render(tables: dict[tuple[str, str, str], pd.DataFrame], fmt: str) -> str:
    """All tables in one document: ``md``, ``html`` or ``csv``."""
    if fmt not in FORMATS:
        raise InputError(f"unknown leaderboard format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        frames = [
            table.assign(dataset=dataset, body_model=body, size=size)
            for (dataset, body, size), table in tables.items()
        ]
        return pd.concat(frames, ignore_index=True).to_csv(index=False)
    parts = []
    for (dataset, body, size), table in tables.items():
        caption = f"dataset {dataset}, body model {body}, size {size}"
        if fmt == "html":
            parts.append(f"<h2>{html.escape(caption)}</h2>\n" + table.to_html(index=False))
        else:
            parts.append(f"### {caption}\n\n{_markdown(table)}")
    return "\n\n".join(parts) + "\n"


def _markdown(table: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])
