"""Loopback networking helpers shared by the tests (real sockets, 127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator


def free_port() -> int:
    """A TCP port that was free a moment ago (bind, read, close)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def socket_server(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on a free port running ``handle`` per connection; yields its /v1 URL."""
    server = socket.create_server(("127.0.0.1", 0))
    conns: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                conns.append(conn)
                threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    finally:
        server.close()
        for conn in conns:
            conn.close()
