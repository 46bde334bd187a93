"""Build leaderboard tables from result files: a pure function of a results folder.

One table per (dataset, body model, size): priors as rows, then reference rows (kinds in
:data:`REFERENCE_KINDS`: real data as ``data: <name>``, prior-free methods as ``baseline:
<name>``; never ranked), every task@protocol metric as a column (unit and direction in the
header, the best prior's value in bold, main metrics first). Metrics that describe a task's
input (the same for every prior, e.g. the noisy motion's error) are no column: they are one row
of kind ``input`` per task, shown once, and every task gets a legend of its metrics as the tasks
declare them. A main metric the task reports per independent unit shows a bootstrap interval
over those units and is ranked with ties (:mod:`posebench.leaderboard.uncertainty`); other cells
show mean ± std over seeds. Quick and full runs, and different protocols, are never averaged
together; mixed posebench versions, task versions or seed sets are reported as warnings under
the table. (Result files older than metric descriptions get theirs from the installed tasks:
:mod:`posebench.leaderboard.declared`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from posebench.core.errors import InputError
from posebench.leaderboard.board import Leaderboard, MetricNote
from posebench.leaderboard.declared import Declarations
from posebench.leaderboard.uncertainty import (
    Comparison,
    Interval,
    combine_seeds,
    interval,
    tie_aware_ranks,
)
from posebench.results import ResultRecord, read_result


@dataclass(frozen=True)
class RowKind:
    """A kind of reference row: scored like a prior and shown after the priors with its kind in
    the rank column, but never ranked, never marked best, and grey in the charts."""

    field: str  # the result file's field that holds them: name -> metric -> value
    prefix: str  # its rows are named prefix + name
    about: str  # what the caption says its rows are


#: Reference rows by kind, in the order they follow the priors; another kind is one entry here.
REFERENCE_KINDS: dict[str, RowKind] = {
    "data": RowKind("data_rows", "data: ", "real data scored like a prior"),
    "baseline": RowKind("baseline_rows", "baseline: ", "prior-free methods on the same inputs"),
}
DATA_PREFIX = REFERENCE_KINDS["data"].prefix

#: Kind and row name of the metrics that describe a task's input: one row per task, not ranked.
INPUT_KIND = "input"
#: The training seed column's value for a run that scored its checkpoint as it is (no seed asked).
UNTRAINED = -1


def collect_results(results_dir: str | Path) -> pd.DataFrame:
    """One row per (result file, metric) under ``results_dir`` (long format). Malformed files
    are skipped, not fatal: ``frame.attrs["skipped"]`` lists each one's one-line reason."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError(f"results folder {results_dir} does not exist; run 'posebench run' first")
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    declarations = Declarations()
    for path in sorted(results_dir.rglob("seed*.json")):
        try:
            record = read_result(path)
        except InputError as exc:  # one bad file costs its row, not the leaderboard
            skipped.append(str(exc))
            continue
        rows.extend(_rows(record, path, declarations))
    if not rows:
        found = f" ({len(skipped)} skipped; first: {skipped[0]})" if skipped else ""
        raise InputError(
            f"no readable result files (seed*.json) under {results_dir}{found}; "
            "run 'posebench run' first"
        )
    frame = pd.DataFrame(rows)
    frame.attrs["skipped"] = skipped
    return frame


def _rows(record: ResultRecord, path: Path, declarations: Declarations) -> list[dict[str, Any]]:
    """The rows of one result file: one per metric of the prior, one per metric of each
    reference row (e.g. ``kind`` "data", named ``data: <name>``), and the metrics that describe
    the task's input as kind and row ``input``."""
    common = {
        "dataset": record.dataset["name"],
        "dataset_hash": str(record.dataset.get("content_hash") or "")[:12],
        "body_model": record.body_model["name"],
        "size": record.size,
        "task": f"{record.task['name']}@{record.task['protocol']}",
        "task_version": str(record.task["version"]),
        "seed": record.seed,
        "training_seed": _training_seed(record),
        "run": f"{_training_seed(record)}/{record.seed}",
        "posebench_version": record.posebench_version,
        "checkpoint": str(record.prior.get("checkpoint_sha256") or ""),
        "path": str(path),
    }
    sources = [("prior", record.prior["name"], record.metrics)] + [
        (kind, f"{row.prefix}{name}", values)
        for kind, row in REFERENCE_KINDS.items()
        for name, values in getattr(record, row.field).items()
    ]
    rows = []
    for kind, name, values in sources:
        for metric, value in values.items():
            # a file may lack a metric's declaration or parts of it: fall back per key
            declared = declarations.of(record.task, metric)
            of_input = declared.describes_input
            main = metric == record.task["main_metric"] and not of_input
            rows.append(
                {
                    **common,
                    "prior": INPUT_KIND if of_input else name,
                    "kind": INPUT_KIND if of_input else kind,
                    "metric": metric,
                    "main": main,
                    "unit": declared.unit,
                    "higher_is_better": declared.higher_is_better,
                    "description": declared.description,
                    "value": value,
                    "per_unit": record.per_unit if main and kind == "prior" else None,
                }
            )
    return rows


def _training_seed(record: ResultRecord) -> int:
    """The training seed of the scored model, or :data:`UNTRAINED` when the run named none."""
    seed = record.prior.get("training_seed")
    return UNTRAINED if seed is None else int(seed)


def skipped_note(count: int) -> str:
    """The caption's note on result files left out as malformed ('' when none were)."""
    if not count:
        return ""
    return f" {count} result file{'s' if count > 1 else ''} skipped (malformed)."


def _column_label(task: str, metric: str, unit: str, higher: bool, main: bool) -> str:
    unit_part = f" ({unit})" if unit else ""
    return f"{task} {metric}{unit_part} {'↑' if higher else '↓'}{' ★' if main else ''}"


def _cell(row: Any, best: bool, bold: tuple[str, str]) -> str:
    """mean [interval over units] (units, seeds), or mean ± std over seeds (n), or n/a."""
    if pd.isna(row.mean):
        return "n/a"  # not supported by the prior, or not defined for the protocol
    if not pd.isna(row.ci_low):
        models, runs = int(row.n_models), int(row.n)
        if models > 1:
            seeds = f", {models} models × {runs // models} seeds"
        else:
            seeds = f", {runs} seeds" if runs > 1 else ""
        text = (
            f"{row.mean:.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}] "
            f"({int(row.n_units)} {row.ci_unit}s{seeds})"
        )
    elif row.n > 1 and not pd.isna(row.std):
        text = f"{row.mean:.4g} ± {row.std:.2g} (n={int(row.n)})"
    else:
        text = f"{row.mean:.4g}"
    return f"{bold[0]}{text}{bold[1]}" if best else text


def _warnings(group: pd.DataFrame) -> list[str]:
    notes = []
    versions = sorted(group["posebench_version"].unique())
    if len(versions) > 1:
        notes.append(f"results come from several posebench versions: {', '.join(versions)}")
    priors = group[group["kind"] == "prior"]
    for task, rows in priors.groupby("task"):
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


def _deduplicated(group: pd.DataFrame) -> pd.DataFrame:
    """Each prior's result file repeats the reference and input rows of its (task, seed): keep
    one copy."""
    shared = group["kind"] != "prior"
    keys = ["task", "prior", "seed", "metric"]
    return pd.concat([group[~shared], group[shared].drop_duplicates(keys)], ignore_index=True)


def _disagreements(group: pd.DataFrame) -> list[str]:
    """Where the copies of a reference or input row in the priors' files differ (the table
    shows the first): they should be the same numbers."""
    shared = group[(group["kind"] != "prior") & group["value"].notna()]
    spread = shared.groupby(["task", "prior", "metric", "seed"])["value"].agg(["min", "max"])
    scale = spread.abs().max(axis=1).clip(lower=1e-12)
    differ = spread[(spread["max"] - spread["min"]) > 1e-6 * scale]
    return [
        f"{task}: the priors' files disagree on {prior} {metric} (seed {seed}: "
        f"{row['min']:.6g} to {row['max']:.6g}); the first file's value is shown"
        for (task, prior, metric, seed), row in differ.iterrows()
    ]


def _unit_intervals(
    priors: pd.DataFrame,
) -> tuple[dict[tuple[str, str], Interval], dict[str, dict[str, int]], dict[str, list[Comparison]]]:
    """Per (task, prior) the main metric's interval over units, per task the tie-aware ranks
    and the pairwise comparisons, for the tasks whose every run reported per-unit values."""
    intervals: dict[tuple[str, str], Interval] = {}
    ranks: dict[str, dict[str, int]] = {}
    comparisons: dict[str, list[Comparison]] = {}
    for task, rows in priors[priors["main"]].groupby("task"):
        averaged = {  # per prior, per trained model: its units over the evaluation seeds
            prior: [
                combine_seeds(model.sort_values("seed")["per_unit"].tolist())
                for _, model in runs.groupby("training_seed", sort=True)
            ]
            for prior, runs in rows.groupby("prior")
        }
        if any(found is None for models in averaged.values() for found in models):
            continue  # some run lacks units: fall back to seeds
        kinds = {found[0] for models in averaged.values() for found in models if found}
        if len(kinds) != 1:
            continue  # the runs name different kinds of unit
        unit = kinds.pop()
        values = {
            prior: [found[1] for found in models if found] for prior, models in averaged.items()
        }
        for prior, v in values.items():
            intervals[(task, prior)] = interval(unit, v)
        higher = bool(rows["higher_is_better"].iloc[0])
        ranks[task], comparisons[task] = tie_aware_ranks(values, unit, higher)
    return intervals, ranks, comparisons


def _caption(dataset: str, body: str, size: str, group: pd.DataFrame, results: pd.DataFrame) -> str:
    versions = ", ".join(
        f"{t} v{v}" for t, v in group.groupby("task")["task_version"].first().items()
    )
    hashes = ", ".join(sorted(h for h in group["dataset_hash"].unique() if h))
    training = _training_note(group[group["kind"] == "prior"])
    return (
        f"dataset {dataset} (content {hashes}), body model {body}, size {size}; tasks: "
        f"{versions}. Cells: mean [95 % bootstrap interval over independent units] (number "
        "of units, trained models × evaluation seeds) where the task reports its main metric "
        "per unit (clips, resampled with all their windows, pairs or views; seeds that share "
        "their items are averaged, seeds with other items pooled within each clip), else mean "
        f"± std over runs (n runs); {training}. Ranks: per task 1 + the number of "
        "priors significantly better (paired bootstrap over units), so ties share a rank; by "
        "mean where there are no units; overall: the mean of the task ranks. Best in bold; "
        f"★ main metric{_reference_note(group)}."
        + skipped_note(len(results.attrs.get("skipped", ())))
    )


def _training_note(priors: pd.DataFrame) -> str:
    """What the caption says about training variance: which priors were scored with several
    trained models (training seeds), or that none was."""
    seeds = priors.groupby("prior")["training_seed"].agg(lambda s: sorted(set(s) - {UNTRAINED}))
    several = {prior: found for prior, found in seeds.items() if len(found) > 1}
    if several:
        listed = "; ".join(
            f"{prior}: {len(found)} (training seeds {', '.join(map(str, found))})"
            for prior, found in several.items()
        )
        return (
            f"trained models per prior: {listed}; one for the others. Intervals of a prior "
            "with several resample its models as well as the units, and its ± is over all its "
            "runs, so both include training variance"
        )
    checkpoints = priors.groupby("prior")["checkpoint"].nunique()
    if bool((checkpoints <= 1).all()):
        return "one trained model per prior, so no interval includes training variance"
    pooled = ", ".join(p for p, n in checkpoints.items() if n > 1)
    return f"several trained models for {pooled} (their runs are pooled)"


def _reference_note(group: pd.DataFrame) -> str:
    """What the caption says about the reference rows and input metrics there are."""
    kinds = set(group["kind"])
    notes = [
        f"rows '{row.prefix}…' are {row.about}, not ranked"
        for kind, row in REFERENCE_KINDS.items()
        if kind in kinds
    ]
    if INPUT_KIND in kinds:
        notes.append("metrics of the input itself (the same for every prior) show once per task")
    return "".join(f"; {note}" for note in notes)


def leaderboard_tables(
    results: pd.DataFrame, bold: tuple[str, str] = ("**", "**")
) -> list[Leaderboard]:
    """The tables of a results frame, one per (dataset, body model, size)."""
    boards = []
    for (dataset, body, size), raw in results.groupby(["dataset", "body_model", "size"], sort=True):
        group = _deduplicated(raw)
        group["description"] = group["description"].fillna("")
        keys = ["kind", "prior", "task", "metric", "unit", "higher_is_better", "main"]
        stats = group.groupby(keys)["value"].agg(mean="mean", std="std").reset_index()
        index = pd.MultiIndex.from_frame(stats[["prior", "task", "metric"]])
        counted = group.groupby(["prior", "task", "metric"])
        stats["n"] = counted["run"].nunique().reindex(index).to_numpy()
        stats["n_models"] = counted["training_seed"].nunique().reindex(index).to_numpy()
        intervals, unit_ranks, comparisons = _unit_intervals(group[group["kind"] == "prior"])
        for column in ("ci_low", "ci_high", "n_units"):
            stats[column] = float("nan")
        stats["ci_unit"] = ""
        stats["rank"] = float("nan")
        for index, row in stats.iterrows():
            found = intervals.get((row["task"], row["prior"])) if row["main"] else None
            if found is not None:
                stats.loc[index, ["ci_low", "ci_high", "n_units"]] = (
                    found.low, found.high, found.n_units,
                )  # fmt: skip
                stats.loc[index, "ci_unit"] = found.unit
        ranked = stats["kind"] == "prior"
        for (task, _metric), index in stats[ranked].groupby(["task", "metric"]).groups.items():
            column = stats.loc[index]
            if column["main"].iloc[0] and task in unit_ranks:
                stats.loc[index, "rank"] = column["prior"].map(unit_ranks[task]).astype(float)
                continue
            ascending = not column["higher_is_better"].iloc[0]
            stats.loc[index, "rank"] = column["mean"].rank(ascending=ascending, method="min")
        stats = stats[[  # the CSV's columns: the long-standing ones first
            "prior", "task", "metric", "unit", "higher_is_better", "main", "mean", "std", "n",
            "rank", "kind", "ci_low", "ci_high", "ci_unit", "n_units", "n_models",
        ]]  # fmt: skip
        main_ranks = stats[stats["main"] & ranked].groupby("prior")["rank"].mean()
        overall = main_ranks.rank(method="min")
        shown = stats[stats["kind"] != INPUT_KIND]  # input metrics: a line, not a column
        display = _frame(shown[shown["main"]], bold, overall)
        per_task = {  # ranked by the task's own main metric
            task: _frame(rows, bold, rows[rows["main"]].set_index("prior")["rank"])
            for task, rows in shown.groupby("task", sort=True)
        }
        boards.append(
            Leaderboard(
                dataset,
                body,
                size,
                _caption(dataset, body, size, group, results),
                stats,
                display,
                per_task,
                _warnings(group) + _disagreements(raw),
                _arrays_files(group[group["kind"] == "prior"]),
                {task: [_comparison_line(c) for c in found] for task, found in comparisons.items()},
                inputs=_input_lines(stats[stats["kind"] == INPUT_KIND]),
                legends=_legends(stats, group),
            )
        )
    return boards


def _comparison_line(comparison: Comparison) -> str:
    d = comparison.difference
    verdict = "significant" if comparison.significant else "not significant"
    models = " and their trained models" if d.n_models > 1 else ""
    return (
        f"{comparison.first} − {comparison.second}: {d.mean:+.4g} [{d.low:+.4g}, {d.high:+.4g}] "
        f"over {d.n_units} {d.unit}s{models} ({verdict})"
    )


def _arrays_files(group: pd.DataFrame) -> dict[str, dict[str, Path]]:
    """Per task and prior, the arrays file written beside the lowest seed's result, if any."""
    files: dict[str, dict[str, Path]] = {}
    runs = group.drop_duplicates("path").sort_values(["task", "prior", "training_seed", "seed"])
    for row in runs.itertuples():
        candidate = Path(row.path).with_suffix(".npz")
        if row.prior not in files.get(row.task, {}) and candidate.is_file():
            files.setdefault(row.task, {})[row.prior] = candidate
    return files


def _input_lines(inputs: pd.DataFrame) -> dict[str, str]:
    """Per task, its input metrics' values as one line: "noisy_mpjpe_mm 64.06 mm, ..."."""
    lines = {}
    for task, rows in inputs.sort_values(["task", "metric"]).groupby("task", sort=True):
        items = []
        for row in rows.itertuples():
            if pd.isna(row.mean):
                items.append(f"{row.metric} n/a")
                continue
            spread = f" ± {row.std:.2g}" if row.n > 1 and not pd.isna(row.std) else ""
            unit = f" {row.unit}" if row.unit else ""
            seeds = f" (n={int(row.n)})" if row.n > 1 else ""
            items.append(f"{row.metric} {row.mean:.4g}{spread}{unit}{seeds}")
        lines[str(task)] = ", ".join(items)
    return lines


def _legends(stats: pd.DataFrame, group: pd.DataFrame) -> dict[str, list[MetricNote]]:
    """Per task, a note per metric in column order (main metric first), then its input metrics,
    with the description its task declares."""
    described = group[group["description"] != ""].groupby(["task", "metric"])["description"]
    descriptions = described.first().to_dict()
    metrics = stats.drop_duplicates(["task", "metric"]).assign(of_input=stats["kind"] == INPUT_KIND)
    metrics = metrics.sort_values(
        ["task", "of_input", "main", "metric"], ascending=[True, True, False, True]
    )
    legends: dict[str, list[MetricNote]] = {}
    for row in metrics.itertuples():
        note = MetricNote(
            str(row.metric), str(row.unit), bool(row.higher_is_better), bool(row.main),
            bool(row.of_input), str(descriptions.get((row.task, row.metric), "")),
        )  # fmt: skip
        legends.setdefault(str(row.task), []).append(note)
    return legends


def _frame(stats: pd.DataFrame, bold: tuple[str, str], overall: pd.Series) -> pd.DataFrame:
    """Priors as rows (ordered by overall rank), then the reference rows by kind (the kind in
    the rank column), one formatted column per (task, metric); the best prior's value of each
    column in bold, unless every prior shares the best rank (then no cell is)."""
    columns: dict[str, pd.Series] = {}
    order = stats.sort_values(["task", "main", "metric"], ascending=[True, False, True])
    for (task, metric), rows in order.groupby(["task", "metric"], sort=False):
        first = rows.iloc[0]
        ranked = rows[rows["kind"] == "prior"]["rank"]
        tied = len(ranked) > 1 and bool((ranked == 1).all())  # nobody is best when all are
        cells = [
            _cell(r, r.kind == "prior" and r.rank == 1 and not tied, bold)
            for r in rows.itertuples()
        ]
        label = _column_label(task, metric, first.unit, first.higher_is_better, first.main)
        columns[label] = pd.Series(cells, index=rows["prior"].to_numpy())
    frame = pd.DataFrame(columns)
    kinds = stats.drop_duplicates("prior").set_index("prior")["kind"]
    order = list(REFERENCE_KINDS)
    references = sorted(  # known kinds in their order, any other kind after them
        (p for p in frame.index if kinds[p] != "prior"),
        key=lambda p: (order.index(kinds[p]) if kinds[p] in order else len(order), kinds[p], p),
    )
    priors = frame.drop(index=references)
    priors.insert(0, "rank", overall.reindex(priors.index))
    priors = priors.sort_values("rank")
    priors["rank"] = priors["rank"].astype("Int64").astype(str).replace("<NA>", "—")
    rows = frame.loc[references].copy()
    rows.insert(0, "rank", [kinds[p] for p in references])
    frame = pd.concat([priors, rows]).rename_axis("prior").reset_index()
    return frame.fillna("—")  # no result for this prior
