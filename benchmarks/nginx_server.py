"""Start nginx (the Debian package, ``apt-get install -y nginx``) on 127.0.0.1 with its own temporary config.

Nothing under /etc or /var is used: the prefix, pid file, logs and temp folders all live in a temporary
folder, and the server is stopped (SIGQUIT to its master, then SIGKILL) when the ``with`` block ends.

    with Nginx(root) as srv:
        srv.url("file.bin")            # clean link
        srv.url("file.bin", "slow")    # the same file through ``limit_rate`` (bytes/s per connection)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ application/octet-stream bin sh; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /slow/ {{
            alias {root}/;
            limit_rate {rate};
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx serving ``root`` on a free port; ``/slow/NAME`` is ``NAME`` limited to ``rate`` bytes/s per connection."""

    def __init__(self, root: Path, rate: str = "5m") -> None:
        self.root = Path(root).resolve()
        self.rate = rate
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.proc: subprocess.Popen | None = None

    def url(self, name: str, where: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{where + '/' if where else ''}{name}"

    def __enter__(self) -> "Nginx":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        user = "user root;" if os.geteuid() == 0 else ""  # workers must read the (0700) temp folders
        conf = self.tmp / "nginx.conf"
        conf.write_text(CONFIG.format(tmp=self.tmp, port=self.port, root=self.root, rate=self.rate, user=user))
        self.proc = subprocess.Popen([binary, "-p", str(self.tmp), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx did not start: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start listening")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
