"""Clients for the viewer's tests: viser's websocket messages, and a headless Chromium driven
through just enough of the Chrome DevTools Protocol to load a page, read it and screenshot it."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BROWSER_S = 60  # how long the page may take to connect and draw (software WebGL, busy CI)


def decode_viser(raw: bytes) -> list[dict]:
    """viser's wire format: sizes, zstd-compressed msgpack of the messages, raw buffers."""
    import msgspec
    import zstandard

    inner, packed = (int.from_bytes(raw[i : i + 8], "little") for i in (0, 8))
    payload = zstandard.ZstdDecompressor().decompress(raw[16 : 16 + packed], inner)
    return msgspec.msgpack.decode(payload)["messages"]


def receive_messages(ws: Any, until: str | None, seconds: float = 5.0) -> list[dict]:
    """viser messages from ``ws`` until one of type ``until`` arrives (or ``seconds`` pass, or
    the server closes)."""
    from websockets.exceptions import ConnectionClosed

    messages: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            messages += decode_viser(ws.recv(timeout=0.5))
        except TimeoutError:
            if until is None:
                break
            continue
        except ConnectionClosed:  # what came before the close is what the client was served
            break
        if until is not None and any(m["type"] == until for m in messages):
            break
    return messages


def connect_viewer(url: str, origin: str | None = None) -> Any:
    """A websocket client of the viewer at ``url`` (http), sending ``Origin: origin`` if given;
    raises websockets' InvalidHandshake when the server refuses it."""
    import viser
    from websockets.sync.client import connect

    return connect(
        url.replace("http://", "ws://"), subprotocols=[f"viser-v{viser.__version__}"],
        origin=origin, max_size=None, open_timeout=10,
    )  # fmt: skip


def served_from(url: str, origin: str | None) -> list[dict] | None:
    """What a page of ``origin`` gets from the viewer up to the end of its scene replay (all
    of it if the server closes first); None when the server refuses the handshake."""
    from websockets.exceptions import InvalidHandshake

    try:
        ws = connect_viewer(url, origin)
    except InvalidHandshake:
        return None
    with ws:
        return receive_messages(ws, until="ReplayDoneMessage")


def encode_viser(message_type: str) -> bytes:
    """A client->server viser message without fields, as the browser sends it."""
    import msgspec

    return msgspec.msgpack.encode({"type": message_type})


class DevTools:
    """Just enough of the Chrome DevTools Protocol to load a page, read it and screenshot it."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self._ws = connect(ws_url, max_size=None)
        self._id = 0

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:  # events may come before the answer
            message = json.loads(self._ws.recv(timeout=30))
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")

    def close(self) -> None:
        self._ws.close()


@contextlib.contextmanager
def headless_chromium(chromium: str, profile: Path) -> Iterator[DevTools]:
    """A headless Chromium with DevTools on a free port; yields its page's DevTools."""
    log = open(profile.parent / "chromium.log", "w")  # noqa: SIM115 (closed below)
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1200,800", "about:blank"],
        stdout=log, stderr=log,
    )  # fmt: skip
    devtools = None
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + BROWSER_S
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            assert browser.poll() is None, (profile.parent / "chromium.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "chromium did not open DevTools"
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        devtools = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
        log.close()
