"""``posebench view``: what it shows per frame, its controls, its server, and a real browser.

The frame logic runs without viser. The server tests start the viewer on a free loopback port
and check its page and websocket from Python; the browser test loads the page in headless
Chromium (Debian's ``chromium``), driven through its DevTools protocol so that the test waits
for the page itself rather than a fixed time budget, and is skipped, saying so, where no
Chromium is installed.
"""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
import socket
import sys
import time
import urllib.request

import numpy as np
import pytest
import torch
from viewer_clients import (
    BROWSER_S,
    connect_viewer,
    encode_viser,
    headless_chromium,
    receive_messages,
    served_from,
)

from posebench.body.anny import AnnyBody
from posebench.cli import view as view_command
from posebench.cli.main import main
from posebench.priors.posendf.prior import PoseNDFPrior
from posebench.viz.frames import SPACING, build_scene, distance_label
from posebench.viz.inputs import read_input
from posebench.viz.playback import Playback

STEPS, POSES = 4, 2  # a projection of 2 poses over 3 steps (step 0 = input)


@pytest.fixture(scope="module")
def prior():
    prior = PoseNDFPrior()
    prior.load(prior.default_checkpoint())
    return prior


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small inputs written with numpy: a steps file and three motions of different kinds."""
    folder = tmp_path_factory.mktemp("view")
    rng = np.random.default_rng(0)
    steps = (0.3 * rng.standard_normal((STEPS, POSES, 63))).astype(np.float32)
    steps[1:] = steps[:1] * np.linspace(0.8, 0.2, STEPS - 1)[:, None, None]  # towards rest
    np.savez(folder / "steps.npz", pose_body=steps[-1], steps_pose_body=steps)
    trans = np.zeros((5, 3), np.float32)
    trans[:, 0] = np.linspace(0, 0.4, 5)  # walks 40 cm along x
    trans[:, 1] = 0.9
    np.savez(
        folder / "truth.npz",
        pose_body=(0.2 * rng.standard_normal((5, 63))).astype(np.float32),
        root_orient=np.zeros((5, 3), np.float32),
        trans=trans,
    )
    np.savez(folder / "short.npz", pose_body=np.zeros((3, 63), np.float32))
    joints = AnnyBody()(torch.zeros(4, 21, 3)).joints.numpy()
    joints[:, :, 1] += np.arange(4)[:, None] * 0.1  # rises 10 cm a frame
    np.savez(folder / "joints.npz", joints=joints)
    return folder


# --- frames, without viser -------------------------------------------------------------------


def test_steps_file_frames_are_the_body_and_distances_the_prior(files, body, prior):
    view_input = read_input(str(files / "steps.npz"))
    assert view_input.unit == "step" and len(view_input.bodies) == POSES
    scene = build_scene([view_input], body, prior)
    assert scene.frames == STEPS and scene.unit == "step"
    assert scene.distance_label == distance_label("posendf") == "posendf distance"
    assert scene.position_text(2) == f"step 2 of {STEPS - 1} (0 = input)"
    steps = torch.from_numpy(np.load(files / "steps.npz")["steps_pose_body"]).reshape(
        STEPS, POSES, 21, 3
    )
    for i, track in enumerate(scene.tracks):
        for step in range(STEPS):
            with torch.no_grad():
                expected = body(steps[step, i : i + 1]).vertices[0].numpy()
                energy = prior.energy(steps[step, i : i + 1]).item()
            expected = expected + np.array([SPACING * i, 0.0, 0.0])  # pelvis at its slot
            np.testing.assert_allclose(track.vertices(step), expected, atol=1e-5)
            # the viewer evaluates a batch of poses: float32 rounding differs from one at a time
            assert track.distance(step) == pytest.approx(energy, rel=1e-4, abs=1e-6)


def test_motions_side_by_side_shorter_ones_hold_their_last_frame(files, body, prior):
    inputs = [read_input(str(files / n)) for n in ("truth.npz", "short.npz", "joints.npz")]
    scene = build_scene(inputs, body, prior)
    truth, short, skeleton = scene.tracks
    assert scene.frames == 5 and scene.fps == 30.0 and scene.unit == "frame"
    # each body starts at its slot along x and keeps its own motion from there
    for slot, track in enumerate(scene.tracks):
        assert track.joints(0)[0, [0, 2]] == pytest.approx([SPACING * slot, 0.0], abs=1e-5)
    assert truth.joints(4)[0, 0] - truth.joints(0)[0, 0] == pytest.approx(0.4, abs=1e-5)
    assert short.frames == 3
    np.testing.assert_array_equal(short.vertices(4), short.vertices(2))
    assert short.distance(4) == short.distance(2)
    assert skeleton.is_skeleton and skeleton.vertices(0) is None and skeleton.distance(0) is None
    assert skeleton.bones(1).shape == (21, 2, 3)
    rise = skeleton.joints(3)[:, 1] - skeleton.joints(0)[:, 1]
    np.testing.assert_allclose(rise, 0.3, atol=1e-5)
    np.testing.assert_array_equal(skeleton.joints(4), skeleton.joints(3))  # held


def test_amass_file_is_turned_from_z_up_to_y_up(tmp_path, body, prior):
    poses = np.zeros((3, 156), np.float32)
    poses[:, 0] = math.pi / 2  # root turned +90 deg about x: the body's y-up becomes z-up
    np.savez(tmp_path / "amass.npz", poses=poses, trans=np.zeros((3, 3), np.float32),
             mocap_framerate=np.array(120.0))  # fmt: skip
    view_input = read_input(str(tmp_path / "amass.npz"))
    assert view_input.fps == 120.0 and view_input.bodies[0].z_up
    joints = build_scene([view_input], body, prior).tracks[0].joints(0)
    head, pelvis = joints[15], joints[0]
    assert head[1] - pelvis[1] > 0.3  # upright in the viewer's y-up world
    assert abs(head[2] - pelvis[2]) < 0.1


def test_dataset_name_shows_its_motion():
    view_input = read_input("embedded", split="train")
    assert view_input.name == "embedded train (cmu_01_03)" and view_input.fps == 120.0
    assert len(view_input.bodies) == 1 and len(view_input.bodies[0]) > 4000
    val = read_input("embedded", split="val")  # the first val clip: DeepMimic's walk at 30 Hz
    assert val.name == "embedded val (deepmimic_walk)" and val.fps == 30.0


def test_playback_moves_like_the_controls():
    playback = Playback(frames=5, fps=10.0)
    assert playback.next() == 1 and playback.previous() == 0 and playback.previous() == 0
    assert playback.set(99) == 4 and playback.next() == 4 and playback.set(-3) == 0
    assert playback.advance(0.25) == (2, False)  # 2.5 frames at 10 frames/s
    assert playback.advance(0.3) == (0, False)  # 5.5 frames: wraps to 0 (loop)
    playback.loop = False
    assert playback.advance(10.0) == (4, True)  # stops at the last frame
    slow = Playback(frames=100, fps=25.0)
    for _ in range(30):  # 30 ticks of 1/30 s, each less than a frame
        frame, _ = slow.advance(1 / 30)
    assert frame in (24, 25)  # fractions accumulate: one second is 25 frames at any tick rate


# --- command-line errors: one line, status 2 ------------------------------------------------


def run_cli(capsys, monkeypatch, *argv: str) -> tuple[int, str, str]:
    """Run ``posebench view ...``; a viewer that starts is stopped at once (Ctrl-C)."""

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(view_command.time, "sleep", interrupt)
    try:
        code = main(["view", *argv])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("posebench: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.npz", None, "does not exist"),
        ("junk.npz", b"not a zip", "is not a readable .npz"),
        ("shape.npz", {"steps_pose_body": np.zeros((3, 2, 60))}, "expected (S+1, N, 63)"),
        ("nan.npz", {"pose_body": np.full((2, 63), np.nan)}, "NaN"),
        ("nothing.npz", {"other": np.zeros(3)}, "has neither pose_body"),
    ],
)
def test_bad_inputs_are_one_line_errors(capsys, monkeypatch, tmp_path, name, content, expected):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.savez(path, **content)
    code, _, err = run_cli(capsys, monkeypatch, "--input", str(path), "--port", "0")
    assert expected in one_line_error(code, err)


def test_unknown_prior_split_and_missing_viser_are_one_line_errors(capsys, monkeypatch, files):
    steps = str(files / "steps.npz")
    code, _, err = run_cli(capsys, monkeypatch, "--input", steps, "--prior", "posendff")
    assert "unknown prior 'posendff'" in one_line_error(code, err)
    code, _, err = run_cli(capsys, monkeypatch, "--input", "embedded", "--split", "tset")
    assert "no split 'tset'" in one_line_error(code, err)
    monkeypatch.setitem(sys.modules, "viser", None)  # as if the extra were not installed
    code, _, err = run_cli(capsys, monkeypatch, "--input", steps)
    assert "pip install 'pose-prior-bench[viz]'" in one_line_error(code, err)


# --- the server, from Python ------------------------------------------------------------------


@pytest.fixture(scope="module")
def viewer(files, body, prior):
    pytest.importorskip("viser")
    from posebench.viz.viewer import start_viewer

    # steps and a motion together: their frames share the slider (labelled 'Frame')
    inputs = [read_input(str(files / n)) for n in ("steps.npz", "joints.npz")]
    running = start_viewer(build_scene(inputs, body, prior), "127.0.0.1", 0)
    yield running
    running.stop()


def test_port_in_use_is_a_one_line_error(capsys, monkeypatch, files):
    pytest.importorskip("viser")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, _, err = run_cli(capsys, monkeypatch, "--input", str(files / "short.npz"),
                               "--port", port, "--device", "cpu")  # fmt: skip
    assert f"port {port} on 127.0.0.1 is in use" in one_line_error(code, err)


def test_command_prints_the_url_and_stops_cleanly_on_ctrl_c(capsys, monkeypatch, files):
    pytest.importorskip("viser")
    code, out, err = run_cli(capsys, monkeypatch, "--input", str(files / "short.npz"),
                             "--port", "0", "--prior", "none", "--device", "cpu")  # fmt: skip
    assert code == 0, err
    assert "open http://127.0.0.1:" in out and "stopped" in out


def test_controls_move_the_frame_and_update_the_distance(viewer, files, prior):
    viewer.playing = False
    energies = np.load(files / "steps.npz")["steps_pose_body"]
    assert viewer.show(0) == 0 and viewer.next() == 1 and viewer.next() == 2
    assert viewer.previous() == 1 and int(viewer.slider.value) == 1
    with torch.no_grad():
        energy = prior.energy(torch.from_numpy(energies[1, :1]).reshape(1, 21, 3)).item()
    assert viewer.distance_text(0) == f"{energy:.5f}"
    assert viewer.distance_text(2) == "n/a (joints only)"
    assert viewer.position.value == viewer.scene.position_text(1) == "frame 1 of 3 (0.03 s)"
    viewer.slider.value = 3  # as a user's drag does
    assert viewer.frame == 3 and viewer.show(99) == STEPS - 1
    viewer.loop.value = False
    viewer.speed.value = 50.0
    viewer.show(0)
    viewer.playing = True
    deadline = time.monotonic() + 5
    while viewer.playing and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not viewer.playing and viewer.frame == STEPS - 1  # played to the end, then paused
    viewer.loop.value = True
    viewer.show(0)


def test_page_and_websocket_serve_the_scene(viewer):
    viser = pytest.importorskip("viser")
    from websockets.sync.client import connect

    assert viewer.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(viewer.url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        page = response.read().decode()
    assert "<title>Viser</title>" in page and '<div id="root">' in page

    viewer.show(0)
    url = viewer.url.replace("http://", "ws://")
    with connect(url, subprotocols=[f"viser-v{viser.__version__}"], max_size=None) as ws:
        messages = receive_messages(ws, until="ReplayDoneMessage")
        named = {(m["type"], m.get("name")) for m in messages}
        for i in range(POSES):
            assert ("MeshMessage", f"/bodies/{i}/mesh") in named
            assert ("LabelMessage", f"/bodies/{i}/label") in named
        assert ("BatchedMeshesMessage", f"/bodies/{POSES}/joints") in named
        assert ("LineSegmentsMessage", f"/bodies/{POSES}/bones") in named
        labels = [m["props"]["label"] for m in messages if m["type"].startswith("Gui")
                  and isinstance(m.get("props"), dict) and "label" in m["props"]]  # fmt: skip
        for label in ("Play", "Previous", "Next", "Frame", "Position", "posendf distance"):
            assert label in labels
        viewer.next()  # the clients get the new vertices
        updates = receive_messages(ws, until=None, seconds=3.0)
        updated = {m.get("name") for m in updates if m["type"] == "SceneNodeUpdateMessage"}
        assert "/bodies/0/mesh" in updated
    viewer.show(0)


def test_only_pages_of_the_viewers_own_origin_get_the_scene(viewer, capsys):
    port = viewer.port
    for origin in (None, f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        served = served_from(viewer.url, origin)
        named = {(m["type"], m.get("name")) for m in served or []}
        assert ("MeshMessage", "/bodies/0/mesh") in named, origin
        themes = [m for m in served or [] if m["type"] == "ThemeConfigurationMessage"]
        assert themes and themes[-1]["show_share_button"] is False  # no share button
    for origin in ("http://evil.example", f"http://evil.example:{port}",
                   f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}", "null"):  # fmt: skip
        assert not served_from(viewer.url, origin), origin  # refused, or closed unserved
    assert "refused a connection from a page of http://evil.example" in capsys.readouterr().err


def test_origins_allowed_are_the_viewers_own_addresses():
    from posebench.viz.guard import allowed_origins, origin_allowed

    bound = allowed_origins("192.168.1.5", 8080)
    for origin in (None, "http://127.0.0.1:8080", "http://LOCALHOST:8080", "http://[::1]:8080",
                   "http://192.168.1.5:8080"):  # fmt: skip
        assert origin_allowed(origin, bound), origin
    for origin in ("http://192.168.1.5:8081", "http://192.168.1.6:8080", "http://127.0.0.1",
                   "file://", "null", "http://127.0.0.1:notaport", ""):  # fmt: skip
        assert not origin_allowed(origin, bound), origin
    assert not origin_allowed("http://0.0.0.0:8080", allowed_origins("0.0.0.0", 8080))


def test_a_viser_without_the_guards_hooks_stops_with_one_line():
    pytest.importorskip("viser")
    from posebench.core.errors import PosebenchError
    from posebench.viz.guard import protect

    with pytest.raises(PosebenchError, match="cannot protect the viewer with viser"):
        protect(object(), "127.0.0.1", share=False)


def _ask_for_a_share_link(viewer, monkeypatch, capsys) -> list:
    """Send viser's share request from the viewer's own page; the tunnels it opened."""
    from viser import _viser

    opened = []

    def tunnel(*args):  # viser's ViserTunnel would look up and dial share.viser.studio
        opened.append(args)
        raise ConnectionError("no tunnels in tests")

    monkeypatch.setattr(_viser, "ViserTunnel", tunnel)
    with connect_viewer(viewer.url, f"http://127.0.0.1:{viewer.port}") as ws:
        receive_messages(ws, until="ReplayDoneMessage")
        ws.send(encode_viser("ShareUrlRequest"))
        deadline, err = time.monotonic() + 5, ""
        while not opened and "share link" not in err and time.monotonic() < deadline:
            time.sleep(0.05)
            err += capsys.readouterr().err
    return opened


def test_a_page_cannot_open_the_public_share_tunnel(viewer, monkeypatch, capsys):
    assert _ask_for_a_share_link(viewer, monkeypatch, capsys) == []


def test_share_flag_keeps_viser_sharing(files, body, prior, monkeypatch, capsys):
    pytest.importorskip("viser")
    from posebench.viz.viewer import start_viewer

    scene = build_scene([read_input(str(files / "short.npz"))], body, prior)
    shared = start_viewer(scene, "127.0.0.1", 0, share=True)
    try:
        assert len(_ask_for_a_share_link(shared, monkeypatch, capsys)) == 1
        assert served_from(shared.url, "http://evil.example")  # public: any page connects
    finally:
        shared.stop()


# --- a real browser ---------------------------------------------------------------------------

PANEL_TEXT = ("Play", "Previous", "Next", "Position", "posendf distance")


def _blue_share(png: bytes) -> float:
    """Share of the 3D view (below the notification, left of the panel) in the bodies' blue."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    scene = pixels[160:, :850]
    return float(((scene[..., 2] > 150) & (scene[..., 2] - scene[..., 0] > 30)).mean())


def test_headless_chromium_shows_the_scene(viewer, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed; browser part skipped (Python checks ran)")
    pytest.importorskip("PIL.Image")
    viewer.playing = False
    viewer.show(1)
    distance = viewer.distance_text(0)
    read_page = """JSON.stringify({
        canvas: !!document.querySelector('canvas[data-engine^="three.js"]'),
        text: document.body ? document.body.innerText : "",
        values: [...document.querySelectorAll("input")].map((i) => i.value)})"""
    with headless_chromium(chromium, tmp_path / "profile") as page:
        page.call("Page.navigate", url=viewer.url)
        deadline = time.monotonic() + BROWSER_S
        while True:  # the page ran viser's client: three.js canvas, our panel, the distance
            state = json.loads(page.evaluate(read_page) or "{}")
            ready = state.get("canvas") and distance in state.get("values", [])
            ready = ready and all(text in state.get("text", "") for text in PANEL_TEXT)
            if ready or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert state.get("canvas"), "no three.js canvas"
        for text in PANEL_TEXT:
            assert text in state.get("text", ""), text
        assert distance in state.get("values", []), (distance, state.get("values"))
        while True:  # and drew the scene: the bodies' blue, in software WebGL
            shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
            if _blue_share(shot) > 0.005 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    (tmp_path / "shot.png").write_bytes(shot)
    share = _blue_share(shot)
    assert share > 0.005, f"only {share:.4%} of the view shows a body ({tmp_path / 'shot.png'})"
