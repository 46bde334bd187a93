"""Who may drive a running viewer: browser pages of its own origin only, and no public tunnel.

viser (written against 1.1.1) accepts a websocket from any ``Origin``, so any web page open in
the user's browser could connect to the viewer's port and drive it, and it opens its public
share tunnel (share.viser.studio) whenever a client sends ``ShareUrlRequest``. It has no option
for either. Both guards go through viser's infra websocket server (``on_client_connect``,
``register_handler`` / ``unregister_handler``); reaching that server and a client's raw
websocket needs two private attributes, checked at startup: a viser without them stops the
viewer with one line instead of serving it unprotected.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any
from urllib.parse import urlsplit

from posebench.core.errors import PosebenchError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
POLICY_VIOLATION = 1008  # websocket close code: the origin is not allowed


def allowed_origins(host: str, port: int) -> frozenset[tuple[str, int]]:
    """(host, port) of the origins whose pages may connect: loopback names and ``--host``."""
    hosts = set(LOOPBACK_HOSTS)
    if host not in WILDCARD_HOSTS:
        hosts.add(host.strip("[]").lower())
    return frozenset((name, port) for name in hosts)


def origin_allowed(origin: str | None, allowed: frozenset[tuple[str, int]]) -> bool:
    """Whether a handshake's ``Origin`` may connect; none (a non-browser client) may."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin.strip())
        port = parts.port if parts.port is not None else 80
    except ValueError:  # a malformed port
        return False
    return parts.scheme == "http" and ((parts.hostname or ""), port) in allowed


def protect(server: Any, host: str, share: bool) -> None:
    """Refuse foreign origins and, unless ``share``, client requests for a public share link."""
    infra = _infra_server(server)
    if share:  # the share link's page has an origin we cannot know in advance
        return
    refuse_foreign_origins(infra, allowed_origins(host, int(server.get_port())))
    refuse_share_requests(infra)
    server.gui.configure_theme(show_share_button=False)
    # a client that connected while the server started got past the guards: drop it (a page
    # of ours reconnects at once) and any tunnel it asked for
    infra.disconnect_all_clients()
    if getattr(server, "_share_tunnel", None) is not None:
        server.disconnect_share_url()


def refuse_foreign_origins(infra: Any, allowed: frozenset[tuple[str, int]]) -> None:
    """Close a new client whose page is of another origin before viser serves it anything."""
    import websockets.exceptions

    connections = infra._live_connections  # client id -> websockets ServerConnection

    async def check(client: Any) -> None:
        connection = connections[client.client_id]
        origin = connection.request.headers.get("Origin") if connection.request else None
        if origin_allowed(origin, allowed):
            return
        sys.stderr.write(
            f"posebench view: refused a connection from a page of {origin}; only pages of "
            "the viewer's own address may connect\n"
        )
        await connection.close(POLICY_VIOLATION, "origin not allowed")
        # viser reads the client's messages next: drop those that arrived before the close
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            while True:
                await connection.recv()

    infra.on_client_connect(check)


def refuse_share_requests(infra: Any) -> None:
    """Replace viser's ``ShareUrlRequest`` handler (it opens the tunnel) by a refusal."""
    from viser import _messages

    request = getattr(_messages, "ShareUrlRequest", None)
    try:
        infra.unregister_handler(request)
    except (AssertionError, KeyError, TypeError):
        raise _unsupported("its share-request handler") from None

    def refuse(_client_id: Any, _message: Any) -> None:
        sys.stderr.write(
            "posebench view: a page asked for a public share link; refused "
            "(restart with --share to allow it)\n"
        )

    infra.register_handler(request, refuse)


def _infra_server(server: Any) -> Any:
    """viser's websocket server behind ``server``, with what the guards use, or one line."""
    infra = getattr(server, "_websock_server", None)
    needed = (
        "on_client_connect", "register_handler", "unregister_handler", "disconnect_all_clients",
        "_live_connections",
    )  # fmt: skip
    if infra is None or not all(hasattr(infra, name) for name in needed):
        raise _unsupported("its websocket server")
    return infra


def _unsupported(what: str) -> PosebenchError:
    import viser

    return PosebenchError(
        f"posebench view cannot protect the viewer with viser {viser.__version__} (it could not "
        f"find {what}; its guards were written for viser 1.1.1): install viser 1.1.x"
    )
