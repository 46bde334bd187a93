"""The synthetic image-fitting set, the SMPLify-style fitter and the image_fit task."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import roma
import torch

import posebench
from posebench.body.camera import project
from posebench.cli.fit_image import fit_images
from posebench.core.errors import InputError
from posebench.core.progress import NullProgress
from posebench.datasets.image_folder import NO_PERSON, image_size, read_keypoint_folder
from posebench.datasets.image_synth import (
    make_synthetic_views,
    views_hash,
    write_synthetic_set,
)
from posebench.datasets.openpose import read_openpose, write_openpose
from posebench.datasets.pose_files import read_poses
from posebench.fitting.keypoints2d import (
    Observations,
    RestBody,
    _rigid_points,
    bending_energy,
    fit_views,
    guess_depth,
    side_views,
)
from posebench.tasks.image_fit import ImageFitTask
from posebench.testing import check_task

CLEAN = {"noise": {"pixel_sigma": 0.0, "drop_rate": 0.0}}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def toy(toy_plugin):
    return toy_plugin.ToyPoses(), toy_plugin.ToyGaussPrior()


def observations(views) -> Observations:
    return Observations(
        torch.tensor(np.stack([v.keypoints for v in views]), dtype=torch.float32),
        torch.tensor([[v.camera.focal, v.camera.cx, v.camera.cy] for v in views]),
        torch.tensor([float(v.camera.height) for v in views]),
    )


def fit_config(steps: int = 15, camera_steps: int = 40) -> dict:
    return ImageFitTask().config(
        "synthetic", {"fit": {"camera": {"steps": camera_steps}, "stages": {"steps": steps}}}
    )


def mild_poses(n: int, seed: int = 0, spread: float = 0.1) -> torch.Tensor:
    """Arms down (the embedded body's zero pose is a T-pose) plus small random bends."""
    generator = torch.Generator().manual_seed(seed)
    pose = spread * torch.randn(n, 21, 3, generator=generator)
    pose[:, 15, 2] -= 1.2  # left shoulder down
    pose[:, 16, 2] += 1.2  # right shoulder down
    return pose


# --------------------------------------------------------------------------- the synthetic set


def test_same_seed_writes_the_same_bytes(body, toy, tmp_path):
    poses = toy[0].poses("test")[:3]
    first = write_synthetic_set(make_synthetic_views(poses, body, 7), tmp_path / "a")
    second = write_synthetic_set(make_synthetic_views(poses, body, 7), tmp_path / "b")
    other = write_synthetic_set(make_synthetic_views(poses, body, 8), tmp_path / "c")
    names = sorted(p.name for p in first.glob("*.json"))
    assert len(names) == 3 * 2 + 1  # keypoints + camera per view, and the set's record
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "view_0000_keypoints.json").read_bytes() != (
        other / "view_0000_keypoints.json"
    ).read_bytes()


def test_written_files_are_openpose_and_hold_the_views(body, toy, tmp_path):
    views = make_synthetic_views(toy[0].poses("test")[:3], body, 0)
    folder = write_synthetic_set(views, tmp_path)
    for view in views:
        detection = read_openpose(folder / f"{view.name}_keypoints.json")
        assert detection.layout == "BODY_25" and len(detection.people) == 1
        np.testing.assert_array_equal(detection.people[0].keypoints, view.keypoints)
    with np.load(folder / "ground_truth.npz") as gt:
        np.testing.assert_allclose(gt["joints"], np.stack([v.joints for v in views]))
        assert list(gt["names"]) == [v.name for v in views]
    record = json.loads((folder / "synthetic_set.json").read_text())
    assert record["inputs_hash"] == views_hash(views)
    items = read_keypoint_folder(folder, ImageFitTask().config("folder"))  # keypoints only
    assert [i.name for i in items] == [v.name for v in views]
    assert items[1].camera == views[1].camera  # from <name>_camera.json


def test_noise_model_confidences_drops_and_pixel_scale(body, toy):
    views = make_synthetic_views(toy[0].poses("test")[:8], body, 3)
    keypoints = np.stack([v.keypoints for v in views])
    confidence = keypoints[..., 2]
    detected = confidence > 0
    assert ((confidence[detected] > 0.3) & (confidence[detected] <= 1.0)).all()
    assert (keypoints[~detected] == 0).all()  # misses written as OpenPose writes them: 0, 0, 0
    assert 0 < (~detected).sum() < 0.25 * detected.size
    for view in views:
        sigma = view.info["sigma_px_mean"]
        assert sigma == pytest.approx(0.01 * view.info["box_height_px"], rel=1e-6)
        error = np.linalg.norm(view.keypoints[:, :2] - view.clean[:, :2], axis=1)
        seen = view.keypoints[:, 2] > 0
        assert 0.2 * sigma < error[seen].mean() < 3.0 * sigma
        # a larger displacement never has a higher confidence (same COCO sigma: the shoulders)
        shoulders = [i for i in (2, 5) if seen[i]]
        if len(shoulders) == 2:
            a, b = shoulders
            assert (error[a] - error[b]) * (view.keypoints[a, 2] - view.keypoints[b, 2]) <= 1e-6


def test_keypoints_are_not_the_fitters_own_regressor(body, toy):
    """The inverse crime is avoided: clean detections sit ~2 cm (3D) from the fitter's BODY_25
    regressor on the true pose, several pixels in the image, for every view."""
    views = make_synthetic_views(toy[0].poses("test")[:6], body, 0, CLEAN)
    as_tensor = {
        key: torch.tensor(np.stack([getattr(v, key) for v in views]), dtype=torch.float32)
        for key in ("pose", "root_orient", "transl", "points3d", "clean")
    }
    own = body(as_tensor["pose"], as_tensor["root_orient"], as_tensor["transl"]).body25
    gap_mm = 1000 * (own - as_tensor["points3d"]).norm(dim=-1).mean(dim=1)
    assert (gap_mm > 15).all() and (gap_mm < 40).all(), gap_mm
    pixels = project(own, observations(views).camera)
    clean = as_tensor["clean"]
    seen = clean[..., 2] > 0
    gap_px = ((pixels - clean[..., :2]).norm(dim=-1) * seen).sum(1) / seen.sum(1)
    relative = gap_px / torch.tensor([v.info["box_height_px"] for v in views])
    assert (relative > 0.003).all(), relative  # > 0.3 % of the person's height in every view
    assert gap_px.mean() > 2.0


def test_bodies_without_a_mesh_or_keypoints_are_refused(toy_plugin):
    stick = toy_plugin.ToyStickBody()
    with pytest.raises(InputError, match="needs a body with a mesh"):
        make_synthetic_views(torch.zeros(1, 21, 3), stick, 0)
    with pytest.raises(InputError, match="BODY_25"):
        RestBody(stick, torch.device("cpu"))


# --------------------------------------------------------------------------- the fitter


def test_bending_prior_signs_on_the_body(body):
    """A natural bend moves the forearm forward and the shin backward: zero energy; the
    opposite (hyper-extension) is penalised."""
    natural = torch.zeros(2, 21, 3)
    natural[0, 17, 1], natural[0, 18, 1] = -1.2, 1.2  # elbows
    natural[1, 3, 0], natural[1, 4, 0] = 1.5, 1.5  # knees
    rest = body(torch.zeros(1, 21, 3)).joints[0]
    joints = body(natural).joints
    assert joints[0, 20, 2] > rest[20, 2] + 0.1 and joints[0, 21, 2] > rest[21, 2] + 0.1  # wrists
    assert joints[1, 7, 2] < rest[7, 2] - 0.1 and joints[1, 8, 2] < rest[8, 2] - 0.1  # ankles
    assert torch.equal(bending_energy(natural), torch.zeros(2))
    assert bending_energy(torch.zeros(1, 21, 3)).item() == 0.0
    for joint in range(4):
        hyper = -natural.clone() * 0.3
        keep = [(17, 18), (17, 18), (3, 4), (3, 4)][joint]
        mask = torch.zeros(21, dtype=torch.bool)
        mask[list(keep)] = True
        hyper[:, ~mask] = 0
        assert (bending_energy(hyper[[0 if joint < 2 else 1]]) > 0).all()


def test_rigid_camera_stage_matches_the_body(body):
    rest = RestBody(body, torch.device("cpu"))
    rotation = roma.rotvec_to_rotmat(torch.tensor([[2.8, 0.3, -0.2], [0.1, 1.0, 0.0]]))
    pelvis = torch.tensor([[0.3, -0.2, 5.0], [0.0, 0.1, 3.0]])
    expected = body(
        torch.zeros(2, 21, 3), roma.rotmat_to_rotvec(rotation), pelvis - rest.pelvis
    ).body25
    torch.testing.assert_close(
        _rigid_points(rest, rotation, pelvis), expected, atol=5e-4, rtol=0
    )  # float32 at 5 m


def test_torso_length_gives_the_depth_within_ten_percent(body):
    """An upright person, any yaw, the default camera elevation: the torso-length guess is
    right within 10 % (bent or leaning torsos foreshorten; the camera stage handles those)."""
    views = make_synthetic_views(mild_poses(8, spread=0.03), body, 1, CLEAN)
    depth = guess_depth(observations(views), RestBody(body, torch.device("cpu")))
    truth = torch.tensor([v.joints[0, 2] for v in views], dtype=torch.float32)
    assert ((depth - truth).abs() / truth < 0.10).all(), (depth, truth)


def test_side_views_are_the_ambiguous_ones(body):
    poses = mild_poses(2, spread=0.0)
    front = make_synthetic_views(poses, body, 0, {**CLEAN, "yaw_deg": [-20, 20]})
    side = make_synthetic_views(poses, body, 0, {**CLEAN, "yaw_deg": [85, 95]})
    assert not side_views(observations(front).keypoints, 0.4).any()
    assert side_views(observations(side).keypoints, 0.4).all()
    dropped = observations(front).keypoints.clone()
    dropped[0, 9] = 0.0  # a missing hip makes the torso ambiguous too
    assert side_views(dropped, 0.4).tolist() == [True, False]


def test_fitting_without_a_prior_reduces_the_2d_error(body):
    views = make_synthetic_views(mild_poses(2, seed=2), body, 2, CLEAN)
    observed = observations(views)
    none = posebench.load_prior("none")
    fit = fit_views(none, 0.0, body, observed, fit_config(steps=25, camera_steps=40))
    used = observed.keypoints[..., 2] > 0
    used[:, [1, 9, 12]] = False  # the ignored Neck and hips

    def error(pose, root, transl):
        pixels = project(body(pose, root, transl).body25, observed.camera)
        distance = (pixels - observed.keypoints[..., :2]).norm(dim=-1)
        return (distance * used).sum(1) / used.sum(1)

    start = error(torch.zeros(2, 21, 3), fit.init_root_orient, fit.init_transl)
    end = error(fit.pose, fit.root_orient, fit.transl)
    height = torch.tensor([v.info["box_height_px"] for v in views])
    assert (end < 0.3 * start).all(), (start, end)
    assert (end < 0.015 * height).all(), (end, height)  # low: ~1 % of the person's height
    assert fit.steps == 40 + 4 * 25 and fit.seconds > 0


# --------------------------------------------------------------------------- the task


def test_image_fit_keeps_the_task_contract(body, toy):
    dataset, prior = toy
    check_task(ImageFitTask(), prior, dataset, body)


def test_synthetic_protocol_reports_metrics_and_details(body, toy):
    dataset, _ = toy
    task = ImageFitTask()
    config = task.config("synthetic", quick=True)
    run = task.run(
        posebench.load_prior("none"), dataset, body, config, torch.device("cpu"), 0, NullProgress()
    )
    metrics, details = run.metrics, run.details
    assert set(metrics) == set(task.metrics) and task.main_metric == "pa_mpjpe_mm"
    assert metrics["kp2d_error_px"] < details["init_kp2d_error_px"]
    assert 0 < metrics["pa_mpjpe_mm"] <= metrics["mpjpe_mm"]
    assert details["views"] == 4 and len(details["per_view"]["pa_mpjpe_mm"]) == 4
    assert details["iterations"] == 40 + 4 * 15 and details["seconds_per_view"] > 0
    assert details["shape_prior"].startswith("not applicable")
    assert run.energy_weight == 0.0 and run.inputs_hash
    assert 15 < details["definition_gap"]["mm"] < 40
    assert views_hash(task.synthetic_views(dataset, body, config, 0)[0]) == run.inputs_hash
    other, _ = task.synthetic_views(dataset, body, config, 1)
    assert views_hash(other) != run.inputs_hash  # the seed draws other views and noise


def _folder(tmp_path: Path, body, toy) -> Path:
    views = make_synthetic_views(toy[0].poses("test")[:2], body, 0)
    folder = write_synthetic_set(views, tmp_path / "set")
    write_openpose(folder / "empty_keypoints.json", [])
    (folder / "empty_camera.json").write_text((folder / "view_0000_camera.json").read_text())
    return folder


def test_folder_without_a_person_gives_a_clear_entry(body, toy, tmp_path):
    folder = _folder(tmp_path, body, toy)
    task = ImageFitTask()
    config = task.config("folder", {"images": str(folder)}, quick=True)
    run = task.run(
        posebench.load_prior("none"), toy[0], body, config, torch.device("cpu"), 0, NullProgress()
    )
    entries = {e["name"]: e for e in run.details["per_image"]}
    assert entries["empty"]["status"] == NO_PERSON
    assert entries["view_0000"]["status"] == "fitted"
    assert run.metrics["kp2d_error_px"] is not None and run.metrics["pa_mpjpe_mm"] is None


def test_fit_images_writes_one_file_per_image_and_a_summary(body, toy, tmp_path):
    folder = _folder(tmp_path, body, toy)
    out = tmp_path / "out"
    summary = fit_images(
        posebench.load_prior("none"), body, folder, out,
        {"fit": {"camera": {"steps": 10}, "stages": {"steps": 5}}},
    )  # fmt: skip
    assert summary["fitted"] == 2 and summary["no_person"] == 1
    assert json.loads((out / "summary.json").read_text())["per_image"] == summary["per_image"]
    with np.load(out / "view_0001_fit.npz") as fitted:
        assert fitted["pose_body"].shape == (1, 63) and "pose" not in fitted
        assert fitted["root_orient"].shape == fitted["transl"].shape == (1, 3)
        assert fitted["keypoints_fitted"].shape == (25, 2)
    assert read_poses(out / "view_0001_fit.npz").shape == (1, 21, 3)  # a pose file as it is
    assert not (out / "empty_fit.npz").exists()


def test_bad_inputs_are_one_line_errors(body, toy, tmp_path):
    task = ImageFitTask()
    none = posebench.load_prior("none")

    def run_folder(folder, **extra):
        config = task.config("folder", {"images": str(folder), **extra}, quick=True)
        return task.run(none, toy[0], body, config, torch.device("cpu"), 0, NullProgress())

    with pytest.raises(InputError, match="needs images"):
        task.run(none, toy[0], body, task.config("folder"), torch.device("cpu"), 0, NullProgress())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a_keypoints.json").write_text("{not json")
    with pytest.raises(InputError, match="malformed JSON") as error:
        run_folder(bad)
    assert "\n" not in str(error.value)
    (bad / "a_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": [1, 2]}]}))
    with pytest.raises(InputError, match="expected 75"):
        run_folder(bad)
    write_openpose(bad / "a_keypoints.json", [np.ones((25, 3))])
    with pytest.raises(InputError, match="image_size"):
        run_folder(bad)
    (bad / "a_camera.json").write_text(json.dumps({"focal_length": 100}))
    with pytest.raises(InputError, match="not a camera file"):
        run_folder(bad)
    with pytest.raises(InputError, match="is not a folder"):
        run_folder(tmp_path / "missing")


def test_image_sizes_come_from_png_and_jpeg_headers(tmp_path):
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 640, 480))
    jpeg = tmp_path / "b.jpg"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, 720, 1280) + b"\x03"
    jpeg.write_bytes(b"\xff\xd8" + app0 + sof)
    assert image_size(png) == (640, 480)
    assert image_size(jpeg) == (1280, 720)
    (tmp_path / "c.jpg").write_bytes(b"GIF89a")
    with pytest.raises(InputError, match="not a PNG or JPEG"):
        image_size(tmp_path / "c.jpg")


def test_fit_image_command(body, toy, tmp_path, capsys):
    from posebench.cli.main import main

    folder = _folder(tmp_path, body, toy)
    config = tmp_path / "fast.yaml"
    config.write_text("fit: {camera: {steps: 10}, stages: {steps: 5}}\n")
    code = main(["fit-image", "--prior", "gmm", "--images", str(folder), "--out", str(tmp_path / "o"),
                 "--task-config", str(config), "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "2 images fitted with 'gmm' (1 with no person detected)" in out
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["prior"]["name"] == "gmm"
    code = main(
        ["fit-image", "--prior", "gmm", "--images", str(tmp_path / "nowhere"), "--out", "x"]
    )
    assert code == 2 and "nowhere" in capsys.readouterr().err


# --------------------------------------------------------------------------- the start pose


@pytest.mark.parametrize(
    ("name", "weight", "latent"),
    [("none", 0.0, False), ("gmm", 1.0, False), ("vposer", 1.0, True), ("vposer", 1.0, False),
     ("posendf", 1.0, False)],
)  # fmt: skip
def test_the_body_stages_start_at_the_priors_initial_pose(body, toy, name, weight, latent):
    """With no body steps the fit returns its start: the prior's initial pose, in every view
    (side views fitted twice too), whether the pose or VPoser's latent is optimised."""
    prior = posebench.load_prior(name)
    views = make_synthetic_views(toy[0].poses("test")[:3], body, 0)
    config = fit_config(steps=0, camera_steps=2)
    config["fit"]["latent"] = latent
    fit = fit_views(prior, weight, body, observations(views), config)
    expected = prior.initial_pose(3)
    torch.testing.assert_close(fit.init_pose, expected)
    torch.testing.assert_close(fit.pose, expected)
    if name != "none":
        assert not torch.equal(expected, torch.zeros_like(expected))
    assert fit.steps == 2


def test_the_task_records_the_start_and_draws_views_from_the_test_split(body, toy):
    dataset, _ = toy
    task = ImageFitTask()
    assert task.version == "2"  # version 1 started every prior at the rest pose
    config = task.config("synthetic", quick=True)
    assert config["split"] == "test"
    config["fit"]["camera"]["steps"], config["fit"]["stages"]["steps"] = 2, 0
    prior = posebench.load_prior("gmm")
    run = task.run(prior, dataset, body, config, torch.device("cpu"), 0, NullProgress())
    assert run.details["start"] == prior.initial_pose_description
    views, chosen = task.synthetic_views(dataset, body, config, 0)
    test_poses = dataset.poses("test")[chosen].numpy()
    np.testing.assert_allclose(np.stack([v.pose for v in views]), test_poses, atol=1e-6)


def test_views_are_grouped_by_the_clip_their_pose_came_from():
    from posebench.datasets.embedded import EmbeddedDataset
    from posebench.tasks.image_fit import _per_clip

    dataset = EmbeddedDataset()
    clips = dataset.pose_clips("test")
    assert len(clips) == len(dataset.poses("test"))
    first, last = 0, len(clips) - 1
    views = [SimpleNamespace(name="view_0000"), SimpleNamespace(name="view_0001")]
    per_view = {"name": ["view_0000", "view_0001"], "pa_mpjpe_mm": [10.0, 30.0]}
    units = _per_clip(dataset, "test", views, [first, last], per_view)
    assert units == {
        "unit": "clip",
        "item": "view",
        "values": {clips[first]: [10.0], clips[last]: [30.0]},
    }
    assert clips[first] != clips[last]
