"""The sample and interpolate tasks on the test plugin's poses."""

from __future__ import annotations

import pytest
import torch

import posebench
from posebench.core.progress import NullProgress
from posebench.tasks.interpolate import InterpolateTask
from posebench.tasks.sample import SampleTask
from posebench.testing import check_task


@pytest.fixture
def parts(toy_plugin):
    return toy_plugin.ToyPoses(), toy_plugin.ToyStickBody(), toy_plugin.ToyGaussPrior


def run(task, prior, dataset, body, seed=0, **overrides):
    config = task.config(task.protocols[0], overrides, quick=True)
    return task.run(prior, dataset, body, config, torch.device("cpu"), seed, NullProgress())


def test_samples_from_the_data_distribution_beat_uniform_rotations(parts):
    dataset, body, gauss = parts
    task = SampleTask()
    matched = run(task, gauss(config={"sigma": 0.2}), dataset, body).metrics  # the data's σ
    uniform = run(task, posebench.load_prior("none"), dataset, body).metrics
    assert matched["fid"] < 0.1 * uniform["fid"]
    assert matched["dnn"] < uniform["dnn"]
    assert matched["frac_plausible"] > 0.5 > uniform["frac_plausible"]
    assert matched["precision"] > uniform["precision"]
    assert uniform["apd_cm"] > matched["apd_cm"] > 0  # random rotations are more diverse


def test_sample_task_contract(parts):
    dataset, body, gauss = parts
    check_task(SampleTask(), gauss(), dataset, body)


def test_none_interpolates_by_slerp_and_reaches_the_end(parts):
    dataset, body, _ = parts
    result = run(InterpolateTask(), posebench.load_prior("none"), dataset, body, min_separation=1.0)
    assert result.metrics["endpoint_error_mm"] < 1e-3
    assert result.metrics["jerk"] < 1.0  # slerp moves each joint at constant angular speed
    assert result.metrics["path_dnn_max"] >= result.metrics["path_dnn_mean"] > 0


def test_a_projecting_prior_leaves_the_end_and_lowers_path_dnn(parts):
    dataset, body, gauss = parts
    shrinking = run(InterpolateTask(), gauss(), dataset, body, min_separation=1.0)  # project halves
    slerp = run(InterpolateTask(), posebench.load_prior("none"), dataset, body, min_separation=1.0)
    assert shrinking.metrics["endpoint_error_mm"] > 10
    assert shrinking.inputs_hash == slerp.inputs_hash  # the same pairs for every prior


def test_interpolate_task_contract(parts):
    dataset, body, gauss = parts
    check_task(InterpolateTask(), gauss(), dataset, body)


def test_impossible_pair_separation_is_a_clear_error(parts):
    dataset, body, gauss = parts
    with pytest.raises(posebench.core.errors.InputError, match="at least 100.0 rad apart"):
        run(InterpolateTask(), gauss(), dataset, body, min_separation=100.0)


def test_pairs_come_from_real_motion_which_is_scored_beside_the_priors(parts):
    from posebench.tasks.interpolate import resample_motion

    dataset, body, _ = parts
    task = InterpolateTask()
    result = run(task, posebench.load_prior("none"), dataset, body, min_separation=0.5)
    real = result.data_rows["real motion"]
    assert real["endpoint_error_mm"] < 1e-3  # the real motion ends at the end pose
    assert "1.0 s apart" in result.details["pairs"]
    # resampling a motion to as many steps as it has frames gives the frames back
    frames = dataset.sequences("test")[0].pose_body[:11]
    torch.testing.assert_close(resample_motion(frames, 10), frames, atol=1e-5, rtol=0)
    random = run(task, posebench.load_prior("none"), dataset, body, min_separation=0.5, gap_s=None)
    assert random.data_rows == {} and "random poses" in random.details["pairs"]
