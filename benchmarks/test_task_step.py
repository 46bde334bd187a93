"""One optimiser step of each task, for every prior: the unit each task's run time is made of.

Denoising and image fitting run a few steps of their real objective (body forward, data terms,
the prior's energy, backward, Adam) on synthetic inputs; ``extra_info["steps"]`` says how many,
so time per step = the figure / steps. Interpolation times a one-step path of every prior's own
method (for Pose-NDF that includes projecting both ends) and sampling one batch of draws (for
Pose-NDF: random starts and their projection).

Denoising and image fitting also run on the path fitting took before bodies posed without the
mesh (``all-vertices``: every step skins the whole mesh and drops it), so one run gives the
ratio of the two at the same sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import posebench
from posebench import plugins
from posebench.body.anny import AnnyBody
from posebench.body.base import BodyModel
from posebench.core.device import synchronize
from posebench.core.errors import CapabilityNotSupported, InputError
from posebench.fitting.keypoints2d import Observations, fit_views
from posebench.fitting.motion import fit_motion
from posebench.tasks.denoise import DenoiseTask
from posebench.tasks.image_fit import ImageFitTask

# full: the batches the tasks themselves optimise together (denoise batch_windows, image_fit
# batch_views), so a step here is a step of a real run
WINDOWS = {"small": 2, "full": 16}  # denoising windows of 60 frames
VIEWS = {"small": 4, "full": 50}
PAIRS = {"small": 16, "full": 4096}
SAMPLES = {"small": 256, "full": 65_536}
STEPS = 5


def trained_prior(name: str, device: torch.device):
    prior = posebench.load_prior(name, device=str(device))
    try:
        prior.energy(torch.zeros(1, 21, 3, device=device))
    except InputError as exc:  # a plugin prior without shipped weights
        pytest.skip(str(exc))
    return prior


@pytest.fixture(scope="module", params=plugins.get_registry().names("prior"))
def prior_name(request: pytest.FixtureRequest) -> str:
    return request.param


class AllVerticesBody(AnnyBody):
    """The embedded body as fitting posed it before: the whole mesh at every step, then dropped."""

    forward_skeleton = BodyModel.forward_skeleton


BODY_PATHS = {"skeleton": AnnyBody, "all-vertices": AllVerticesBody}


@pytest.fixture(scope="module")
def body_on(device: torch.device) -> AnnyBody:
    return AnnyBody(device=device)


@pytest.fixture(scope="module", params=list(BODY_PATHS))
def fitting_body(request: pytest.FixtureRequest, device: torch.device) -> AnnyBody:
    """The body a fitting loop poses: without the mesh (today) or with it (the old path)."""
    return BODY_PATHS[request.param](device=device)


def test_denoise_steps(benchmark, prior_name, size, device, body_on, fitting_body):
    prior = trained_prior(prior_name, device)
    weight = 0.0 if prior_name == "none" else prior.energy_weight("denoise")[0]
    schedule = {"optimiser": {"root_steps": 0, "frame_steps": 0, "steps": STEPS}}
    config = DenoiseTask().config("humor", schedule)
    generator = torch.Generator().manual_seed(0)
    shape = (WINDOWS[size], 60)
    pose = (0.2 * torch.randn(*shape, 21, 3, generator=generator)).to(device)
    root = torch.zeros(*shape, 3, device=device)
    with torch.no_grad():
        joints = body_on(pose.reshape(-1, 21, 3)).joints.reshape(*shape, 22, 3)
    observed = joints + 0.04 * torch.randn(joints.shape, generator=generator).to(device)

    def steps() -> float:
        fit = fit_motion(prior, weight, fitting_body, observed, config, init_pose=pose,
                         root=(root, root))  # fmt: skip
        synchronize(device)
        return fit.final_loss

    benchmark.group = f"denoise: {STEPS} steps of the full objective ({size})"
    benchmark.extra_info.update(prior=prior_name, windows=shape[0], frames=shape[1],
                                steps=STEPS, device=str(device),
                                body_path=body_path(fitting_body))  # fmt: skip
    assert np.isfinite(benchmark(steps))


def image_fit_problem(
    body: AnnyBody, views: int, steps: int, device: torch.device
) -> tuple[dict, Observations]:
    """The image_fit config with ``steps`` per stage and the detected synthetic views' keypoints
    and cameras, as the task would fit them."""
    task = ImageFitTask()
    schedule = {"camera": {"steps": steps}, "stages": {"steps": steps}}
    config = task.config("synthetic", {"n_views": views, "fit": schedule})
    found, _ = task.synthetic_views(posebench.load_dataset("embedded"), body, config, seed=0)
    found = [v for v in found if v.detected]
    observed = Observations(
        keypoints=torch.tensor(np.stack([v.keypoints for v in found]), dtype=torch.float32,
                               device=device),
        camera=torch.tensor([[v.camera.focal, v.camera.cx, v.camera.cy] for v in found],
                            dtype=torch.float32, device=device),
        height=torch.tensor([float(v.camera.height) for v in found], device=device),
    )  # fmt: skip
    return config, observed


def test_image_fit_steps(benchmark, prior_name, size, device, body_on, fitting_body):
    prior = trained_prior(prior_name, device)
    weight = 0.0 if prior_name == "none" else prior.energy_weight("image_fit")[0]
    config, observed = image_fit_problem(body_on, VIEWS[size], 1, device)
    stages = len(config["fit"]["stages"]["prior_scale"])

    def steps() -> int:
        fit = fit_views(prior, weight, fitting_body, observed, config)
        synchronize(device)
        return fit.steps

    benchmark.group = f"image_fit: 1 camera step + {stages} stages of 1 step ({size})"
    benchmark.extra_info.update(prior=prior_name, views=len(observed.keypoints), steps=1 + stages,
                                device=str(device), body_path=body_path(fitting_body))  # fmt: skip
    assert benchmark(steps) == 1 + stages


def body_path(body: AnnyBody) -> str:
    return "all-vertices" if isinstance(body, AllVerticesBody) else "skeleton"


def test_interpolate_step(benchmark, prior_name, size, device):
    prior = trained_prior(prior_name, device)
    generator = torch.Generator().manual_seed(0)
    start, end = (0.3 * torch.randn(2, PAIRS[size], 21, 3, generator=generator)).to(device)

    def step() -> torch.Tensor:
        path = prior.interpolate(start, end, 1)
        synchronize(device)
        return path

    benchmark.group = f"interpolate: a one-step path, ends projected where the prior does ({size})"
    benchmark.extra_info.update(prior=prior_name, pairs=PAIRS[size], device=str(device))
    assert benchmark(step).shape == (2, PAIRS[size], 21, 3)


def test_sample_batch(benchmark, prior_name, size, device):
    prior = trained_prior(prior_name, device)

    def draw() -> torch.Tensor:
        try:
            poses = prior.sample(SAMPLES[size], torch.Generator().manual_seed(0))
        except CapabilityNotSupported as exc:
            pytest.skip(str(exc))
        synchronize(device)
        return poses

    benchmark.group = f"sample: one batch of draws ({size})"
    benchmark.extra_info.update(prior=prior_name, samples=SAMPLES[size], device=str(device))
    assert benchmark(draw).shape == (SAMPLES[size], 21, 3)
