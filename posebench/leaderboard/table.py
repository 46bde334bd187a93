"""Build leaderboard tables from result files: a pure function of a results folder.

One table per (dataset, body model, size): priors as rows, every task@protocol metric as a column
(mean ± std over seeds, unit and direction in the header, the best value in bold, main metrics
first), and a rank: the mean of each prior's ranks on the main metrics. Quick and full runs, and
different protocols, are never averaged together; mixed posebench versions, task versions or seed
sets are reported as warnings under the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from posebench.core.errors import InputError
from posebench.leaderboard.board import Leaderboard
from posebench.results import ResultRecord, read_result


def collect_results(results_dir: str | Path) -> pd.DataFrame:
    """One row per (result file, metric) under ``results_dir`` (long format). Malformed files
    are skipped, not fatal: ``frame.attrs["skipped"]`` lists each one's one-line reason."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError(f"results folder {results_dir} does not exist; run 'posebench run' first")
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for path in sorted(results_dir.rglob("seed*.json")):
        try:
            record = read_result(path)
        except InputError as exc:  # one bad file costs its row, not the leaderboard
            skipped.append(str(exc))
            continue
        rows.extend(_rows(record, path))
    if not rows:
        found = f" ({len(skipped)} skipped; first: {skipped[0]})" if skipped else ""
        raise InputError(
            f"no readable result files (seed*.json) under {results_dir}{found}; "
            "run 'posebench run' first"
        )
    frame = pd.DataFrame(rows)
    frame.attrs["skipped"] = skipped
    return frame


def _rows(record: ResultRecord, path: Path) -> list[dict[str, Any]]:
    """The rows of one result file: one per metric."""
    rows = []
    for metric, value in record.metrics.items():
        # a file may lack a metric's declaration or parts of it: fall back per key
        spec: Mapping[str, Any] = record.task["metrics"].get(metric, {})
        rows.append(
            {
                "dataset": record.dataset["name"],
                "dataset_hash": str(record.dataset.get("content_hash") or "")[:12],
                "body_model": record.body_model["name"],
                "size": record.size,
                "task": f"{record.task['name']}@{record.task['protocol']}",
                "task_version": str(record.task["version"]),
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
    return rows


def skipped_note(count: int) -> str:
    """The caption's note on result files left out as malformed ('' when none were)."""
    if not count:
        return ""
    return f" {count} result file{'s' if count > 1 else ''} skipped (malformed)."


def _column_label(task: str, metric: str, unit: str, higher: bool, main: bool) -> str:
    unit_part = f" ({unit})" if unit else ""
    return f"{task} {metric}{unit_part} {'↑' if higher else '↓'}{' ★' if main else ''}"


def _cell(mean: float, std: float, n: int, best: bool, bold: tuple[str, str]) -> str:
    if pd.isna(mean):
        return "n/a"  # not supported by the prior, or not defined for the protocol
    text = f"{mean:.4g} ± {std:.2g} (n={n})" if n > 1 and not pd.isna(std) else f"{mean:.4g}"
    return f"{bold[0]}{text}{bold[1]}" if best else text


def _warnings(group: pd.DataFrame) -> list[str]:
    notes = []
    versions = sorted(group["posebench_version"].unique())
    if len(versions) > 1:
        notes.append(f"results come from several posebench versions: {', '.join(versions)}")
    for task, rows in group.groupby("task"):
        task_versions = sorted(rows["task_version"].unique())
        if len(task_versions) > 1:
            notes.append(f"{task} mixes task versions {', '.join(task_versions)}")
        seeds = rows.groupby("prior")["seed"].apply(lambda s: tuple(sorted(set(s))))
        if seeds.nunique() > 1:
            listed = "; ".join(f"{p}: {list(s)}" for p, s in seeds.items())
            notes.append(f"{task} was run with different seeds per prior ({listed})")
    hashes = sorted(h for h in group["dataset_hash"].unique() if h)
    if len(hashes) > 1:
        notes.append(f"results come from different dataset contents: {', '.join(hashes)}")
    return notes


def leaderboard_tables(
    results: pd.DataFrame, bold: tuple[str, str] = ("**", "**")
) -> list[Leaderboard]:
    """The tables of a results frame, one per (dataset, body model, size)."""
    boards = []
    for (dataset, body, size), group in results.groupby(
        ["dataset", "body_model", "size"], sort=True
    ):
        stats = (
            group.groupby(["prior", "task", "metric", "unit", "higher_is_better", "main"])["value"]
            .agg(mean="mean", std="std", n="count")
            .reset_index()
        )
        stats["n"] = (
            group.groupby(["prior", "task", "metric"])["seed"]
            .nunique()
            .reindex(pd.MultiIndex.from_frame(stats[["prior", "task", "metric"]]))
            .to_numpy()
        )
        stats["rank"] = float("nan")
        for _, index in stats.groupby(["task", "metric"]).groups.items():
            column = stats.loc[index]
            ascending = not column["higher_is_better"].iloc[0]
            stats.loc[index, "rank"] = column["mean"].rank(ascending=ascending, method="min")
        main_ranks = stats[stats["main"]].groupby("prior")["rank"].mean()
        overall = main_ranks.rank(method="min")
        display = _frame(stats[stats["main"]], bold, overall)
        per_task = {  # ranked by the task's own main metric
            task: _frame(rows, bold, rows[rows["main"]].set_index("prior")["rank"])
            for task, rows in stats.groupby("task", sort=True)
        }
        versions = ", ".join(
            f"{t} v{v}" for t, v in group.groupby("task")["task_version"].first().items()
        )
        hashes = ", ".join(sorted(h for h in group["dataset_hash"].unique() if h))
        caption = (
            f"dataset {dataset} (content {hashes}), body model {body}, size {size}; tasks: "
            f"{versions}. Cells: mean ± std over seeds (n seeds); best in bold; ★ main metric; "
            "rank: mean rank over the main metrics."
            + skipped_note(len(results.attrs.get("skipped", ())))
        )
        boards.append(
            Leaderboard(
                dataset,
                body,
                size,
                caption,
                stats,
                display,
                per_task,
                _warnings(group),
                _arrays_files(group),
            )
        )
    return boards


def _arrays_files(group: pd.DataFrame) -> dict[str, dict[str, Path]]:
    """Per task and prior, the arrays file written beside the lowest seed's result, if any."""
    files: dict[str, dict[str, Path]] = {}
    runs = group.drop_duplicates("path").sort_values(["task", "prior", "seed"])
    for row in runs.itertuples():
        candidate = Path(row.path).with_suffix(".npz")
        if row.prior not in files.get(row.task, {}) and candidate.is_file():
            files.setdefault(row.task, {})[row.prior] = candidate
    return files


def _frame(stats: pd.DataFrame, bold: tuple[str, str], overall: pd.Series) -> pd.DataFrame:
    """Priors as rows (ordered by overall rank), one formatted column per (task, metric)."""
    columns: dict[str, pd.Series] = {}
    order = stats.sort_values(["task", "main", "metric"], ascending=[True, False, True])
    for (task, metric), rows in order.groupby(["task", "metric"], sort=False):
        first = rows.iloc[0]
        cells = [_cell(r.mean, r.std, int(r.n), r.rank == 1, bold) for r in rows.itertuples()]
        label = _column_label(task, metric, first.unit, first.higher_is_better, first.main)
        columns[label] = pd.Series(cells, index=rows["prior"].to_numpy())
    frame = pd.DataFrame(columns)
    frame.insert(0, "rank", overall.reindex(frame.index))
    frame = frame.sort_values("rank").rename_axis("prior").reset_index()
    frame["rank"] = frame["rank"].astype("Int64")
    return frame.fillna("—")  # no result for this prior
