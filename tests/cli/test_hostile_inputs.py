"""Hostile command lines and configs: bad numbers, config values of the wrong type or range and
unwritable output paths are one line, status 2, refused before any work, with nothing written;
boundary values still run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runner import cli

from posebench.datasets.pose_files import write_poses

BIG = "99999999999999999999"  # > 2**64: overflowed torch's seeding before the parser checked it


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A folder with a pose file of two pairs, a motion, an empty folder and a regular file."""
    monkeypatch.chdir(tmp_path)
    pose = 0.3 * torch.randn(4, 21, 3, generator=torch.Generator().manual_seed(0))
    write_poses(tmp_path / "poses.npz", pose, {})
    np.savez(tmp_path / "motion.npz", pose_body=np.zeros((5, 63), np.float32))
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("a regular file\n")
    np.save(tmp_path / "array.npy", np.zeros((4, 63), np.float32))  # an .npy, not an .npz
    np.savez(tmp_path / "rate_text.npz", pose_body=np.zeros((5, 63), np.float32), fps="abc")
    np.savez(tmp_path / "rate_vector.npz", pose_body=np.zeros((5, 63), np.float32), fps=[30, 60])
    np.savez(tmp_path / "rate_zero.npz", pose_body=np.zeros((5, 63), np.float32), fps=0.0)
    np.savez(tmp_path / "huge.npz", pose_body=np.full((2, 63), 1e300))  # float32 would be inf
    np.savez(tmp_path / "complex.npz", pose_body=np.zeros((2, 63), complex))
    return tmp_path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


SAMPLE = ["sample", "--prior", "none", "--n", "2", "--out", "s.npz"]
PROJECT = ["project", "--prior", "none", "--input", "poses.npz", "--out", "p.npz"]
INTERPOLATE = ["interpolate", "--prior", "none", "--input", "poses.npz", "--out", "i.npz"]
RENDER = ["render", "--input", "poses.npz", "--out", "pictures", "--mode", "skeleton"]

# (command line, what the one error line must name)
BAD = [
    (["sample", "--prior", "none", "--seed", BIG, "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--seed", "-1", "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--seed", str(2**63), "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--seed", "1.5", "--out", "s.npz"], "--seed"),
    (["sample", "--prior", "none", "--n", "0", "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", "-3", "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", "1000001", "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", BIG, "--out", "s.npz"], "--n"),
    (["sample", "--prior", "none", "--n", "2", "--out", "folder"], "folder"),
    (["sample", "--prior", "none", "--n", "2", "--out", "plain/s.npz"], "plain"),
    ([*SAMPLE, "--render", "--size", "8"], "--size"),
    ([*SAMPLE, "--render", "--azimuth", "nan"], "--azimuth"),
    ([*SAMPLE, "--render", "plain"], "plain"),
    ([*PROJECT, "--steps", "-1"], "--steps"),
    ([*PROJECT, "--steps", "1e3"], "--steps"),
    ([*PROJECT, "--tol", "nan"], "--tol"),
    ([*PROJECT, "--tol", "-0.1"], "--tol"),
    ([*PROJECT, "--tol", "inf"], "--tol"),
    (["project", "--prior", "none", "--input", "poses.npz", "--out", "folder"], "folder"),
    ([*INTERPOLATE, "--steps", "0"], "--steps"),
    ([*INTERPOLATE, "--steps", "100001"], "--steps"),
    ([*INTERPOLATE, "--step-size", "0"], "--step-size"),
    ([*INTERPOLATE, "--step-size", "-1"], "--step-size"),
    ([*INTERPOLATE, "--step-size", "nan"], "--step-size"),
    (["interpolate", "--prior", "none", "--input", "poses.npz", "--out", "folder"], "folder"),
    (["denoise", "--prior", "none", "--input", "motion.npz", "--out", "folder"], "folder"),
    (["denoise", "--prior", "none", "--input", "motion.npz", "--out", "plain/d.npz"], "plain"),
    (["export", "--task", "sample", "--quick", "--out", "folder"], "folder"),
    (["export", "--task", "sample", "--quick", "--out", "plain/x/in.npz"], "plain"),
    (["export", "--task", "sample", "--seed", BIG, "--out", "in.npz"], "--seed"),
    (["run", "--prior", "none", "--task", "sample", "--seed", "-5"], "--seed"),
    (["run", "--prior", "none", "--task", "sample", "--out", "plain"], "plain"),
    (["suite", "--seeds", "0,-1"], "--seeds"),
    (["suite", "--seeds", f"0,{BIG}"], "--seeds"),
    (["suite", "--priors", "none", "--tasks", "image_fit@bogus"], "no protocol 'bogus'"),
    (["train", "--prior", "none", "--seed", BIG], "--seed"),
    (["train", "--prior", "none", "--out", "plain"], "plain"),
    (["data", "prepare", "amass", "--amass-dir", "folder", "--out", "p", "--seed", "-1"], "--seed"),
    (["data", "prepare", "amass", "--amass-dir", "folder", "--out", "plain"], "plain"),
    (["fit-image", "--prior", "none", "--images", "folder", "--out", "plain"], "plain"),
    ([*RENDER, "--frames", "1"], "--frames"),
    ([*RENDER, "--frames", "101"], "--frames"),
    ([*RENDER, "--limit", "0"], "--limit"),
    ([*RENDER, "--every", "-2"], "--every"),
    ([*RENDER, "--size", "4097"], "--size"),
    (["render", "--input", "poses.npz", "--out", "plain"], "plain"),
    (["project", "--prior", "none", "--input", "array.npy", "--out", "p.npz"], "array.npy"),
    (["render", "--input", "array.npy", "--out", "pictures"], "array.npy"),
    (["denoise", "--prior", "none", "--input", "rate_text.npz", "--out", "d.npz"], "'fps'"),
    (["denoise", "--prior", "none", "--input", "rate_vector.npz", "--out", "d.npz"], "'fps'"),
    (["denoise", "--prior", "none", "--input", "rate_zero.npz", "--out", "d.npz"], "'fps'"),
    (["render", "--input", "rate_text.npz", "--out", "pictures"], "'fps'"),
    (["project", "--prior", "none", "--input", "huge.npz", "--out", "p.npz"], "float32's range"),
    (["project", "--prior", "none", "--input", "complex.npz", "--out", "p.npz"], "not real"),
]


@pytest.mark.parametrize(("argv", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_command_line_is_one_line_status_2_and_writes_nothing(capsys, workspace, argv, named):
    before = files_under(workspace)
    code, out, err = cli(capsys, *argv)
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].strip(), err
    assert named in lines[0]
    assert "Traceback" not in err and out == ""
    assert files_under(workspace) == before  # refused before any work: nothing written


RUN = ["run", "--prior", "none", "--task"]
TRAIN = ["train", "--out", "trained", "--prior-config", "p.yaml", "--prior"]
DENOISE = ["denoise", "--prior", "none", "--input", "motion.npz", "--out", "d.npz"]
TASK_FILE, PRIOR_FILE = ["--task-config", "t.yaml"], ["--prior-config", "p.yaml"]

# (command line naming one YAML file, that file's text, the key the one error line must name)
# fmt: off
BAD_CONFIG = [
    ([*RUN, "denoise", *TASK_FILE], "window: {length: ten}\n", "window.length"),
    ([*RUN, "denoise", *TASK_FILE], "window: {fps: 0}\n", "window.fps"),
    ([*RUN, "denoise", *TASK_FILE], "batch_windows: 0\n", "batch_windows"),
    ([*RUN, "denoise", *TASK_FILE], "noise: {sigma: -1}\n", "noise.sigma"),
    ([*RUN, "denoise", *TASK_FILE], "noise: {model: humour}\n", "noise.model"),
    ([*RUN, "denoise", *TASK_FILE], "bootstrap_resamples: 1.5\n", "bootstrap_resamples"),
    ([*RUN, "denoise", *TASK_FILE], "terms: {data_sigma: 0}\n", "terms.data_sigma"),
    ([*RUN, "denoise", *TASK_FILE], "fit_root: 'no'\n", "fit_root"),
    ([*RUN, "sample", *TASK_FILE], "n_samples: many\n", "n_samples"),
    ([*RUN, "sample", *TASK_FILE], "plausible_quantile: .nan\n", "plausible_quantile"),
    ([*RUN, "interpolate", *TASK_FILE], "steps: '20'\n", "steps"),
    (["export", "--task", "image_fit", "--out", "in.npz", *TASK_FILE],
     "synthetic: {image_sizes: [[640, 0]]}\n", "synthetic.image_sizes"),
    ([*DENOISE, *TASK_FILE], "optimiser: {steps: -5}\n", "optimiser.steps"),
    (["run", "--prior", "gmm", "--task", "denoise", *PRIOR_FILE],
     "energy_weights: {denoise: {value: big}}\n", "energy_weights.denoise.value"),
    (["run", "--prior", "vposer", "--task", "sample", *PRIOR_FILE], "project: {steps: -1}\n",
     "project.steps"),
    ([*TRAIN, "gmm"], "n_components: 0\n", "n_components"),
    ([*TRAIN, "vposer"], "train: {batch_size: 0}\n", "train.batch_size"),
    ([*TRAIN, "posendf"], "model: {dims: [256, 0]}\n", "model.dims"),
    ([*TRAIN, "posendf"], "quick_overrides: {train: {steps: 0}}\n",
     "quick_overrides.train.steps"),
    ([*SAMPLE, *PRIOR_FILE], "energy_weights: 5\n", "energy_weights"),
    (["run", "--config", "c.yaml"], "prior: none\ntask: sample\nseed: x\n", "seed"),
    (["run", "--config", "c.yaml"], "prior: none\ntask: sample\nquick: 'yes'\n", "quick"),
    (["suite", "--config", "c.yaml"], "seeds: '0'\n", "seeds"),
    (["suite", "--config", "c.yaml"], "priors: none\n", "priors"),
]
# fmt: on


@pytest.mark.parametrize(
    ("argv", "text", "key"), BAD_CONFIG, ids=[f"{a[0]} {t.strip()}" for a, t, _ in BAD_CONFIG]
)
def test_bad_config_value_is_one_line_naming_file_and_key_status_2(
    capsys, workspace, argv, text, key
):
    """A value of the wrong type or range is refused before any work: one line with the file,
    the key and what is allowed, status 2, nothing written."""
    name = next(a for a in argv if a.endswith(".yaml"))
    (workspace / name).write_text(text)
    before = files_under(workspace)
    code, out, err = cli(capsys, *argv)
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert f"file {name} key '{key}' is " in lines[0] and "; expected " in lines[0], err
    assert "Traceback" not in err and out == ""
    assert files_under(workspace) == before


def test_bad_suite_file_is_one_line_naming_file_and_key(capsys, workspace, tmp_path_factory,
                                                        monkeypatch):  # fmt: skip
    """A suite file's values are checked like any config: here seeds given as text."""
    import shutil

    from posebench.core import paths

    configs = tmp_path_factory.mktemp("package") / "configs"
    shutil.copytree(paths.CONFIG_DIR, configs)
    (configs / "suites" / "strings.yaml").write_text("priors: [none]\ntasks: [sample]\n"
                                                     "seeds: ['0']\n")  # fmt: skip
    monkeypatch.setattr(paths, "CONFIG_DIR", configs)
    before = files_under(workspace)
    code, out, err = cli(capsys, "suite", "--suite", "strings", "--quick")
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "strings.yaml key 'seeds' is ['0']; expected a list of integers" in lines[0]
    assert "Traceback" not in err and out == ""
    assert files_under(workspace) == before


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        ([*RUN, "denoise", "--task-config", "t.yaml"], "window: {fps: null, stride: 30}\n"),
        ([*RUN, "sample", "--task-config", "t.yaml"], "plausible_quantile: 1\nk: 1\n"),
        ([*TRAIN, "gmm"], "tol: 0\n"),
    ],
    ids=["null fps and a stride", "quantile 1 as an integer", "gmm tol 0"],
)
def test_boundary_config_values_pass_the_check(capsys, workspace, monkeypatch, argv, text):
    """Values at the edge of their range get past the check (the work itself is stopped here:
    what runs after the check is the same as before it existed)."""
    from posebench.benchmark import runner

    name = next(a for a in argv if a.endswith(".yaml"))
    (workspace / name).write_text(text)

    def stop(*args, **kwargs):
        raise SystemExit(0)

    monkeypatch.setattr(runner, "prepare", stop)
    if argv[0] == "train":
        from posebench.priors.gmm.prior import GMMPrior

        monkeypatch.setattr(GMMPrior, "fit", stop)
    code, _, err = cli(capsys, *argv)
    assert code == 0, err


@pytest.mark.parametrize(
    "argv",
    [
        [*SAMPLE[:-1], "s.npz", "--seed", "0", "--n", "1"],
        [*SAMPLE, "--seed", str(2**63 - 1)],
        [*PROJECT, "--steps", "0", "--tol", "0"],
        [*INTERPOLATE, "--steps", "1"],
    ],
    ids=["seed 0, n 1", "largest seed", "project steps 0 tol 0", "interpolate steps 1"],
)
def test_boundary_values_still_run(capsys, workspace, argv):
    code, out, err = cli(capsys, *argv)
    assert code == 0, err
    written = workspace / argv[argv.index("--out") + 1]
    assert written.is_file() and "->" in out


def test_boundary_seed_gives_the_same_poses_as_before(capsys, workspace):
    """The parser's range check passes a valid seed through unchanged."""
    from posebench.datasets.pose_files import read_poses

    for name, seed in (("a.npz", "7"), ("b.npz", "7"), ("c.npz", "8")):
        code, _, err = cli(capsys, "sample", "--prior", "none", "--n", "3", "--seed", seed,
                           "--out", name)  # fmt: skip
        assert code == 0, err
    torch.testing.assert_close(read_poses("a.npz"), read_poses("b.npz"))
    assert not torch.allclose(read_poses("a.npz"), read_poses("c.npz"))


# --- damaged or foreign files: checkpoints, training state, tuned files -------------------------


def _shipped(name: str) -> Path:
    from importlib import resources

    return Path(str(resources.files("posebench") / "data" / name))


def _damaged_files(root: Path) -> None:
    """Checkpoints missing a part, truncated or of another prior, and broken tuned files."""
    posendf = torch.load(_shipped("posendf_embedded.pt"), weights_only=True)
    torch.save({k: v for k, v in posendf.items() if k != "config"}, root / "no_config.pt")
    vposer = torch.load(_shipped("vposer_embedded.pt"), weights_only=True)
    torch.save({k: v for k, v in vposer.items() if k != "architecture"}, root / "no_arch.pt")
    whole = _shipped("posendf_embedded.pt").read_bytes()
    (root / "truncated.pt").write_bytes(whole[: len(whole) // 3])
    (root / "tuned_no_task.json").write_text('{"weight": 1.0}')
    (root / "tuned_bad.json").write_text('{"weight": ')
    (root / "prior_string.yaml").write_text("just a string\n")
    (root / "prior.yaml").write_text(_shipped("../configs/priors/gmm.yaml").read_text())
    recording = _shipped("multiview_pose2sim.npz").read_bytes()
    (root / "recording_cut.npz").write_bytes(recording[: len(recording) // 2])
    (root / "multiview_missing.yaml").write_text("multiview: {file: nowhere.npz}\n")
    (root / "multiview_cut.yaml").write_text("multiview: {file: recording_cut.npz}\n")


MULTIVIEW = ["run", "--prior", "none", "--task", "image_fit", "--protocol", "multiview", "--quick",
             "--out", "results", "--task-config"]  # fmt: skip
DAMAGED = [
    (["sample", "--prior", "posendf", "--checkpoint", "no_config.pt", "--n", "2", "--out", "s.npz"],
     "no_config.pt"),
    (["sample", "--prior", "vposer", "--checkpoint", "no_arch.pt", "--n", "2", "--out", "s.npz"],
     "no_arch.pt"),
    (["sample", "--prior", "posendf", "--checkpoint", "truncated.pt", "--n", "2", "--out", "s.npz"],
     "truncated.pt"),
    (["sample", "--prior", "vposer", "--checkpoint", "truncated.pt", "--n", "2", "--out", "s.npz"],
     "truncated.pt"),
    (["sample", "--prior", "vposer", "--checkpoint", str(_shipped("posendf_embedded.pt")), "--n",
      "2", "--out", "s.npz"], "not a VPoser checkpoint"),
    (["tune", "--apply", "tuned_no_task.json", "--to", "prior.yaml"], "tuned_no_task.json"),
    (["tune", "--apply", "tuned_bad.json", "--to", "prior.yaml"], "tuned_bad.json"),
    (["tune", "--apply", "tuned_no_task.json", "--to", "prior_string.yaml"], "tuned_no_task.json"),
    (["tune", "--apply", "missing.json", "--to", "prior.yaml"], "missing.json"),
    ([*MULTIVIEW, "multiview_missing.yaml"], "nowhere.npz"),
    ([*MULTIVIEW, "multiview_cut.yaml"], "recording_cut.npz"),
    (["data", "build-multiview", "--sources", "."], "pose2sim-0.10.49-py3-none-any.whl"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "named"), DAMAGED, ids=[" ".join(a[:4]) for a, _ in DAMAGED])
def test_damaged_files_are_one_line_status_2_and_change_nothing(capsys, workspace, argv, named):
    _damaged_files(workspace)
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    code, out, err = cli(capsys, *argv)
    assert out == ""
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in err, err
    assert {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("prior", ["posendf", "vposer"])
def test_resume_from_a_truncated_training_state_is_one_line(capsys, workspace, prior):
    train = ["train", "--prior", prior, "--quick", "--out", "trained", "--quiet"]
    code, _, err = cli(capsys, *train)
    assert code == 0, err
    (state,) = (workspace / "trained").rglob("last.pt")
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 3])
    code, _, err = cli(capsys, *train, "--resume")
    assert code == 2 and len(err.splitlines()) == 1, err
    assert str(state.relative_to(workspace)) in err and "damaged" in err


@pytest.mark.parametrize(
    ("task", "text", "named"),
    [
        ("sample", "n_samples: 10000000000000\n", "10,000,000,000,000 samples needs about"),
        ("interpolate", "n_pairs: 1000000000\n", "1,000,000,000 pairs of 20 steps needs about"),
    ],
)
def test_a_task_bigger_than_the_machine_is_refused_before_any_work(
    capsys, workspace, task, text, named
):
    (workspace / "huge.yaml").write_text(text)
    before = files_under(workspace)
    code, out, err = cli(capsys, "run", "--prior", "none", "--task", task, "--task-config",
                         "huge.yaml", "--out", "results")  # fmt: skip
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert named in err and "(--task-config)" in err
    assert files_under(workspace) == before


def test_a_problem_that_stops_many_suite_runs_is_one_line(capsys, workspace):
    (workspace / "long.yaml").write_text("window: {length: 10000}\n")
    code, _, err = cli(capsys, "suite", "--tasks", "denoise", "--priors", "none,gmm", "--seeds",
                       "0,1", "--task-config", "long.yaml", "--quick", "--quiet", "--out", "r")  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "no sequence of 10000 frames" in err and "(4 runs: none on denoise seed 0" in err


def test_more_neighbours_than_points_is_one_line(capsys, workspace):
    (workspace / "k.yaml").write_text("k: 20000\n")
    code, _, err = cli(capsys, "run", "--prior", "none", "--task", "sample", "--task-config",
                       "k.yaml", "--quick", "--out", "r")  # fmt: skip
    lines = [line for line in err.splitlines() if line.startswith("posebench: error")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert "k = 20000 neighbours" in lines[0] and "(--task-config)" in lines[0]


@pytest.mark.parametrize(("value", "named"), [("1" + "0" * 400, "an integer beyond the range"),
                                              ("1e400", "NaN or infinity")])  # fmt: skip
def test_openpose_numbers_beyond_floats_are_one_line(capsys, workspace, value, named):
    folder = workspace / "keypoints"
    folder.mkdir()
    values = ", ".join([value, "100.0", "0.9"] + ["100.0", "100.0", "0.9"] * 24)
    text = '{"version": 1.3, "people": [{"pose_keypoints_2d": [' + values + "]}]}"
    (folder / "a_keypoints.json").write_text(text)
    (workspace / "size.yaml").write_text("image_size: [640, 480]\n")
    code, out, err = cli(capsys, "fit-image", "--prior", "none", "--images", "keypoints", "--out",
                         "fits", "--task-config", "size.yaml")  # fmt: skip
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "a_keypoints.json" in err and named in err and not (workspace / "fits").exists()
