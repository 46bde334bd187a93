"""The viser scene and controls of ``posebench view``: bodies, labels, play, slider, distances.

:func:`start_viewer` binds the server and returns at once with a :class:`Viewer` (tests drive
it and stop it); the command then waits until Ctrl-C. Each body is a mesh whose vertices are
replaced per frame (a skeleton of spheres and bones when the input has joints only), with a
label above its head and, in the panel, a read-only field with the prior's distance of the
pose shown. Labels are sized in the scene and stacked in rows where neighbours would overlap
(:func:`posebench.viz.frames.label_rows`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import socket
import threading
import time
from typing import Any

import numpy as np

from posebench.core.errors import ConfigError, PosebenchError
from posebench.core.version import extra_hint
from posebench.viz.frames import ViewScene, camera_distance
from posebench.viz.guard import protect
from posebench.viz.playback import Playback

VIZ_HINT = f"posebench view needs the optional extra 'viz': {extra_hint('viz')}"
TICK_S = 1.0 / 30.0  # how often playing updates the scene, whatever the motion's rate
#: Body colours, one per --input (ground truth, noisy, denoised, ...).
PALETTE = ((110, 160, 230), (235, 150, 80), (120, 195, 125), (205, 115, 195), (220, 205, 90))


def import_viser() -> Any:
    """The viser module, or the one-line error that says how to install it."""
    try:
        import viser
    except ImportError:
        raise PosebenchError(VIZ_HINT) from None
    return viser


class Viewer:
    """A running viewer: its URL, the frame shown, play/next/previous, and :meth:`stop`."""

    def __init__(self, server: Any, scene: ViewScene, host: str) -> None:
        self.server = server
        self.scene = scene
        self.host = host
        self.port = int(server.get_port())
        self.playback = Playback(scene.frames, scene.fps)
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._bodies = [self._add_body(i) for i in range(len(scene.tracks))]
        self._add_ground()
        self._add_controls()
        self._draw(0)
        self._player = threading.Thread(target=self._play_loop, name="posebench-view", daemon=True)
        self._player.start()

    @property
    def url(self) -> str:
        """Where a browser on this machine opens the viewer."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    @property
    def frame(self) -> int:
        """The frame shown."""
        return self.playback.frame

    @property
    def playing(self) -> bool:
        """Whether play is on."""
        return bool(self.play.value)

    @playing.setter
    def playing(self, value: bool) -> None:
        self.play.value = bool(value)

    def show(self, frame: int) -> int:
        """Go to ``frame`` (clamped), as the slider does; returns the frame shown."""
        with self._lock:
            self.slider.value = self.playback.set(frame)
            return self.playback.frame

    def next(self) -> int:
        """One frame on."""
        return self.show(self.playback.frame + 1)

    def previous(self) -> int:
        """One frame back."""
        return self.show(self.playback.frame - 1)

    def distance_text(self, track: int) -> str:
        """What the distance field of body ``track`` says now."""
        return str(self._bodies[track]["distance"].value)

    def stop(self) -> None:
        """Stop playing and the server (idempotent)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._player.join(timeout=2.0)
        _stop_server(self.server)

    # --- scene ------------------------------------------------------------------------------

    def _add_body(self, index: int) -> dict[str, Any]:
        track = self.scene.tracks[index]
        colour = PALETTE[track.group % len(PALETTE)]
        root = f"/bodies/{index}"
        scene = self.server.scene
        handles: dict[str, Any] = {}
        if track.is_skeleton:
            sphere_vertices, sphere_faces = _sphere(0.03)
            joints = track.joints(0)
            handles["spheres"] = scene.add_batched_meshes_simple(
                f"{root}/joints", sphere_vertices, sphere_faces,
                batched_wxyzs=np.tile([1.0, 0.0, 0.0, 0.0], (len(joints), 1)),
                batched_positions=joints, batched_colors=colour, lod="off",
            )  # fmt: skip
            handles["bones"] = scene.add_line_segments(
                f"{root}/bones", track.bones(0), colors=colour, thickness=0.02
            )
        else:
            handles["mesh"] = scene.add_mesh_simple(
                f"{root}/mesh", track.vertices(0), track.faces, color=colour
            )
        handles["label"] = scene.add_label(
            f"{root}/label", track.label, position=self.scene.label_positions(0)[index],
            anchor="bottom-center", font_size_mode="scene",
            font_scene_height=self.scene.label_height,
        )  # fmt: skip
        return handles

    def _add_ground(self) -> None:
        scene = self.server.scene
        scene.set_up_direction("+y")
        xs = [t.joints(0)[0, 0] for t in self.scene.tracks]
        centre, width = (min(xs) + max(xs)) / 2, self.scene.width
        floor = self.scene.floor()
        scene.add_grid(
            "/ground", width=width + 4.0, height=6.0, plane="xz", position=(centre, floor, 0.0)
        )
        camera = self.server.initial_camera
        camera.look_at = (centre, floor + 0.9, 0.0)
        camera.position = (centre, floor + 1.4, camera_distance(width))

    # --- controls ---------------------------------------------------------------------------

    def _add_controls(self) -> None:
        gui, scene = self.server.gui, self.scene
        gui.add_markdown("**posebench view**: " + ", ".join(f"`{n}`" for n in scene.names))
        self.play = gui.add_checkbox("Play", False, hint="play at the speed below")
        self.loop = gui.add_checkbox("Loop", True, hint="start again after the last frame")
        self.previous_button = gui.add_button("Previous")
        self.next_button = gui.add_button("Next")
        unit = scene.unit.capitalize()
        self.slider = gui.add_slider(unit, 0, max(scene.frames - 1, 0), 1, 0)
        self.position = gui.add_text("Position", scene.position_text(0), disabled=True)
        self.speed = gui.add_number(f"Speed ({scene.unit}s/s)", scene.fps, min=0.1, step=0.1)
        for index, track in enumerate(scene.tracks):
            if len(scene.tracks) == 1:
                field = gui.add_text(scene.distance_label, "", disabled=True)
            else:
                with gui.add_folder(track.label):
                    field = gui.add_text(scene.distance_label, "", disabled=True)
            self._bodies[index]["distance"] = field

        self.previous_button.on_click(lambda _: self.previous())
        self.next_button.on_click(lambda _: self.next())
        self.slider.on_update(lambda _: self._on_slider())
        self.loop.on_update(lambda _: setattr(self.playback, "loop", bool(self.loop.value)))
        self.speed.on_update(lambda _: setattr(self.playback, "fps", float(self.speed.value)))

    def _on_slider(self) -> None:
        with self._lock:
            frame = int(self.slider.value)
            if frame != self.playback.frame:  # a user's move; play keeps its fraction otherwise
                self.playback.set(frame)
            self._draw(frame)

    def _draw(self, frame: int) -> None:
        with self._lock, self.server.atomic():
            labels = self.scene.label_positions(frame)
            for index, track in enumerate(self.scene.tracks):
                handles = self._bodies[index]
                if track.is_skeleton:
                    handles["spheres"].batched_positions = track.joints(frame)
                    handles["bones"].points = track.bones(frame)
                else:
                    handles["mesh"].vertices = track.vertices(frame)
                handles["label"].position = labels[index]
                if "distance" in handles:
                    handles["distance"].value = _distance_text(track.distance(frame), track)
            self.position.value = self.scene.position_text(frame)

    def _play_loop(self) -> None:
        last = time.monotonic()
        while not self._stopped.wait(TICK_S):
            now = time.monotonic()
            elapsed, last = now - last, now
            if not self.play.value:
                continue
            with self._lock:
                frame, ended = self.playback.advance(elapsed)
                if frame != self.slider.value:
                    self.slider.value = frame
                if ended:
                    self.play.value = False


def start_viewer(
    scene: ViewScene, host: str = "127.0.0.1", port: int = 8080, share: bool = False
) -> Viewer:
    """Bind viser on ``host:port`` (0 = a free port), build the scene and return at once.

    Only pages of the viewer's own origin may connect, and no client can open viser's public
    share tunnel, unless ``share`` (then both are as viser has them).
    """
    viser = import_viser()
    check_bindable(host, port)
    with _quiet():  # viser prints its own banner; the command prints the URL once
        server = viser.ViserServer(host=host, port=port, verbose=False)
    if port and server.get_port() != port:  # viser moves on to the next port when one is taken
        _stop_server(server)
        raise PosebenchError(_in_use(host, port))
    try:
        protect(server, host, share)
        return Viewer(server, scene, host)
    except BaseException:
        _stop_server(server)
        raise


def check_bindable(host: str, port: int) -> None:
    """One-line errors for a port in use or a host this machine cannot listen on."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host} is not an address of this machine ({exc.strerror})"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PosebenchError(_in_use(host, port)) from None
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port"
            ) from None


def _quiet() -> contextlib.AbstractContextManager[Any]:
    return contextlib.redirect_stdout(io.StringIO())


def _stop_server(server: Any) -> None:
    with _quiet():  # "(viser) Server stopped"
        server.stop()


def _in_use(host: str, port: int) -> str:
    return f"port {port} on {host} is in use; choose another with --port (0 picks a free one)"


def _distance_text(value: float | None, track: Any) -> str:
    if value is not None:
        return f"{value:.5f}"
    return "n/a (joints only)" if track.is_skeleton else "n/a (the prior has no energy)"


def _sphere(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """A small UV sphere (vertices, faces) for skeleton joints."""
    rings, segments = 6, 10
    theta = np.linspace(0.0, np.pi, rings + 1)[:, None]
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)[None, :]
    points = np.stack(
        [np.sin(theta) * np.cos(phi), np.cos(theta) * np.ones_like(phi),
         np.sin(theta) * np.sin(phi)], axis=-1,
    ).reshape(-1, 3)  # fmt: skip
    faces = []
    for r in range(rings):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            c, d = a + segments, b + segments
            faces += [(a, c, b), (b, c, d)]
    return (radius * points).astype(np.float32), np.asarray(faces, dtype=np.uint32)
