"""A small threaded TCP proxy on 127.0.0.1 that a test can tell to cut its connections.

Use it between a client and PostgreSQL to make a network failure happen at a chosen moment:
`cut_after(client_bytes=...)` cuts while the client is sending (mid-push), `cut_after(
server_bytes=...)` while the server is answering (mid-pull), `cut_now()` at once. While
`blackhole` is set, new connections are accepted but nothing is forwarded (a silent network).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from types import TracebackType


class TcpProxy:
    """Forward 127.0.0.1:<port> to target_host:target_port, one pair of threads per connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._limits: dict[str, int | None] = {"client": None, "server": None}
        self.cuts = 0
        self.connections = 0
        self.blackhole = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="tcpproxy", daemon=True)
        self._thread.start()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def url_for(self, url: str) -> str:
        """Rewrite a postgresql:// URL that points at the target so that it goes through us."""
        host, port = self.target
        for old in (f"@{host}:{port}/", f"@{host}/"):
            if old in url:
                return url.replace(old, f"@127.0.0.1:{self.port}/", 1)
        raise ValueError(f"URL does not point at {host}:{port}")

    def cut_after(
        self, *, client_bytes: int | None = None, server_bytes: int | None = None
    ) -> None:
        """Cut every connection once this many more bytes went client->server (or back)."""
        with self._lock:
            self._limits = {"client": client_bytes, "server": server_bytes}

    def cut_now(self) -> None:
        """Cut every open connection now (an abrupt reset on both sides)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self._limits = {"client": None, "server": None}
            if pairs:
                self.cuts += 1
        for a, b in pairs:
            _reset(a)
            _reset(b)

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._closed = True
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the port
        # listening until that call returned.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        self.cut_now()
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.blackhole:
                # Hold the socket open and say nothing, like a host behind a dead link.
                with self._lock:
                    self._pairs.append((client, client))
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._pairs.append((client, server))
            for src, dst, side in ((client, server, "client"), (server, client, "server")):
                threading.Thread(
                    target=self._pump, args=(src, dst, side), name=f"tcpproxy-{side}", daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, side: str) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            with self._lock:
                limit = self._limits[side]
                if limit is not None:
                    if len(data) >= limit:
                        data = data[:limit]
                        self._limits = {"client": None, "server": None}
                        cut = True
                    else:
                        self._limits[side] = limit - len(data)
                        cut = False
                else:
                    cut = False
            try:
                if data:
                    dst.sendall(data)
            except OSError:
                break
            if cut:
                self.cut_now()
                return
        # One side finished: pass the end on so the other notices.
        _reset(src)
        _reset(dst)
        with self._lock:
            self._pairs = [p for p in self._pairs if src not in p]


def _reset(sock: socket.socket) -> None:
    # SO_LINGER 0 makes close() send a reset, as a dropped link or a killed router would;
    # shutting down reading first wakes our own thread blocked in recv() on this socket.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def proxy_to(host: str, port: int) -> Iterator[TcpProxy]:
    """A running proxy to host:port for the length of a with-block."""
    proxy = TcpProxy(host, port)
    try:
        yield proxy
    finally:
        proxy.close()
