"""A real HTTP/1.1 file server on 127.0.0.1 for tests, with byte ranges and injectable faults.

It serves the files of one directory. Per-path faults let a test make the server
answer 404/500, cut a body short, or throttle, without mocking requests.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Fault:
    """What to do wrong for one path.

    status: answer this status with an empty body instead of the file.
    cut_after: send only this many bytes of the body, then close (a dropped connection).
    times: how many requests the fault applies to (then the path is served normally); None = always.
    delay_per_chunk: seconds to sleep after each 64 KiB chunk (slow mirror).
    delay_before: seconds to sleep before answering (a far or busy mirror; also slows a 64 KiB probe).
    chunk_size: bytes per write (with ``delay_per_chunk``: a trickle, e.g. 100 bytes per 0.1 s).
    ignore_range: answer 200 with the whole file even to a ``Range`` request.
    headers: extra response headers (e.g. ``{"Retry-After": "1"}`` with ``status=429``).
    cut_at_byte: close the connection once the body reaches this offset of the file (a drop at a
        fixed place of one segment, whichever request carries it).
    """

    status: int | None = None
    cut_after: int | None = None
    times: int | None = None
    delay_per_chunk: float = 0.0
    delay_before: float = 0.0
    chunk_size: int = 65536
    ignore_range: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    cut_at_byte: int | None = None


@dataclass
class ServerState:
    root: Path
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: body bytes sent, over all requests; connections open now and at most at once.
    bytes_sent: int = 0
    request_times: list[float] = field(default_factory=list)  # time.monotonic() of each entry of ``requests``
    open_connections: int = 0
    max_open_connections: int = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ServerState  # set on the subclass

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass

    def handle(self):
        with self.state.lock:
            self.state.open_connections += 1
            self.state.max_open_connections = max(self.state.max_open_connections, self.state.open_connections)
        try:
            super().handle()
        except (ConnectionError, OSError):
            pass
        finally:
            with self.state.lock:
                self.state.open_connections -= 1

    def _fault(self, path: str) -> Fault | None:
        with self.state.lock:
            self.state.requests.append((self.command, path, dict(self.headers)))
            self.state.request_times.append(time.monotonic())
            fault = self.state.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None and fault.cut_at_byte is None:  # cut_at_byte counts where it applies
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault

    def do_HEAD(self):  # noqa: N802
        self._serve(head=True)

    def do_GET(self):  # noqa: N802
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        fault = self._fault(path)
        if fault is not None and fault.delay_before:
            time.sleep(fault.delay_before)
        if fault is not None and fault.status is not None:
            self.send_response(fault.status)
            for key, value in fault.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        rel = path.lstrip("/")
        target = (self.state.root / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or self.state.root.resolve() not in target.parents:
            self.send_response(404)
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        size = target.stat().st_size
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and not (fault is not None and fault.ignore_range):
            a, _, b = rng[6:].partition("-")
            start = int(a) if a else 0
            end = int(b) if b else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        ctype = "text/html; charset=utf-8" if target.suffix == ".html" else "application/octet-stream"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        mtime = target.stat().st_mtime
        self.send_header("Last-Modified", self.date_time_string(mtime))
        self.send_header("ETag", f'"{int(mtime)}-{size}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        limit = length if fault is None or fault.cut_after is None else min(length, fault.cut_after)
        if fault is not None and fault.cut_at_byte is not None and start <= fault.cut_at_byte <= end:
            with self.state.lock:
                applies = fault.times is None or fault.times > 0
                if applies and fault.times is not None:
                    fault.times -= 1
            if applies:
                limit = min(limit, fault.cut_at_byte - start)
        step = 65536 if fault is None else fault.chunk_size
        with open(target, "rb") as fh:
            fh.seek(start)
            sent = 0
            while sent < limit:
                chunk = fh.read(min(step, limit - sent))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(chunk)
                with self.state.lock:
                    self.state.bytes_sent += len(chunk)
                if fault is not None and fault.delay_per_chunk:
                    time.sleep(fault.delay_per_chunk)
        if sent < length:
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(2)
            except OSError:
                pass


class LocalServer:
    """``with LocalServer(root) as srv: srv.url("Miniconda3-...sh")``; a threading server on a free port."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.state = ServerState(Path(root))
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def url(self, rel: str = "") -> str:
        return self.base_url + rel.lstrip("/")

    def fault(self, rel: str, fault: Fault) -> None:
        with self.state.lock:
            self.state.faults["/" + rel.lstrip("/")] = fault

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def start(self) -> "LocalServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
