"""Small real HTTP servers on 127.0.0.1 for tests: a FastAPI app served by uvicorn in a thread."""

from __future__ import annotations

import random
import socket
import threading
import time
from contextlib import contextmanager

import uvicorn

_PORTS = range(20_000, 32_768)  # below Linux's ephemeral range (32768–60999 by default)
_handed_out: set[int] = set()
_pick = random.Random()


def free_port() -> int:
    """A port nothing listens on now, outside the range the kernel picks source ports of outgoing
    connections from: a service that takes half a minute to start (Rasa loading its model) would
    otherwise find its port taken by a database or HTTP client connection made meanwhile. Never the
    same port twice in one test run."""
    for _ in range(200):
        port = _pick.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


@contextmanager
def serve_in_thread(app, port: int | None = None, *, proxy_headers: bool = True):
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL.

    ``proxy_headers=False`` serves as ``motcua serve`` runs the gateway (``--no-proxy-headers``):
    only the gateway's own ``trusted_proxies`` decide whether ``X-Forwarded-For`` is believed."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="wsproto",
                                           proxy_headers=proxy_headers))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
