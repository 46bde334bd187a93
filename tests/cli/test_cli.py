"""The command line end to end through a test plugin; every user error is one line, status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from posebench.cli.main import main
from posebench.results import read_result

TOY = ["--dataset", "toy-poses", "--body-model", "toy-stick", "--quiet"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, f"exit status {code}, expected 2; stderr: {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def test_plugins_json_lists_kind_name_plugin_version(capsys, toy_plugin):
    code, out, _ = run_cli(capsys, "plugins", "--json")
    assert code == 0
    listed = {(e["kind"], e["name"]): e for e in json.loads(out)}
    assert listed[("prior", "none")]["plugin"] == "posebench"
    assert listed[("task", "toy-energy-gap")]["plugin"] == "toy_plugin"  # its module
    assert {"name", "kind", "plugin", "version"} <= set(listed[("prior", "none")])


def test_plugins_table(capsys):
    code, out, _ = run_cli(capsys, "plugins")
    assert code == 0 and "none" in out and "prior" in out


def test_run_writes_a_result_through_the_whole_runner(capsys, tmp_path, toy_plugin):
    code, out, err = run_cli(
        capsys, "run", "--prior", "toy-gauss", "--task", "toy-energy-gap", *TOY,
        "--seed", "7", "--quick", "--out", str(tmp_path), "--device", "cpu",
    )  # fmt: skip
    assert code == 0, err
    path = tmp_path / "toy-poses" / "toy-stick" / "toy-energy-gap@default" / "toy-gauss"
    path = path / "seed7.quick.json"
    assert f"result: {path}" in out and "energy_gap" in out
    record = read_result(path)
    assert record.metrics["energy_gap"] > 100  # random rotations score far worse than test poses
    assert 200 < record.metrics["joint_spread_mm"] < 1000
    assert record.task["config"]["n_random"] == 16  # quick size
    assert record.prior["energy_weight_source"] == "untuned"
    assert record.dataset["content_hash"] and record.inputs_hash
    assert record.device["type"] == "cpu" and record.timings["run_s"] >= 0
    declared = record.task["metrics"]["energy_gap"]  # as the task declares it, for the legend
    assert declared["description"] == "random minus test energy"
    assert declared["describes_input"] is False and declared["higher_is_better"] is True


def test_same_seed_same_numbers_other_seed_other_numbers(capsys, tmp_path, toy_plugin):
    def energy_gap(seed: str, out: str) -> float:
        code, _, err = run_cli(capsys, "run", "--prior", "toy-gauss", "--task", "toy-energy-gap",
                               *TOY, "--seed", seed, "--out", out)  # fmt: skip
        assert code == 0, err
        (path,) = (tmp_path / out).rglob(f"seed{seed}.json")
        return read_result(path).metrics["energy_gap"]

    first = energy_gap("1", str(tmp_path / "a"))
    assert first == energy_gap("1", str(tmp_path / "b"))
    assert first != energy_gap("2", str(tmp_path / "c"))


def test_protocol_and_task_config_reach_the_task(capsys, tmp_path, toy_plugin):
    override = tmp_path / "task.yaml"
    override.write_text("n_random: 8\n")
    code, _, err = run_cli(
        capsys, "run", "--prior", "none", "--task", "toy-energy-gap", "--protocol", "wide", *TOY,
        "--task-config", str(override), "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    (path,) = tmp_path.rglob("seed0.json")
    record = read_result(path)
    assert record.task["protocol"] == "wide" and record.task["config"]["scale"] == 3.0
    assert record.task["config"]["n_random"] == 8
    assert record.metrics["energy_gap"] == 0.0  # the none prior sees no difference


def test_config_file_sets_options_and_command_line_wins(capsys, tmp_path, toy_plugin):
    config = tmp_path / "run.yaml"
    config.write_text(
        "prior: none\ntask: toy-energy-gap\ndataset: toy-poses\nbody_model: toy-stick\nseed: 4\n"
        f"out: {tmp_path / 'from-config'}\n"
    )
    code, _, err = run_cli(capsys, "run", "--config", str(config), "--seed", "5", "--quiet")
    assert code == 0, err
    assert (tmp_path / "from-config").rglob("seed5.json")
    assert list((tmp_path / "from-config").rglob("seed5.json"))


def test_suite_skips_existing_results_unless_forced(capsys, tmp_path, toy_plugin):
    args = ["suite", "--priors", "none,toy-gauss", "--tasks", "toy-energy-gap",
            "--seeds", "0,1", *TOY, "--quick", "--out", str(tmp_path)]  # fmt: skip
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "4 run, 0 skipped" in out
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) == 4
    stamps = {p: p.stat().st_mtime_ns for p in files}
    code, out, _ = run_cli(capsys, *args)
    assert "0 run, 4 skipped" in out
    assert {p: p.stat().st_mtime_ns for p in files} == stamps
    code, out, _ = run_cli(capsys, *args, "--force")
    assert "4 run, 0 skipped" in out


def test_leaderboard_formats(capsys, tmp_path, toy_plugin):
    run_cli(capsys, "suite", "--priors", "none,toy-gauss", "--tasks", "toy-energy-gap",
            "--seeds", "0,1", *TOY, "--out", str(tmp_path / "r"))  # fmt: skip
    code, out, err = run_cli(
        capsys, "leaderboard", "--results", str(tmp_path / "r"), "--format", "md"
    )
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert "energy_gap" in lines[0] and "↑" in lines[0]
    assert lines[2].startswith("| toy-gauss | 1 |")  # best energy gap ranks first
    assert "(n=2)" in lines[2]
    code, out, _ = run_cli(
        capsys, "leaderboard", "--results", str(tmp_path / "r"), "--format", "csv"
    )
    assert out.splitlines()[0].startswith(
        "prior,task,metric,unit,higher_is_better,main,mean,std,n,rank"
    )
    target = tmp_path / "board.html"
    code, out, _ = run_cli(
        capsys, "leaderboard", "--results", str(tmp_path / "r"), "--out", str(target)
    )
    assert code == 0 and "<table" in target.read_text()


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["run", "--prior", "nnoe", "--task", "toy-energy-gap"], ["did you mean 'none'"]),
        (
            ["run", "--prior", "none", "--task", "toy-energy-gp", *TOY],
            ["did you mean 'toy-energy-gap'"],
        ),
        (
            ["run", "--prior", "none", "--task", "toy-energy-gap", "--dataset", "toy-pose"],
            ["did you mean"],
        ),
        (
            ["run", "--prior", "none", "--task", "toy-energy-gap", *TOY, "--protocol", "wdie"],
            ["no protocol 'wdie'"],
        ),
        (
            ["run", "--prior", "none", "--task", "toy-energy-gap", *TOY, "--device", "cuda:9"],
            ["cuda"],
        ),
        (
            ["run", "--prior", "none", "--task", "toy-energy-gap", *TOY, "--device", "tpu"],
            ["unknown device"],
        ),
        (
            [
                "run",
                "--prior",
                "toy-gauss",
                "--task",
                "toy-energy-gap",
                *TOY,
                "--checkpoint",
                "nope.pt",
            ],
            ["nope.pt", "does not exist"],
        ),
        (["run", "--task", "toy-energy-gap"], ["needs --prior"]),
        (["run", "--config", "missing.yaml"], ["missing.yaml", "does not exist"]),
        (
            ["train", "--prior", "none", "--dataset", "toy-poses"],
            ["prior 'none' does not support training"],
        ),
        (["leaderboard", "--results", "no-such-dir"], ["no-such-dir", "does not exist"]),
        (["suite", "--suite", "defualt"], ["did you mean 'default'"]),
        (
            ["suite", "--priors", "none,nnoe", "--tasks", "toy-energy-gap", *TOY],
            ["unknown prior 'nnoe'", "did you mean 'none'"],
        ),
        (["run", "--prior", "none", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["suite", "--seeds", "a,b"], ["seeds must be integers"]),
        (
            [
                "run",
                "--prior",
                "gmm",
                "--task",
                "toy-energy-gap",
                "--training-seed",
                "1",
                "--checkpoint",
                "g.pkl",
                *TOY,
            ],
            ["a run takes a checkpoint or a training seed, not both"],
        ),
        (
            ["run", "--prior", "gmm", "--task", "toy-energy-gap", "--training-seed", "7", *TOY],
            [
                "no gmm checkpoint for training seed 7",
                "posebench train --prior gmm --dataset toy-poses --seed 7 --out results",
            ],
        ),
        (
            ["run", "--prior", "gmm", "--task", "toy-energy-gap", "--training-seed", "-1"],
            ["--training-seed"],
        ),
        (["frobnicate"], ["invalid choice"]),
        (["body", "bake", "--phenotype", "age"], ["--phenotype takes NAME=VALUE"]),
        (["data", "prepare", "amass", "--amass-dir", "nowhere", "--out", "x"], ["nowhere"]),
    ],
)
def test_user_errors_are_one_line_and_status_2(
    capsys, tmp_path, monkeypatch, toy_plugin, argv, fragments
):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *fragments)


def test_bad_config_key_suggests_the_right_one(capsys, tmp_path, toy_plugin):
    config = tmp_path / "run.yaml"
    config.write_text("prior: none\ntaks: toy-energy-gap\n")
    code, _, err = run_cli(capsys, "run", "--config", str(config))
    assert_one_line_error(code, err, "unknown key 'taks'", "did you mean 'task'", str(config))
    override = tmp_path / "task.yaml"
    override.write_text("n_randm: 3\n")
    code, _, err = run_cli(capsys, "run", "--prior", "none", "--task", "toy-energy-gap", *TOY,
                           "--task-config", str(override), "--out", str(tmp_path))  # fmt: skip
    assert_one_line_error(code, err, "unknown key 'n_randm'", "did you mean 'n_random'")


def test_malformed_result_file_stops_the_leaderboard_with_its_name(capsys, tmp_path):
    bad = tmp_path / "embedded" / "anny" / "denoise@humor" / "none" / "seed0.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{truncated")
    code, _, err = run_cli(capsys, "leaderboard", "--results", str(tmp_path))
    assert_one_line_error(code, err, str(bad), "not valid JSON")


def test_suite_scores_each_training_seed_and_names_the_one_to_train(capsys, tmp_path, toy_plugin):
    from posebench.core.hashing import hash_file

    trained = tmp_path / "trained"
    for seed in ("1", "2"):
        code, _, err = run_cli(capsys, "train", "--prior", "gmm", "--dataset", "toy-poses",
                               "--seed", seed, "--out", str(trained), "--quiet")  # fmt: skip
        assert code == 0, err
    out_dir = tmp_path / "r"
    code, out, err = run_cli(capsys, "suite", "--priors", "gmm,none", "--tasks", "toy-energy-gap",
                             "--seeds", "0,1", "--train-seeds", "0,1,2", "--train-out",
                             str(trained), *TOY, "--out", str(out_dir))  # fmt: skip
    # the shipped GMM was trained on other data, so seed 0 on toy-poses is one line to train
    assert_one_line_error(code, err, "training seed 0",
                          f"posebench train --prior gmm --dataset toy-poses --seed 0 --out {trained}",
                          "(2 runs: gmm (training seed 0) on toy-energy-gap seed 0, gmm (training "
                          "seed 0) on toy-energy-gap seed 1)")  # fmt: skip
    assert "6 run, 0 skipped" in out  # gmm: 2 models x 2 seeds; none (no training): 2 seeds
    task = out_dir / "toy-poses" / "toy-stick" / "toy-energy-gap@default"
    assert sorted(p.name for p in (task / "none").iterdir()) == ["seed0.json", "seed1.json"]
    hashes = set()
    for seed in (1, 2):
        record = read_result(task / "gmm" / f"train{seed}" / "seed1.json")
        checkpoint = trained / "checkpoints" / "gmm" / "toy-poses" / f"seed{seed}" / "gmm.pkl"
        assert record.prior["training_seed"] == seed
        assert record.prior["checkpoint_sha256"] == hash_file(checkpoint)
        hashes.add(record.prior["checkpoint_sha256"])
    assert len(hashes) == 2  # two trained models, not one scored twice
    code, out, err = run_cli(capsys, "leaderboard", "--results", str(out_dir), "--format", "md")
    assert code == 0, err
    assert "gmm: 2 (training seeds 1, 2)" in out
    assert "(n=4)" in out


def test_suite_goes_on_past_a_prior_without_weights_and_exits_2(capsys, tmp_path, toy_plugin):
    import posebench
    from posebench import plugins
    from posebench.core.errors import InputError
    from posebench.priors.base import Prior

    class Untrained(Prior):
        name = "untrained"

        def energy(self, pose):
            raise InputError("prior 'untrained' has no trained weights")

    class Plugin:
        @posebench.hookimpl
        def register_priors(self, register):
            register("untrained", Untrained)

    plugins.register_plugin(Plugin(), name="untrained-plugin")
    code, out, err = run_cli(capsys, "suite", "--priors", "untrained,none", "--tasks",
                             "toy-energy-gap", "--seeds", "0", *TOY, "--out", str(tmp_path))  # fmt: skip
    assert code == 2
    assert "1 run, 0 skipped" in out
    assert err.count("\n") == 1
    assert "prior 'untrained' has no trained weights" in err
    assert "(1 run: untrained on toy-energy-gap seed 0)" in err


BUILTIN_PRIORS = ("posendf", "nrdf", "dposer", "vposer", "gmm", "none")


@pytest.mark.slow
def test_quick_suite_runs_every_builtin_prior_on_every_task(capsys, tmp_path):
    """What the tasks issue asks of CI: the six built-in priors on the five tasks (image fitting
    on synthetic views and on the real photographs), quick size."""
    code, out, err = run_cli(capsys, "suite", "--quick", "--quiet", "--device", "cpu",
                             "--out", str(tmp_path))  # fmt: skip
    assert code == 0, err
    assert "36 run, 0 skipped" in out
    tasks = ("denoise@humor", "sample@default", "interpolate@default", "image_fit@synthetic",
             "image_fit@multiview", "complete@parts")  # fmt: skip
    for task in tasks:
        for prior in BUILTIN_PRIORS:
            record = read_result(tmp_path / "embedded" / "anny" / task / prior / "seed0.quick.json")
            main = record.metrics[record.task["main_metric"]]
            assert main is not None, (task, prior)
    for prior in BUILTIN_PRIORS:  # samples kept for the pose pictures
        folder = tmp_path / "embedded" / "anny" / "sample@default" / prior
        assert read_result(folder / "seed0.quick.json").details["arrays"] == "seed0.quick.npz"
        kept = np.load(folder / "seed0.quick.npz")["pose_body"]
        assert kept.shape[1] == 63 and 1 <= len(kept) <= 16 and np.isfinite(kept).all()


#: ``run --help`` is left out: it lists the registered tasks and their protocols, which means
#: loading the task classes (torch code) at the moment it prints.
HELP_COMMANDS = [
    [], ["plugins"], ["suite"], ["tune"], ["export"], ["score"], ["train"],
    ["data", "prepare", "amass"], ["data", "prepare", "posendf-targets"],
    ["data", "build-embedded"], ["data", "build-multiview"], ["data", "describe"], ["sample"], ["project"], ["interpolate"], ["fit-image"],
    ["denoise"], ["render"], ["view"], ["leaderboard"], ["body", "bake"],
]  # fmt: skip


def test_data_describe_lists_clips_as_text_and_json(capsys):
    code, out, _ = run_cli(capsys, "data", "describe")
    assert code == 0
    assert (
        "cmu_01_03" in out
        and "deepmimic_cartwheel" in out
        and "motion kinds" in out.splitlines()[-1]
    )
    code, out, _ = run_cli(capsys, "data", "describe", "embedded", "--json")
    clips = json.loads(out)
    assert code == 0 and len(clips) == 19
    keys = {"package", "file", "licence", "motion", "frames", "fps", "split"}
    assert all(keys <= set(c) for c in clips)


def test_build_embedded_without_the_packages_is_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "data", "build-embedded", "--sources", str(tmp_path), "--out-dir",
                         str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "does not exist" in err and "download" in err and not (tmp_path / "out").exists()


def test_help_imports_no_torch():
    """``posebench --help`` and every command's help but run's stay fast: torch loads only in
    handlers (and when run's help lists the tasks)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import posebench

    script = (
        "import contextlib, io, sys\n"
        "from posebench.cli.main import build_parser, main\n"
        "build_parser()\n"
        f"for argv in {HELP_COMMANDS!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main([*argv, '--help'])\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'pandas') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    root = str(Path(posebench.__file__).resolve().parents[1])  # this checkout's posebench
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": path})  # fmt: skip
    assert done.stdout.strip() == "none", done.stdout + done.stderr


def test_python_api_run_returns_the_outcome(tmp_path, toy_plugin):
    import posebench

    options = {"dataset": "toy-poses", "body_model": "toy-stick", "quick": True, "out": tmp_path}
    outcome = posebench.run("none", "toy-energy-gap", **options)
    assert outcome.path.is_file() and not outcome.skipped
    assert outcome.record.metrics["energy_gap"] == 0.0
    assert read_result(outcome.path).metrics == outcome.record.metrics
    again = posebench.run("none", "toy-energy-gap", force=False, **options)
    assert again.skipped and again.path == outcome.path and again.record is None


def test_run_says_what_it_is_doing_when_output_is_not_a_terminal(capsys, tmp_path, toy_plugin):
    fast = tmp_path / "fast.yaml"
    fast.write_text(
        "optimiser: {root_steps: 2, frame_steps: 2, steps: 2}\nbootstrap_resamples: 10\n"
    )
    code, out, err = run_cli(
        capsys, "run", "--prior", "toy-gauss", "--task", "denoise", "--dataset", "toy-poses",
        "--body-model", "toy-stick", "--quick", "--task-config", str(fast), "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    lines = err.splitlines()  # captured: not a terminal, so plain lines instead of live bars
    assert lines[0].startswith("toy-gauss on denoise@humor: toy-poses data, toy-stick body")
    assert "fit 1/2, with toy-gauss: windows 1-2 of 2, stage 1/3 (root) (2 steps) ..." in lines
    assert any(line.startswith("fit 2/2, without a prior") and "done in" in line for line in lines)
    assert "baseline: moving average" in out and "baseline: Savitzky-Golay" in out
    assert "not tuned for this task on this data; posebench tune --prior toy-gauss" in out
    quiet = run_cli(capsys, "run", "--prior", "toy-gauss", "--task", "denoise", *TOY, "--quick",
                    "--task-config", str(fast), "--out", str(tmp_path), "--seed", "1")  # fmt: skip
    assert quiet[0] == 0 and quiet[2] == ""


def test_a_clashing_posebench_distribution_is_named_with_the_fix(capsys, monkeypatch):
    from importlib import metadata

    class Metadata:
        def get_all(self, key):
            return ["Comprehensive benchmarking of protein-ligand structure prediction"]

    class Docking:
        version = "1.1.0"
        metadata = Metadata()

    real = metadata.distribution
    monkeypatch.setattr(
        metadata, "distribution", lambda name: Docking() if name == "posebench" else real(name)
    )
    code, _, err = run_cli(capsys, "plugins")
    assert code == 0
    assert "posebench 1.1.0 (Comprehensive benchmarking of protein-ligand" in err
    assert "pip uninstall posebench" in err and "pose-prior-bench" in err


def _all_parsers(parser, prog="posebench"):
    """(full name, parser) of every command and nested command."""
    import argparse

    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, f"{prog} {name}")


def test_every_command_has_a_description_and_examples_and_run_lists_tasks(capsys):
    from posebench.cli.help_text import COMMANDS
    from posebench.cli.main import build_parser

    commands = dict(_all_parsers(build_parser()))
    assert set(COMMANDS) == set(commands) - {"posebench"}  # no command without, no stale entry
    for name, parser in commands.items():
        if name == "posebench":
            continue
        text = parser.format_help()
        assert parser.description and "examples:\n  posebench" in text, name
    code, out, _ = run_cli(capsys, "run", "--help")
    assert code == 0
    assert "denoise: humor, rotation-0.1, rotation-0.5, posendf, dposer" in out
    assert "sample: default" in out
    assert "the npz FILE to write" in run_cli(capsys, "export", "--help")[1]


def test_warnings_from_libraries_go_to_pythons_own_display_without_a_type_error():
    """Python calls showwarning with every argument positional, file and line included; a
    numpy RuntimeWarning (e.g. an overflowing cast) used to end the command in a TypeError."""
    import io

    from posebench.cli.main import _show_warning
    from posebench.core.errors import PosebenchWarning

    seen = []

    def default(*args):
        seen.append(args)

    sink = io.StringIO()
    _show_warning(default, RuntimeWarning("overflow"), RuntimeWarning, "f.py", 3, sink, None)
    assert seen == [(seen[0][0], RuntimeWarning, "f.py", 3, sink, None)]
    _show_warning(default, PosebenchWarning("old  file"), PosebenchWarning, "f.py", 3, sink, None)
    assert sink.getvalue() == "posebench: warning: old file\n" and len(seen) == 1
