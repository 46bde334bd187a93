"""Pictures of poses: one mesh picture and one skeleton picture with posebench's rasteriser."""

from __future__ import annotations

import pytest
import torch

from posebench.body.anny import AnnyBody
from posebench.render import RenderSettings, render_poses

SIZE = {"small": 256, "full": 512}


@pytest.mark.parametrize("mode", ["mesh", "skeleton"])
def test_render_one_picture(benchmark, size, device, mode):
    body = AnnyBody(device=device)
    pose = (0.3 * torch.randn(1, 21, 3, generator=torch.Generator().manual_seed(0))).to(device)
    settings = RenderSettings(mode=mode, size=SIZE[size])
    benchmark.group = f"render one picture ({size}: {SIZE[size]} px, 2x supersampled)"
    benchmark.extra_info.update(mode=mode, pixels=SIZE[size], device=str(device))
    (image,) = benchmark(render_poses, body, pose, settings=settings)
    assert image.shape == (SIZE[size], SIZE[size], 3) and (image < 250).any()
