"""Leaderboard tables: ranks, best marks, units and arrows, warnings for mixed results."""

from __future__ import annotations

import base64
import json
import re

import pytest
import torch

import posebench
from posebench.core.errors import InputError
from posebench.core.npzio import write_npz
from posebench.leaderboard import BOLD, collect_results, leaderboard_tables, render
from posebench.render import decode_png
from posebench.results import ResultRecord

METRICS = {
    "mpjpe_mm": {"unit": "mm", "higher_is_better": False},
    "recall": {"unit": "", "higher_is_better": True},
}


def write(out, prior, seed, mpjpe, recall, version="1", size="full", training_seed=None,
          **fields):  # fmt: skip
    """A denoise result file; ``fields`` adds record fields (per_unit, data_rows, ...)."""
    model = f"{prior}-model" if training_seed is None else f"{prior}-model{training_seed}"
    return ResultRecord(
        prior={
            "name": prior,
            "version": "1",
            "checkpoint_sha256": model,
            "training_seed": training_seed,
        },
        task={
            "name": "denoise",
            "version": version,
            "protocol": "humor",
            "main_metric": "mpjpe_mm",
            "metrics": METRICS,
        },
        dataset={"name": "embedded", "content_hash": "abcdef0123456789"},
        body_model={"name": "anny"},
        seed=seed,
        size=size,
        device={"type": "cpu"},
        metrics={"mpjpe_mm": mpjpe, "recall": recall},
        **fields,
    ).write(out)


def test_ranks_best_marks_and_columns(tmp_path):
    for seed, (a, b) in enumerate([(10.0, 20.0), (12.0, 22.0)]):
        write(tmp_path, "posendf", seed, a, 0.5)
        write(tmp_path, "none", seed, b, 0.9)
    (board,) = leaderboard_tables(collect_results(tmp_path))
    assert list(board.display["prior"]) == ["posendf", "none"]
    assert list(board.display.columns) == ["prior", "rank", "denoise@humor mpjpe_mm (mm) ↓ ★"]
    detail = board.per_task["denoise@humor"]
    assert list(detail.columns) == [
        "prior", "rank", "denoise@humor mpjpe_mm (mm) ↓ ★", "denoise@humor recall ↑",
    ]  # fmt: skip
    assert detail.iloc[0, 2] == "**11 ± 1.4 (n=2)**"
    assert detail.iloc[1, 3] == "**0.9 ± 0 (n=2)**"  # higher recall is better
    assert board.warnings == [] and "skipped" not in board.caption
    assert "content abcdef012345" in board.caption and "denoise@humor v1" in board.caption
    csv = render([board], "csv").splitlines()
    assert csv[0].startswith("prior,task,metric,unit,higher_is_better,main,mean,std,n,rank")
    assert len(csv) == 5


def test_quick_and_full_are_separate_tables_and_mixing_is_reported(tmp_path):
    write(tmp_path, "posendf", 0, 10.0, 0.5)
    write(tmp_path, "none", 0, 20.0, 0.9, version="2")
    write(tmp_path, "none", 1, 20.0, 0.9, version="2")
    write(tmp_path, "none", 0, 30.0, 0.1, size="quick")
    boards = leaderboard_tables(collect_results(tmp_path))
    assert [b.size for b in boards] == ["full", "quick"]
    warnings = " ".join(boards[0].warnings)
    assert "mixes task versions 1, 2" in warnings
    assert "different seeds per prior" in warnings
    md = render(boards, "md")
    assert "> ⚠ denoise@humor mixes task versions 1, 2" in md
    assert "<table" in render(boards, "html")


def write_sample(out, prior, seed, fid, poses=None):
    """A sample-task result, with its kept samples beside it when ``poses`` is given."""
    path = ResultRecord(
        prior={"name": prior, "version": "1"},
        task={
            "name": "sample",
            "version": "1",
            "protocol": "default",
            "main_metric": "fid",
            "metrics": {"fid": {"unit": "", "higher_is_better": False}},
        },
        dataset={"name": "embedded", "content_hash": "abcdef0123456789"},
        body_model={"name": "anny"},
        seed=seed,
        size="full",
        device={"type": "cpu"},
        metrics={"fid": fid},
    ).write(out)
    if poses is not None:
        write_npz(path.with_suffix(".npz"), {"pose_body": poses.reshape(len(poses), 63)}, {})


def test_html_page_has_tables_charts_and_pictures_of_samples(tmp_path):
    pytest.importorskip("matplotlib")  # the charts need the 'report' extra
    for seed, (a, b) in enumerate([(10.0, 20.0), (12.0, 22.0)]):
        write(tmp_path, "posendf", seed, a, 0.5)
        write(tmp_path, "none", seed, b, 0.9)
    poses = 0.3 * torch.randn(10, 21, 3, generator=torch.Generator().manual_seed(0))
    write_sample(tmp_path, "posendf", 0, 5.0)  # seed 0 kept nothing: seed 1's samples are used
    write_sample(tmp_path, "posendf", 1, 6.0, poses.numpy())
    write_sample(tmp_path, "none", 0, 50.0, poses[:3].numpy())
    (board,) = leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"])
    files = board.arrays["sample@default"]
    assert files["posendf"].name == "seed1.npz" and files["none"].name == "seed0.npz"

    assert "data:image/png" not in render([board], "html")  # no body model given: no pictures
    page = render([board], "html", body_model=posebench.load_body_model)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<b>11 ± 1.4 (n=2)</b>" in page and "**" not in page
    assert page.count("<svg") == 2  # one chart per task
    assert "mpjpe_mm (mm) ★" in page and "↓ better" in page
    pictures = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(pictures) == 2  # one row per prior with samples, in leaderboard order
    first = decode_png(base64.b64decode(pictures[0]))
    assert first.shape == (144, 8 * 144 + 7 * 4, 3)  # posendf: 8 of its 10 samples
    assert decode_png(base64.b64decode(pictures[1])).shape[1] == 3 * 144 + 2 * 4
    assert page.index("the first 8 samples") < page.index("the first 3 samples")


def test_html_page_without_matplotlib_still_has_tables(tmp_path, monkeypatch, capsys):
    from posebench.cli.main import main
    from posebench.leaderboard import plots

    write(tmp_path, "posendf", 0, 10.0, 0.5)
    monkeypatch.setattr(plots, "matplotlib_available", lambda: False)
    out = tmp_path / "board.html"
    assert main(["leaderboard", "--results", str(tmp_path), "--out", str(out)]) == 0
    page = out.read_text()
    assert "<table" in page and "<svg" not in page and "pose-prior-bench[report]" in page
    assert "no charts" in capsys.readouterr().err


def edit(path, change):
    """Rewrite a result file after ``change(data)`` (a hand-edited or damaged file)."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
QUOTES = "x' onmouseover='alert(1)\" <img src=x onerror=alert(2)>"


def hostile(data):
    """Markup in every name the page shows: prior, task, dataset, body, metric, unit, the
    description in the legend, and an input metric's name and unit in the line under a table."""
    data["prior"]["name"] = SCRIPT
    data["task"]["name"] = QUOTES
    data["dataset"]["name"] = SCRIPT
    data["body_model"]["name"] = QUOTES
    data["task"]["metrics"]["recall"]["unit"] = SCRIPT
    data["metrics"][SCRIPT] = 1.0
    data["task"]["metrics"][SCRIPT] = {"unit": QUOTES, "higher_is_better": True,
                                       "description": SCRIPT}  # fmt: skip
    data["metrics"][f"in{SCRIPT}"] = 2.0
    data["task"]["metrics"][f"in{SCRIPT}"] = {"unit": SCRIPT, "higher_is_better": False,
                                              "describes_input": True}  # fmt: skip


def test_html_page_escapes_names_from_result_files_and_forbids_scripts(tmp_path):
    write(tmp_path, "posendf", 0, 10.0, 0.5)
    edit(write(tmp_path, "none", 0, 20.0, 0.9), hostile)
    boards = leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"])
    page = render(boards, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text, escaped once
    assert "&amp;lt;" not in page
    assert "<script" not in page.lower() and "<img" not in page.lower()
    # matplotlib notes each chart label in an SVG comment, with < > & and -- escaped: inert
    comments = re.findall(r"<!--(.*?)-->", page, flags=re.DOTALL)
    assert all("<" not in c and ">" not in c and "--" not in c for c in comments)
    markup = re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL)
    assert "onmouseover='" not in markup and "x&#x27; onmouseover=&#x27;alert(1)&quot;" in page
    assert "<b>10</b>" in page  # the best-value marks stay markup
    assert f"in{ESCAPED} 2 {ESCAPED}</p>" in page  # the input line
    assert f"&gt;; higher is better): {ESCAPED}</li>" in page  # the legend
    if "<svg" in page:  # the colour legend names the prior as text too
        assert "></span>&lt;script&gt;alert(1)&lt;/script&gt;" in page
    csp = re.search(r"<meta http-equiv='Content-Security-Policy' content=\"([^\"]+)\">", page)
    assert csp and page.index(csp.group(0)) < page.index("<style>")
    policy = csp.group(1)
    for directive in ("default-src 'none'", "script-src 'none'", "img-src data:"):
        assert directive in policy
    md = render(leaderboard_tables(collect_results(tmp_path)), "md")
    assert SCRIPT in md  # Markdown shows names as they are; its table stays one row per line


def test_markdown_keeps_rows_whole_when_names_hold_pipes_and_newlines(tmp_path):
    edit(write(tmp_path, "none", 0, 20.0, 0.9), lambda d: d["prior"].update(name="a|b\nc"))
    md = render(leaderboard_tables(collect_results(tmp_path)), "md")
    assert "| a\\|b c |" in md and "\nc" not in md


def terminal(monkeypatch, width=80):
    """stdout as a terminal of ``width`` columns: the leaderboard command draws rich tables."""
    import io

    from rich.console import Console

    from posebench.cli import console

    screen = Console(file=io.StringIO(), force_terminal=True, width=width)
    monkeypatch.setattr(console, "stdout", screen)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    return screen.file


def test_terminal_tables_show_markup_like_names_as_text(tmp_path, monkeypatch):
    from posebench.cli.main import main

    edit(write(tmp_path, "none", 0, 20.0, 0.9), lambda d: d["prior"].update(name="[/x]"))
    screen = terminal(monkeypatch)
    assert main(["leaderboard", "--results", str(tmp_path)]) == 0
    assert "[/x]" in screen.getvalue()


LONG = "a-prior-with-a-name-far-longer-than-any-terminal-is-wide-" * 2


@pytest.mark.parametrize("fmt", [None, "md", "csv"])
def test_piped_markdown_and_csv_are_never_wrapped_or_cut(tmp_path, capsys, fmt):
    from posebench.cli.main import main

    write(tmp_path, LONG, 0, 10.0, 0.5)
    write(tmp_path, "none", 0, 20.0, 0.9)
    argv = ["leaderboard", "--results", str(tmp_path)] + (["--format", fmt] if fmt else [])
    assert main(argv) == 0  # stdout is captured: a pipe, not a terminal
    out = capsys.readouterr().out
    assert "…" not in out and "┃" not in out  # no rich table, nothing cut
    if fmt == "csv":
        assert f"{LONG},denoise@humor,mpjpe_mm," in out
        return
    assert f"| {LONG} | 1 | **10** |" in out  # Markdown (the default when piped), one row a line
    assert max(len(line) for line in out.splitlines()) > 200


def test_terminal_tables_fold_long_cells_instead_of_cutting_them(tmp_path, monkeypatch):
    from posebench.cli.main import main

    write(tmp_path, LONG, 0, 10.0, 0.5)
    screen = terminal(monkeypatch, width=60)
    assert main(["leaderboard", "--results", str(tmp_path)]) == 0
    shown = screen.getvalue()
    assert "…" not in shown and "┃" in shown  # a rich table, its name and headers folded


MALFORMED = {
    "metrics-list": (lambda d: d.update(metrics=[1.0]), "has metrics [1.0]"),
    "task-string": (lambda d: d.update(task="denoise"), 'has task "denoise"'),
    "prior-null": (lambda d: d.update(prior=None), "has prior null"),
    "metric-string": (lambda d: d["metrics"].update(recall="0.5"), 'has metric "recall" = "0.5"'),
    "seed-string": (lambda d: d.update(seed="1"), 'has seed "1"'),
}


def write_malformed(out):
    """One damaged file of each kind beside nothing else; returns their paths and reasons."""
    files = {}
    for seed, (change, reason) in enumerate(MALFORMED.values(), start=10):
        path = write(out, "broken", seed, 1.0, 1.0)
        edit(path, change)
        files[path] = reason
    junk = out / "embedded" / "anny" / "denoise@humor" / "junk" / "seed0.json"
    junk.parent.mkdir(parents=True)
    junk.write_text("{not json")
    files[junk] = "not valid JSON"
    return files


def test_malformed_result_files_are_skipped_and_counted(tmp_path):
    write(tmp_path, "posendf", 0, 10.0, 0.5)
    write(tmp_path, "none", 0, 20.0, 0.9)
    files = write_malformed(tmp_path)
    results = collect_results(tmp_path)
    skipped = results.attrs["skipped"]
    assert len(skipped) == len(files) == 6
    for path, reason in files.items():  # one reason per file, naming it and what is wrong
        (line,) = [s for s in skipped if f"result file {path} " in s]
        assert reason in line and "\n" not in line
    (board,) = leaderboard_tables(results)
    assert list(board.display["prior"]) == ["posendf", "none"]  # the good files still count
    assert "6 result files skipped (malformed)" in board.caption


def test_leaderboard_command_warns_once_per_malformed_file_and_exits_0(tmp_path, capsys):
    from posebench.cli.main import main

    write(tmp_path, "posendf", 0, 10.0, 0.5)
    files = write_malformed(tmp_path)
    out = tmp_path / "board.md"
    assert main(["leaderboard", "--results", str(tmp_path), "--out", str(out)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(files) and "Traceback" not in "".join(lines)
    for path in files:
        assert sum(f"result file {path} " in line for line in lines) == 1
    assert all(line.startswith("posebench: warning: skipped") for line in lines)
    assert "6 result files skipped (malformed)" in out.read_text()


def test_only_malformed_files_is_one_error_naming_one(tmp_path):
    files = write_malformed(tmp_path)
    with pytest.raises(InputError, match="6 skipped; first: result file") as excinfo:
        collect_results(tmp_path)
    assert any(str(path) in str(excinfo.value) for path in files)


def test_html_page_is_the_same_bytes_for_the_same_results(tmp_path):
    """The published page is regenerated and committed: charts must not carry random ids."""
    pytest.importorskip("matplotlib")
    for seed, (a, b) in enumerate([(10.0, 20.0), (12.0, 22.0)]):
        write(tmp_path, "posendf", seed, a, 0.5)
        write(tmp_path, "none", seed, b, 0.9)
    boards = leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"])
    first = render(boards, "html")
    assert "<svg" in first
    assert render(boards, "html") == first


def write_units(out, prior, seed, clips, data_rows=None, training_seed=None):
    """A denoise result whose main metric comes per clip (lists of window values)."""
    values = [v for windows in clips.values() for v in windows]
    per_unit = {"unit": "clip", "item": "window", "values": clips}
    mean = sum(values) / len(values)
    return write(out, prior, seed, mean, 0.5, per_unit=per_unit, data_rows=data_rows or {},
                 training_seed=training_seed)  # fmt: skip


def test_trained_models_are_resampled_so_training_variance_widens_intervals(tmp_path):
    clips = [f"clip{k}" for k in range(8)]
    # a: three trained models 3 mm apart on every clip; b: one model, 0.5 mm worse than a's mean
    for training_seed, shift in enumerate((-3.0, 0.0, 3.0)):
        for seed in range(2):
            written = write_units(tmp_path / "all", "a", seed,
                                  {c: [20.0 + k + shift] for k, c in enumerate(clips)},
                                  training_seed=training_seed)  # fmt: skip
            assert written.parent.name == f"train{training_seed}"  # never overwrites another
            if training_seed == 1:
                write_units(
                    tmp_path / "one", "a", seed, {c: [20.0 + k] for k, c in enumerate(clips)}
                )
    for folder in ("all", "one"):
        for seed in range(2):
            write_units(tmp_path / folder, "b", seed, {c: [20.5 + k] for k, c in enumerate(clips)})
    (board,) = leaderboard_tables(collect_results(tmp_path / "all"))
    (alone,) = leaderboard_tables(collect_results(tmp_path / "one"))
    main = board.stats[board.stats["main"]].set_index("prior")
    assert main.loc["a", "n_models"] == 3 and main.loc["a", "n"] == 6
    assert main.loc["a", "mean"] == pytest.approx(23.5)  # every model's items, pooled
    single = alone.stats[alone.stats["main"]].set_index("prior")
    width = main.loc["a", "ci_high"] - main.loc["a", "ci_low"]
    assert width > single.loc["a", "ci_high"] - single.loc["a", "ci_low"] + 2.0
    assert "(8 clips, 3 models × 2 seeds)" in board.display.set_index("prior").loc["a"].iloc[1]
    # one model: a beats b on every clip; three: the 3 mm between models swamp 0.5 mm
    assert (
        "a − b: -0.5 [-0.5, -0.5] over 8 clips (significant)" in alone.comparisons["denoise@humor"]
    )
    (line,) = board.comparisons["denoise@humor"]
    assert "and their trained models (not significant)" in line
    assert "a: 3 (training seeds 0, 1, 2)" in board.caption
    assert "no interval includes training variance" in alone.caption


def test_ranks_tie_where_the_difference_over_clips_is_not_significant(tmp_path):
    clips = [f"clip{k}" for k in range(8)]
    for seed in range(2):
        # a: always 1 mm better than c, clip by clip; b: better on some clips, worse on others
        write_units(tmp_path, "a", seed, {c: [20.0 + k, 21.0 + k] for k, c in enumerate(clips)})
        write_units(tmp_path, "b", seed, {c: [21.0 + k + (4 if k % 2 else -4)] * 2
                                          for k, c in enumerate(clips)})  # fmt: skip
        write_units(tmp_path, "c", seed, {c: [21.0 + k, 22.0 + k] for k, c in enumerate(clips)})
    (board,) = leaderboard_tables(collect_results(tmp_path))
    detail = board.per_task["denoise@humor"]
    ranks = dict(zip(detail["prior"], detail["rank"], strict=True))
    assert ranks == {"a": "1", "b": "1", "c": "2"}  # b ties with both; a beats c on every clip
    assert list(board.display["rank"]) == ["1", "1", "3"]  # overall: competition ranking
    main = board.stats[board.stats["main"]].set_index("prior")
    assert main.loc["a", "ci_unit"] == "clip" and main.loc["a", "n_units"] == 8
    assert main.loc["a", "ci_low"] < main.loc["a", "mean"] < main.loc["a", "ci_high"]
    assert "(8 clips, 2 seeds)" in board.display.set_index("prior").iloc[0, 1]
    lines = board.comparisons["denoise@humor"]
    assert "a − c: -1 [-1, -1] over 8 clips (significant)" in lines
    assert any(line.startswith("a − b") and "not significant" in line for line in lines)
    assert "Pairwise differences" in render([board], "md")
    assert "no interval includes training variance" in board.caption


def test_data_rows_are_shown_once_labelled_and_never_ranked(tmp_path):
    rows = {"train": {"mpjpe_mm": 1.0, "recall": 0.99}}
    for prior, error in (("a", 10.0), ("b", 12.0)):
        for seed in range(2):
            write_units(tmp_path, prior, seed, {"x": [error]}, data_rows=rows)
    (board,) = leaderboard_tables(collect_results(tmp_path))
    assert list(board.display["prior"]) == ["a", "b", "data: train"]
    assert list(board.display["rank"]) == ["1", "2", "data"]
    data = board.stats[board.stats["kind"] == "data"]
    assert set(data["n"]) == {2}  # two seeds, not four files' copies
    assert data["rank"].isna().all()
    detail = board.per_task["denoise@humor"].set_index("prior")
    assert not detail.loc["data: train"].str.contains(r"\*\*").any()  # better, but not bold


def test_seeds_that_drew_other_items_are_pooled_within_each_clip(tmp_path):
    # seed 0 drew two pairs from clip x, seed 1 one pair from x and one from y
    for prior, shift in (("a", 0.0), ("b", 1.0)):
        write_units(tmp_path, prior, 0, {"x": [1.0 + shift, 3.0 + shift]})
        write_units(tmp_path, prior, 1, {"x": [5.0 + shift], "y": [7.0 + shift]})
    (board,) = leaderboard_tables(collect_results(tmp_path))
    main = board.stats[board.stats["main"]].set_index("prior")
    assert main.loc["a", "n_units"] == 2  # clips x and y, items of both seeds pooled
    assert "a − b: -1 [-1, -1] over 2 clips (significant)" in board.comparisons["denoise@humor"]


def with_input_metric(value, declared=None, task=None):
    """A change adding ``noisy_mpjpe_mm`` (the input's own error) to a result file, declared as
    ``declared`` (older files declare no description or input flag), maybe of another task."""

    def change(data):
        data["metrics"]["noisy_mpjpe_mm"] = value
        spec = {"unit": "mm", "higher_is_better": False} if declared is None else declared
        data["task"]["metrics"]["noisy_mpjpe_mm"] = spec
        if task:
            data["task"]["name"], data["task"]["version"] = task

    return change


INPUT = {"unit": "mm", "higher_is_better": False, "description": "the input's error",
         "describes_input": True}  # fmt: skip


def test_input_metrics_show_once_per_task_never_ranked_bold_or_plotted(tmp_path):
    for seed in range(2):
        edit(write(tmp_path, "posendf", seed, 10.0, 0.5), with_input_metric(40.0, INPUT))
        edit(write(tmp_path, "none", seed, 20.0, 0.9), with_input_metric(40.0, INPUT))
    (board,) = leaderboard_tables(collect_results(tmp_path))
    detail = board.per_task["denoise@humor"]
    assert not any("noisy" in column for column in detail.columns)  # no column per prior
    assert list(detail["prior"]) == ["posendf", "none"]  # and no row of dashes either
    assert board.inputs == {"denoise@humor": "noisy_mpjpe_mm 40 ± 0 mm (n=2)"}
    rows = board.stats[board.stats["metric"] == "noisy_mpjpe_mm"]
    assert list(rows["prior"]) == ["input"] and list(rows["kind"]) == ["input"]
    assert rows["rank"].isna().all() and list(rows["n"]) == [2]  # once, over the two seeds
    assert "show once per task" in board.caption and board.warnings == []
    md = render([board], "md")
    assert md.count("Input (the same for every prior, not ranked): noisy_mpjpe_mm 40") == 1
    assert "**40" not in md
    csv = render([board], "csv")
    assert sum(line.startswith("input,denoise@humor,noisy_mpjpe_mm") for line in csv.split()) == 1
    html_board = leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"])
    page = render(html_board, "html")
    assert "Input (the same for every prior, not ranked): noisy_mpjpe_mm 40" in page
    assert "<b>40" not in page
    if "<svg" in page:  # with matplotlib: the chart has a panel for mpjpe_mm and recall only
        assert "noisy_mpjpe_mm (mm)" not in " ".join(re.findall(r"<!--(.*?)-->", page))


def test_files_before_the_input_flag_fall_back_to_the_installed_task_then_the_prefix(tmp_path):
    # denoise v1 is installed: its declaration says noisy_mpjpe_mm describes the input
    edit(write(tmp_path, "a", 0, 10.0, 0.5), with_input_metric(40.0))
    # a task not installed here: the noisy_ prefix is all an old file has to go by
    edit(write(tmp_path, "a", 1, 10.0, 0.5), with_input_metric(7.0, task=("retired", "1")))
    # a file that declares the flag is believed, whatever the name
    declared = {**INPUT, "describes_input": False}
    edit(write(tmp_path, "a", 2, 10.0, 0.5), with_input_metric(3.0, declared, ("new", "1")))
    (board,) = leaderboard_tables(collect_results(tmp_path))  # one file per task
    assert board.inputs == {
        "denoise@humor": "noisy_mpjpe_mm 40 mm",
        "retired@humor": "noisy_mpjpe_mm 7 mm",
    }
    assert any("noisy_mpjpe_mm" in column for column in board.per_task["new@humor"].columns)
    legend = {n.metric: n.text() for n in board.legends["denoise@humor"]}
    assert "MPJPE of the noisy input" in legend["noisy_mpjpe_mm"]  # the installed task's words
    assert (
        "no description declared"
        in {n.metric: n.text() for n in board.legends["retired@humor"]}["noisy_mpjpe_mm"]
    )


def test_each_task_has_a_legend_of_its_metrics_in_markdown_and_html(tmp_path):
    described = {
        "mpjpe_mm": {"unit": "mm", "higher_is_better": False, "description": "joint error"},
        "recall": {"unit": "", "higher_is_better": True, "description": f"coverage {SCRIPT}"},
    }
    path = write(tmp_path, "a", 0, 10.0, 0.5)
    edit(path, lambda d: d["task"].update(name="toy", metrics=described))
    edit(path, with_input_metric(40.0, INPUT))
    (board,) = leaderboard_tables(collect_results(tmp_path))
    lines = [note.text() for note in board.legends["toy@humor"]]
    assert lines == [
        "mpjpe_mm (mm; lower is better; ★ main metric): joint error",
        f"recall (higher is better): coverage {SCRIPT}",
        "noisy_mpjpe_mm (mm; of the input itself, not ranked): the input's error",
    ]  # column order, then the input's metrics
    md = render([board], "md")
    assert "Metrics:\n\n- mpjpe_mm (mm; lower is better; ★ main metric): joint error\n" in md
    page = render([board], "html")
    assert "<li>recall (higher is better): coverage &lt;script&gt;" in page
    assert "<script" not in page.lower()


def test_copies_of_the_input_that_disagree_between_priors_are_reported(tmp_path):
    edit(write(tmp_path, "a", 0, 10.0, 0.5), with_input_metric(40.0, INPUT))
    edit(write(tmp_path, "b", 0, 12.0, 0.5), with_input_metric(41.0, INPUT))
    (board,) = leaderboard_tables(collect_results(tmp_path))
    (warning,) = board.warnings
    assert "disagree on input noisy_mpjpe_mm (seed 0: 40 to 41)" in warning


def test_each_prior_has_one_colour_in_every_section_and_reference_rows_are_grey(
    tmp_path, monkeypatch
):
    pytest.importorskip("matplotlib")
    from posebench.leaderboard import plots

    rows = {"train": {"mpjpe_mm": 1.0, "recall": 0.99}}
    for prior, error in (("a", 10.0), ("b", 12.0), ("c", 14.0)):
        write(tmp_path, prior, 0, error, 0.5)
    for prior, error in (("b", 11.0), ("c", 9.0)):  # another table, without a: b comes first
        write(tmp_path, prior, 0, error, 0.5, size="quick", data_rows=rows)
        write_sample(tmp_path, prior, 0, error)
    charts = []

    def recording(stats, order, colors):
        svg = original(stats, order, colors)
        charts.append((order, colors, svg))
        return svg

    original = plots.task_chart
    monkeypatch.setattr(plots, "task_chart", recording)
    page = render(leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"]), "html")
    assert len(charts) == 3  # denoise in both tables, sample in the full one
    seen: dict[str, set[str]] = {}
    for order, colors, svg in charts:
        for name in order:
            seen.setdefault(name, set()).add(colors[name])
            assert f"fill: {colors[name].lower()}" in svg  # its bars are drawn in its colour
    assert all(len(found) == 1 for found in seen.values()), seen
    color = {name: found.pop() for name, found in seen.items()}
    assert color["data: train"] == plots.REFERENCE_COLOR
    assert len({color[p] for p in "abc"} | {plots.REFERENCE_COLOR}) == 4  # all different
    assert color == {**plots.prior_colors("abc", ["data: train"])}
    key = re.search(r"<p class='legend'>Colours in every chart:(.*?)</p>", page).group(1)
    for name in ("a", "b", "c"):  # the page's one legend says the same
        assert f"<span class='swatch' style='background: {color[name]}'></span>{name}" in key
    assert f"background: {plots.REFERENCE_COLOR}'></span>reference rows" in key


@pytest.mark.parametrize(
    ("values", "scale"),
    [
        ([24.7, 24.9, 75.3], "linear"),
        ([0.0184, 0.54, 5.11, 17.3], "log"),  # 3 orders of magnitude: small bars would vanish
        ([-0.237, -0.0238, 0.0, 50.4], "symlog"),  # as wide, with zero and negatives
        ([0.0, 5.0, float("nan")], "linear"),  # one non-zero value: nothing to compare
        ([1.0, 30.0], "linear"),  # 1.48 orders of magnitude: still linear
    ],
)
def test_panels_whose_values_span_orders_of_magnitude_get_a_log_axis(values, scale):
    from posebench.leaderboard.plots import value_scale

    assert value_scale(values) == scale


def test_charts_label_every_bar_and_say_when_the_axis_is_logarithmic(tmp_path):
    pytest.importorskip("matplotlib")
    for prior, error, recall in (("a", 0.02, 0.5), ("b", 40.0, 0.25), ("c", 7.5, 0.0)):
        write(tmp_path, prior, 0, error, recall)
    page = render(leaderboard_tables(collect_results(tmp_path), bold=BOLD["html"]), "html")
    labels = re.findall(r"<!-- (.*?) -->", page)  # matplotlib notes every text it draws
    assert "log scale" in labels  # mpjpe_mm spans three orders of magnitude
    assert {"0.02", "40", "7.5", "0.5", "0.25", "0"} <= set(labels)  # a value on every bar
    assert sum(label.startswith("symlog") for label in labels) == 0  # recall: linear


def test_baseline_rows_are_reference_rows_after_the_data_never_ranked_and_grey(tmp_path):
    from posebench.leaderboard import plots
    from posebench.leaderboard.html_page import page_colors

    data = {"train": {"mpjpe_mm": 1.0, "recall": 0.99}}
    baselines = {"moving average": {"mpjpe_mm": 5.0, "recall": 0.95}}
    for prior, error in (("a", 10.0), ("b", 12.0)):
        for seed in range(2):
            write(tmp_path, prior, seed, error, 0.5, data_rows=data, baseline_rows=baselines)
    (board,) = leaderboard_tables(collect_results(tmp_path))
    assert list(board.display["prior"]) == ["a", "b", "data: train", "baseline: moving average"]
    assert list(board.display["rank"]) == ["1", "2", "data", "baseline"]
    rows = board.stats[board.stats["kind"] == "baseline"]
    assert set(rows["n"]) == {2} and rows["rank"].isna().all()  # one copy per seed, unranked
    detail = board.per_task["denoise@humor"].set_index("prior")
    assert detail.loc["a"].str.contains(r"\*\*").any()  # the best prior is bold
    assert not detail.loc["baseline: moving average"].str.contains(r"\*\*").any()  # not this
    assert "rows 'baseline: …' are prior-free methods on the same inputs" in board.caption
    colors = page_colors([board])
    assert colors["baseline: moving average"] == colors["data: train"] == plots.REFERENCE_COLOR


def test_a_column_where_every_prior_ties_marks_nobody_best(tmp_path):
    for prior, mpjpe in (("a", 10.0), ("b", 20.0), ("c", 30.0)):
        write(tmp_path, prior, 0, mpjpe, 0.0)  # recall 0 for all: a tie, not three winners
    (board,) = leaderboard_tables(collect_results(tmp_path))
    detail = board.per_task["denoise@humor"].set_index("prior")
    recall = next(column for column in detail.columns if "recall" in column)
    mpjpe = next(column for column in detail.columns if "mpjpe_mm" in column)
    assert not any(str(cell).startswith("**") for cell in detail[recall])
    assert str(detail.loc["a", mpjpe]).startswith("**")
