"""Small real HTTP servers on 127.0.0.1 for tests: a FastAPI app served by uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
