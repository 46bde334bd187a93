"""Result files: schema, path layout, atomic writes, and refusing what cannot be trusted."""

from __future__ import annotations

import json

import pytest

from posebench.core.atomic import atomic_write, atomic_write_json
from posebench.core.errors import InputError
from posebench.results import SCHEMA_VERSION, ResultRecord, read_result, result_path


def make_record(**changes) -> ResultRecord:
    fields = dict(
        prior={"name": "none", "version": "1", "config": {}},
        task={"name": "denoise", "version": "1", "protocol": "humor", "main_metric": "mpjpe_mm",
              "metrics": {"mpjpe_mm": {"unit": "mm", "higher_is_better": False}}},
        dataset={"name": "embedded", "version": "1", "split": "test", "content_hash": "abc"},
        body_model={"name": "anny", "version": "1"},
        seed=3,
        size="quick",
        device={"type": "cpu", "name": "x86_64"},
        metrics={"mpjpe_mm": 12.5},
    )  # fmt: skip
    fields.update(changes)
    return ResultRecord(**fields)


def test_path_layout_keeps_every_run_apart(tmp_path):
    path = make_record().path(tmp_path)
    assert path == tmp_path / "embedded" / "anny" / "denoise@humor" / "none" / "seed3.quick.json"
    full = result_path(tmp_path, dataset="embedded", body="anny", task="denoise",
                       protocol="rotation", prior="none", seed=3, quick=False)  # fmt: skip
    assert full.name == "seed3.json" and "denoise@rotation" in full.parts


def test_metric_descriptions_and_the_input_flag_are_read_back(tmp_path):
    declared = {"unit": "mm", "higher_is_better": False, "description": "the input's error",
                "describes_input": True}  # fmt: skip
    task = {**make_record().task, "metrics": {"mpjpe_mm": declared}}
    again = read_result(make_record(task=task).write(tmp_path))
    assert again.task["metrics"]["mpjpe_mm"] == declared


def test_round_trip_keeps_every_field(tmp_path):
    record = make_record(
        data_rows={"val": {"mpjpe_mm": 11.0}}, baseline_rows={"moving average": {"mpjpe_mm": 30.0}}
    )
    path = record.write(tmp_path)
    data = json.loads(path.read_text())
    assert next(iter(data)) == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    for key in ("posebench_version", "git", "created", "environment", "timings", "inputs_hash"):
        assert key in data
    again = read_result(path)
    assert again.to_dict() == record.to_dict()


def test_non_finite_metrics_are_written_as_null(tmp_path):
    path = make_record(metrics={"mpjpe_mm": float("nan")}).write(tmp_path)
    assert json.loads(path.read_text())["metrics"] == {"mpjpe_mm": None}


def test_interrupted_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "result.json"
    atomic_write_json(target, {"old": True})

    def half_then_crash(handle):
        handle.write('{"new": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_crash)
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "does not hold a JSON object"),
        ('{"metrics": {}}', "no schema_version"),
        (json.dumps({"schema_version": SCHEMA_VERSION + 1}), "newer than this posebench"),
        (json.dumps({"schema_version": SCHEMA_VERSION, "seed": 0}), "lacks the fields"),
    ],
)
def test_bad_result_files_are_refused_with_their_path(tmp_path, content, message):
    path = tmp_path / "seed0.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as excinfo:
        read_result(path)
    assert str(path) in str(excinfo.value)


def test_atomic_files_get_normal_permissions(tmp_path):
    import os

    path = tmp_path / "r.json"
    atomic_write_json(path, {})
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def task_declaring(key, value):
    """A task section whose one metric declares ``key: value``."""
    task = make_record().task
    metric = {"unit": "mm", "higher_is_better": False, key: value}
    return {"task": {**task, "metrics": {"mpjpe_mm": metric}}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": [12.5]}, "has metrics [12.5]"),
        ({"task": "denoise"}, 'has task "denoise"; expected an object'),
        ({"prior": None}, "has prior null"),
        ({"prior": {"name": 3}}, "has prior name 3"),
        ({"metrics": {"mpjpe_mm": "12.5"}}, 'has metric "mpjpe_mm" = "12.5"'),
        ({"metrics": {"mpjpe_mm": True}}, 'has metric "mpjpe_mm" = true'),
        ({"seed": "3"}, 'has seed "3"; expected an integer'),
        ({"seed": True}, "has seed true"),
        ({"size": "huge"}, 'has size "huge"; expected quick or full'),
        ({"task": {"name": "denoise", "protocol": None}}, "has task protocol null"),
        ({"posebench_version": 1}, "has posebench_version 1"),
        ({"data_rows": {"train": {"fid": "low"}}}, 'has data row "train" metric "fid"'),
        ({"baseline_rows": {"moving average": [1]}}, 'has baseline_rows {"moving average"'),
        ({"baseline_rows": {"sg": {"mpjpe_mm": "30"}}}, 'has baseline row "sg" metric'),
        (task_declaring("describes_input", "yes"), 'metric "mpjpe_mm" with describes_input "yes"'),
        (
            task_declaring("description", 3),
            'metric "mpjpe_mm" with description 3; expected a string',
        ),
    ],
)
def test_fields_of_the_wrong_type_are_refused_with_one_line(tmp_path, change, message):
    data = make_record().to_dict()
    data.update(change)
    path = tmp_path / "seed3.quick.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as excinfo:
        read_result(path)
    text = str(excinfo.value)
    assert message in text and str(path) in text and "\n" not in text


def test_long_or_multiline_values_stay_one_short_line(tmp_path):
    data = make_record().to_dict()
    data["metrics"] = {"mpjpe_mm": "x\n" * 500}
    path = tmp_path / "seed3.quick.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as excinfo:
        read_result(path)
    assert "\n" not in str(excinfo.value) and len(str(excinfo.value)) < 300


def test_valid_files_with_null_metrics_still_read(tmp_path):
    path = make_record(metrics={"mpjpe_mm": None, "pck": 1}).write(tmp_path)
    assert read_result(path).metrics == {"mpjpe_mm": None, "pck": 1.0}
