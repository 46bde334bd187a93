"""``posebench fit-image``'s overlay pictures: the fitted body and both keypoint sets over the photo
(or a blank canvas), from small synthetic folders."""

from __future__ import annotations

import builtins
import json

import numpy as np
import pytest
import torch

import posebench
from posebench.body.camera import PinholeCamera
from posebench.cli.fit_image import fit_images
from posebench.datasets.image_synth import make_synthetic_views, write_synthetic_set
from posebench.render import decode_png, encode_png
from posebench.render.overlay import (
    BLANK,
    FITTED,
    NEEDS_PILLOW,
    NO_IMAGE,
    OBSERVED,
    PHOTO,
    draw_fit_overlay,
    read_photo,
)

pytestmark = pytest.mark.usefixtures("one_thread")

WIDTH, HEIGHT = 160, 120
PHOTO_COLOUR = (20, 40, 90)  # a dark blue "photo"
FAST = {"fit": {"camera": {"steps": 10}, "stages": {"steps": 5}}}


def arms_down(n: int) -> torch.Tensor:
    pose = torch.zeros(n, 21, 3)
    pose[:, 15, 2], pose[:, 16, 2] = -1.2, 1.2
    return pose


def synthetic_folder(body, folder, photos: bool):
    """Two views of 160 x 120 px, with a plain photo per view when ``photos``."""
    views = make_synthetic_views(arms_down(2), body, 0, {"image_sizes": [[WIDTH, HEIGHT]]})
    write_synthetic_set(views, folder)
    if photos:
        for view in views:
            photo = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            photo[:] = PHOTO_COLOUR
            (folder / f"{view.name}.png").write_bytes(encode_png(photo))
    return views


def is_colour(pixels: np.ndarray, colour) -> np.ndarray:
    return (np.abs(pixels.astype(int) - np.array(colour)) <= 2).all(axis=-1)


# --- the picture -------------------------------------------------------------------------------


def test_overlay_draws_mesh_and_both_keypoint_sets_on_a_blank_canvas(body):
    camera = PinholeCamera.centred(200.0, WIDTH, HEIGHT)
    root = torch.tensor([[np.pi, 0.0, 0.0]])  # facing the camera, head up (y down)
    posed = body(arms_down(1), root, torch.tensor([[0.0, 0.0, 3.5]]))
    assert posed.body25 is not None and posed.vertices is not None
    z = posed.body25[0, :, 2:3]
    fitted = (200.0 * posed.body25[0, :, :2] / z + torch.tensor([WIDTH / 2, HEIGHT / 2])).numpy()
    observed = np.concatenate([fitted + np.array([12.0, 0.0]), np.ones((25, 1))], axis=1)
    observed[4, 2] = 0.0  # 12 px to the right of the fit; the right wrist was not detected
    picture = draw_fit_overlay(None, camera, observed, fitted, posed.vertices[0], body.faces, 8.5)
    assert picture.shape == (HEIGHT, WIDTH, 3) and picture.dtype == np.uint8
    x, y = np.round(fitted[8]).astype(int)  # mid-hip: on the body
    assert is_colour(picture[y, x], FITTED)
    x, y = np.round(observed[7, :2]).astype(int)  # left wrist, clear of the fitted limbs
    assert is_colour(picture[y, x], OBSERVED)
    x, y = np.round(observed[4, :2]).astype(int)
    assert not is_colour(picture[y, x], OBSERVED)  # a missing keypoint is not drawn
    # the mesh tints the canvas between the keypoints; the corner far from it stays blank
    x, y = np.round((fitted[8] + fitted[1]) / 2 + [2.5, 0]).astype(int)
    assert not is_colour(picture[y, x], BLANK)
    assert is_colour(picture[-1, -1], BLANK)
    # the legend: ink of both colours in the top-left corner
    corner = picture[:30, :60]
    assert is_colour(corner, OBSERVED).any() and is_colour(corner, FITTED).any()


def test_photos_are_read_when_possible_and_say_why_not(tmp_path, monkeypatch):
    camera = PinholeCamera.centred(100.0, 8, 6)
    photo = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    (tmp_path / "own.png").write_bytes(encode_png(photo))
    read, background = read_photo(tmp_path / "own.png", camera)
    assert background == PHOTO and np.array_equal(read, photo)
    assert read_photo(None, camera) == (None, NO_IMAGE)
    small = PinholeCamera.centred(100.0, 4, 3)
    assert read_photo(tmp_path / "own.png", small)[1].startswith("blank: the image is 8x6 px")

    real_import = builtins.__import__

    def no_pillow(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no Pillow here")
        return real_import(name, *args, **kwargs)

    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(20))
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "__import__", no_pillow)
        assert read_photo(tmp_path / "photo.jpg", camera) == (None, NEEDS_PILLOW)
        read, background = read_photo(tmp_path / "own.png", camera)  # posebench's own PNG
        assert background == PHOTO and np.array_equal(read, photo)

    image = pytest.importorskip("PIL.Image")
    plain = np.empty((6, 8, 3), np.uint8)
    plain[:] = PHOTO_COLOUR
    image.fromarray(plain).save(tmp_path / "real.jpg", quality=95)
    read, background = read_photo(tmp_path / "real.jpg", camera)
    assert background == PHOTO and read.shape == (6, 8, 3)
    assert np.abs(read.astype(int) - plain).max() <= 4  # JPEG is lossy


# --- fit-image ---------------------------------------------------------------------------------


def test_fit_image_writes_an_overlay_over_each_photo(body, tmp_path):
    synthetic_folder(body, tmp_path / "set", photos=True)
    out = tmp_path / "out"
    summary = fit_images(posebench.load_prior("none"), body, tmp_path / "set", out, FAST)
    entries = {e["name"]: e for e in summary["per_image"]}
    assert entries["view_0000"]["overlay"] == "view_0000_overlay.png"
    assert entries["view_0000"]["overlay_background"] == PHOTO
    assert json.loads((out / "summary.json").read_text())["per_image"] == summary["per_image"]
    picture = decode_png((out / "view_0001_overlay.png").read_bytes())
    assert picture.shape == (HEIGHT, WIDTH, 3)
    assert is_colour(picture[-1, -1], PHOTO_COLOUR)  # the photo where nothing is drawn
    with np.load(out / "view_0001_fit.npz") as fit:
        x, y = np.round(fit["keypoints_fitted"][8]).astype(int)
    assert is_colour(picture[y, x], FITTED)


def test_fit_image_without_images_draws_on_a_blank_canvas(body, tmp_path):
    synthetic_folder(body, tmp_path / "set", photos=False)
    summary = fit_images(posebench.load_prior("none"), body, tmp_path / "set", tmp_path / "o", FAST)
    assert {e["overlay_background"] for e in summary["per_image"]} == {NO_IMAGE}
    picture = decode_png((tmp_path / "o" / "view_0000_overlay.png").read_bytes())
    assert picture.shape == (HEIGHT, WIDTH, 3) and is_colour(picture[-1, -1], BLANK)
