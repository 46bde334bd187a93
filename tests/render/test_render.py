"""Pictures of poses: PNG files, the rasteriser, the camera, and `posebench render` / `--render`."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch
from cli_runner import cli

from posebench.core.errors import InputError
from posebench.core.npzio import write_npz
from posebench.datasets.pose_files import write_poses
from posebench.render import OrbitCamera, RenderSettings, decode_png, encode_png, render_poses, tile
from posebench.render.files import strip_indices
from posebench.render.raster import rasterize, shade_mesh

L_SHOULDER = 15  # index of L_Shoulder in the 21-joint body pose


def png_size(path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


# --- PNG -----------------------------------------------------------------------------------


def test_png_rows_filtered_up_and_unfiltered_both_decode():
    """posebench writes every row with the 'up' filter (smaller photographs) and still reads the
    unfiltered rows it used to write; other filters are refused."""
    image = np.random.default_rng(1).integers(0, 256, size=(6, 4, 3), dtype=np.uint8)
    data = encode_png(image)
    raw = zlib.decompress(data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8])
    rows = np.frombuffer(raw, np.uint8).reshape(6, 13)
    assert (rows[:, 0] == 2).all()
    plain = np.concatenate([np.zeros((6, 1), np.uint8), image.reshape(6, -1)], axis=1)
    for filter_type, expected in ((0, image), (1, None)):
        plain[:, 0] = filter_type
        body = zlib.compress(plain.tobytes())
        chunk = struct.pack(">I", len(body)) + b"IDAT" + body
        chunk += struct.pack(">I", zlib.crc32(b"IDAT" + body) & 0xFFFFFFFF)
        start, end = data.index(b"IDAT") - 4, data.index(b"IEND") - 4
        other = data[:start] + chunk + data[end:]
        if expected is None:
            with pytest.raises(InputError, match="filters other than"):
                decode_png(other)
        else:
            np.testing.assert_array_equal(decode_png(other), expected)


def test_png_round_trip_and_valid_chunks():
    image = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    data = encode_png(image)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(decode_png(data), image)
    position = 8
    while position < len(data):  # every chunk's CRC is right: other readers accept the file
        (length,) = struct.unpack(">I", data[position : position + 4])
        body = data[position + 4 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(body) & 0xFFFFFFFF == crc
        position += 12 + length
    with pytest.raises(ValueError, match="uint8"):
        encode_png(image.astype(np.float32))


# --- rasteriser and camera -----------------------------------------------------------------


def test_rasterizer_covers_a_triangle_exactly_and_keeps_the_nearest_face():
    size = 40
    # a right triangle over the lower-left half of the image, at depth 2, and a square at
    # depth 1 over the middle; the square is listed first so order cannot decide visibility
    screen = torch.tensor(
        [[0, 0, 2], [40, 40, 2], [0, 40, 2], [10, 10, 1], [30, 10, 1], [30, 30, 1], [10, 30, 1]],
        dtype=torch.float32,
    )
    faces = torch.tensor([[3, 4, 5], [3, 5, 6], [0, 1, 2]])
    fragments = rasterize(screen, faces, size, size)
    triangle = fragments.face == 2
    square = (fragments.face == 0) | (fragments.face == 1)
    assert int(square.sum()) == 20 * 20
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    lower_left = torch.from_numpy((ys >= xs) & ~((xs > 10) & (xs < 30) & (ys > 10) & (ys < 30)))
    assert torch.equal(triangle, lower_left)  # centres on the diagonal edge count as inside
    covered = fragments.face >= 0
    torch.testing.assert_close(fragments.bary[covered].sum(-1), torch.ones(int(covered.sum())))


def test_camera_looks_at_its_target_with_x_right_and_y_up():
    camera = OrbitCamera(100, 100, azimuth_deg=0.0, elevation_deg=0.0)
    target = torch.tensor([0.3, 1.0, -0.2])
    points = target + torch.tensor([[0.0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 1.0]])
    x, y, depth = camera.project(points, target).T
    assert (x[0], y[0], depth[0]) == pytest.approx((50, 50, camera.distance))
    assert x[1] > 50 and y[1] == pytest.approx(50)  # +x (the body's left) on the right
    assert y[2] < 50 and x[2] == pytest.approx(50)  # +y up
    assert depth[3] == pytest.approx(camera.distance - 1)  # +z towards the camera


def test_shading_is_brighter_where_the_surface_turns_towards_the_light():
    camera = OrbitCamera(32, 32, azimuth_deg=0.0, elevation_deg=0.0)
    quad = torch.tensor([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], dtype=torch.float32)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])

    def turned(degrees: float) -> torch.Tensor:
        angle = torch.tensor(degrees).deg2rad()
        c, s = torch.cos(angle), torch.sin(angle)
        rotation = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        return quad @ rotation.T

    white = (1.0, 1.0, 1.0)
    brightness = {}
    for degrees in (-30.0, 30.0, 90.0):
        image, coverage = shade_mesh(turned(degrees), faces, camera, torch.zeros(3), white)
        if degrees == 90.0:
            assert not coverage.any()  # edge-on: nothing to draw
            continue
        assert coverage.sum() > 100 and image[coverage].std() < 1e-4  # flat face, one shade
        brightness[degrees] = float(image[coverage].mean())
    # the key light comes from the upper left: the face turned to the left is lit more
    assert brightness[-30.0] > brightness[30.0] + 0.05


# --- bodies ----------------------------------------------------------------------------------


def mask(image: np.ndarray) -> np.ndarray:
    return (image < 250).any(axis=-1)


def test_t_pose_is_mirror_symmetric_and_the_left_arm_is_on_the_right(body):
    settings = RenderSettings(size=96, azimuth_deg=0.0, elevation_deg=0.0)
    pose = torch.zeros(2, 21, 3)
    pose[1, L_SHOULDER, 2] = -1.3  # left arm down along the side
    t_pose, arm_down = (mask(image) for image in render_poses(body, pose, settings=settings))
    overlap = (t_pose & t_pose[:, ::-1]).sum() / (t_pose | t_pose[:, ::-1]).sum()
    assert overlap > 0.9
    # measured from the head's column: the lowered left arm no longer reaches out to the right
    rows, columns = np.nonzero(arm_down)
    head = columns[rows == rows.min()].mean()
    assert columns.max() - head < 0.6 * (head - columns.min())


def test_skeleton_mode_colours_the_left_side_blue_on_the_right(body):
    settings = RenderSettings(mode="skeleton", size=96, azimuth_deg=0.0, elevation_deg=0.0)
    (image,) = render_poses(body, torch.zeros(1, 21, 3), settings=settings)
    image = image.astype(int)
    blue = (image[..., 2] > image[..., 0] + 60) & mask(image)
    red = (image[..., 0] > image[..., 2] + 60) & mask(image)
    assert np.nonzero(blue)[1].mean() > 52 and np.nonzero(red)[1].mean() < 44


def test_tile_lays_out_rows_and_columns():
    images = [np.full((4, 6, 3), value, np.uint8) for value in (10, 20, 30)]
    grid = tile(images, columns=2, gap=1)
    assert grid.shape == (9, 13, 3)
    assert grid[5, 0, 0] == 30 and grid[4, 0, 0] == 255 and grid[0, 7, 0] == 20


def test_strip_indices_spread_from_first_to_last():
    assert strip_indices(101, 6) == [0, 20, 40, 60, 80, 100]
    assert strip_indices(3, 6) == [0, 1, 2]


# --- command line ----------------------------------------------------------------------------


def test_render_command_writes_pictures_and_a_grid(capsys, tmp_path):
    poses = tmp_path / "poses.npz"
    write_poses(poses, 0.2 * torch.randn(5, 21, 3, generator=torch.Generator().manual_seed(1)), {})
    out = tmp_path / "pictures"
    code, stdout, err = cli(capsys, "render", "--input", str(poses), "--out", str(out),
                            "--size", "48", "--columns", "2", "--limit", "4", "--device", "cpu")  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "grid.png", "pose_0000.png", "pose_0001.png", "pose_0002.png", "pose_0003.png",
    ]  # fmt: skip
    assert png_size(out / "pose_0002.png") == (48, 48)
    assert png_size(out / "grid.png") == (2 * 48 + 4, 2 * 48 + 4)
    assert "4 pictures" in stdout and "1 more left out by --limit" in stdout
    assert mask(decode_png((out / "pose_0000.png").read_bytes())).sum() > 100


def test_render_command_draws_projection_steps_and_paths_as_strips(capsys, tmp_path):
    steps = np.zeros((11, 2, 63), np.float32)
    steps[:, :, L_SHOULDER * 3 + 2] = np.linspace(-1.3, 0, 11)[:, None]
    source = tmp_path / "steps.npz"
    write_npz(source, {"pose_body": steps[-1], "steps_pose_body": steps}, {})
    code, _, err = cli(capsys, "render", "--input", str(source), "--out", str(tmp_path / "s"),
                       "--size", "32", "--frames", "3", "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    assert png_size(tmp_path / "s" / "steps_0001.png") == (3 * 32 + 2 * 4, 32)
    strip = decode_png((tmp_path / "s" / "steps_0000.png").read_bytes())
    first, last = strip[:, :32], strip[:, -32:]
    assert (first != last).any()  # the arm moved along the steps

    path = tmp_path / "path.npz"
    write_npz(path, {"path_pose_body": steps[:, :1]}, {})
    code, _, err = cli(capsys, "render", "--input", str(path), "--out", str(tmp_path / "p"),
                       "--size", "32", "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "p" / "path_0000.png").is_file()


def test_sample_and_project_render_their_output(capsys, tmp_path):
    samples = tmp_path / "samples.npz"
    code, out, err = cli(capsys, "sample", "--prior", "none", "--n", "3", "--out", str(samples),
                         "--render", "--size", "32", "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "samples_render" / "pose_0002.png").is_file() and "3 pictures" in out
    code, out, err = cli(capsys, "project", "--prior", "gmm", "--input", str(samples),
                         "--out", str(tmp_path / "p.npz"), "--save-steps", "--steps", "3", "--render",
                         str(tmp_path / "here"), "--size", "32", "--mode", "skeleton")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "here" / "steps_0000.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "{tmp}/missing.npz"], "does not exist"),
        (["--input", "{tmp}/bad.npz"], "'steps_pose_body' has shape"),
        (["--input", "{tmp}/poses.npz", "--size", "8"], "render size must be 16..4096"),
        (["--input", "{tmp}/poses.npz", "--limit", "0"], "must be at least 1"),
        (["--input", "{tmp}/poses.npz", "--mode", "wire"], "invalid choice: 'wire'"),
        (["--input", "{tmp}/poses.npz", "--body-model", "smpl"], "SMPL"),
    ],
)
def test_render_errors_are_one_line_with_status_2(capsys, tmp_path, argv, message):
    write_poses(tmp_path / "poses.npz", torch.zeros(1, 21, 3), {})
    write_npz(tmp_path / "bad.npz", {"steps_pose_body": np.zeros((3, 63), np.float32)}, {})
    argv = [part.format(tmp=tmp_path) for part in argv]
    code, _, err = cli(capsys, "render", *argv, "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "grid.png").exists()


def test_render_draws_an_smpl_body_when_configured(capsys, tmp_path):
    """SMPL files (synthetic here, in SMPL's npz layout) are drawn through the same path."""
    from synthetic_smpl import make_model

    pytest.importorskip("smplx")
    folder = tmp_path / "models"
    folder.mkdir()
    np.savez(folder / "SMPL_NEUTRAL.npz", **make_model(n_vertices=300))
    write_poses(tmp_path / "poses.npz", torch.zeros(2, 21, 3), {})
    code, _, err = cli(capsys, "render", "--input", str(tmp_path / "poses.npz"),
                       "--out", str(tmp_path / "out"), "--size", "32", "--body-model", "smpl",
                       "--body-model-path", str(folder))  # fmt: skip
    assert code == 0, err
    assert mask(decode_png((tmp_path / "out" / "pose_0001.png").read_bytes())).sum() > 20
