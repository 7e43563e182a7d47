"""Issue 5, the download page: progress, bytes, speed, ETA, connections, retries and the mirror, with Pause/Resume
and Cancel. A real, slow HTTP server on 127.0.0.1; real widgets offscreen."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core.catalog import InstallerChoice
from app.core.errors import Stage
from app.core.events import Progress
from app.core.pipeline import RunState
from app.gui.pages.download_page import DownloadPage, download_stats, mirror_text
from tests.gui.helpers import TIMEOUT, local_plan
from tests.support.http_server import Fault, LocalServer

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """A 3 MiB installer-named file (48 chunks of 64 KiB)."""
    root = tmp_path_factory.mktemp("slow")
    data = os.urandom(3 << 20)
    (root / NAME).write_bytes(data)
    with LocalServer(root) as server:
        yield server, hashlib.sha256(data).hexdigest(), len(data)


@pytest.fixture
def page(qtbot, tmp_path, slow_server):
    server, sha, size = slow_server
    with server.state.lock:
        server.state.requests.clear()
    plan = local_plan(tmp_path, server.base_url)
    state = RunState()
    state.choice = InstallerChoice(NAME, server.url(NAME), None, sha, size, "index")
    p = DownloadPage(plan, state)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()
    server.clear_faults()


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file in the download folder with its size and SHA-256: what "no bytes flow" compares."""
    return {p.name: (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_pause_stops_the_transfer_and_resume_completes_it(qtbot, page, slow_server):
    server, sha, size = slow_server
    server.fault("/" + NAME, Fault(delay_per_chunk=0.05, times=1))  # ~1.3 MB/s for the first request
    page.initializePage()
    assert page.pause_button.isVisible() and page.pause_button.text() == "&Pause"
    qtbot.waitUntil(lambda: 0 < page.progress.bar.value() and "MiB/s" in page.progress.detail.text(),
                    timeout=TIMEOUT)
    detail = page.progress.detail.text()
    assert " of 3.0 MiB" in detail and " left" in detail  # bytes, total, speed and ETA
    host = server.base_url.split("//", 1)[1].rstrip("/")
    assert page.stats.text() == f"1 connection · 0 retries · mirror {host}"

    qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.is_paused, timeout=TIMEOUT)
    assert not page.is_busy() and not page.isComplete()
    assert page.pause_button.isVisible() and page.pause_button.isEnabled() and page.pause_button.text() == "&Resume"
    assert not page.cancel_button.isVisible() and not page.retry_button.isVisible()
    assert page.result.kind == "info" and page.result.plain.startswith("Paused.\nNo data is downloaded while paused")
    assert page.progress.detail.text().startswith("Paused at ") and page.progress.detail.text().endswith(" of 3.0 MiB.")
    folder = page.plan.download_dir
    before, requests_before = snapshot(folder), len(server.state.requests)
    assert 0 < before[NAME + ".part"][0] < size  # the resumable state is kept
    qtbot.wait(600)  # while paused: nothing arrives, nothing is asked
    assert snapshot(folder) == before and len(server.state.requests) == requests_before

    qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert page.is_busy() and page.pause_button.text() == "&Pause"
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    resumed = [h for method, _path, h in server.state.requests[requests_before:] if method == "GET"]
    assert resumed and all("Range" in h for h in resumed)  # continued, not started over
    final = folder / NAME
    assert page.state.installer_path == final and hashlib.sha256(final.read_bytes()).hexdigest() == sha
    assert not (folder / (NAME + ".part")).exists()
    assert page.result.kind == "ok" and sha in page.result.plain
    assert not page.pause_button.isVisible()


def test_cancel_then_retry_is_not_a_pause(qtbot, page, slow_server):
    server, sha, _size = slow_server
    server.fault("/" + NAME, Fault(delay_per_chunk=0.05, times=1))
    page.initializePage()
    qtbot.waitUntil(lambda: page.progress.bar.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert not page.is_paused() and page.result.kind == "warning" and "Cancelled" in page.result.plain
    assert page.retry_button.isVisible() and not page.pause_button.isVisible()
    qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert hashlib.sha256(page.state.installer_path.read_bytes()).hexdigest() == sha


def test_a_dropped_connection_shows_as_a_retry(qtbot, page, slow_server):
    server, sha, _size = slow_server
    server.fault("/" + NAME, Fault(cut_after=1 << 20, times=1))
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert " · 1 retry · " in page.stats.text()
    assert hashlib.sha256(page.state.installer_path.read_bytes()).hexdigest() == sha


@dataclass(frozen=True)
class SegmentedProgress(Progress):
    """A Progress with the fields the segmented downloader adds (issue 5)."""

    connections: int = 1
    retries: int = 0


def test_connections_and_retries_come_from_the_progress_when_reported(page):
    page.initializePage()
    page.shutdown()
    page.handle_progress(SegmentedProgress(Stage.DOWNLOAD, 1 << 20, 3 << 20, 2 << 20, 1.0,
                                           "Downloaded 1.0 MiB of 3.0 MiB", connections=4, retries=2))
    assert page.stats.text().startswith("4 connections · 2 retries · mirror 127.0.0.1:")
    assert page.progress.detail.text() == "1.0 MiB of 3.0 MiB · 2.0 MiB/s · 1 s left"


@pytest.mark.parametrize("mirror, url, text", [
    ("tuna", "https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/x.sh", "tuna (mirrors.tuna.tsinghua.edu.cn)"),
    ("official", "https://repo.anaconda.com/miniconda/x.sh", "official (repo.anaconda.com)"),
    ("https://example.org/m/", "https://example.org/m/x.sh", "example.org"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/x.sh", "127.0.0.1:8080"),
])
def test_mirror_text(mirror, url, text):
    assert mirror_text(mirror, url) == text


def test_download_stats_words():
    assert download_stats(None, 0, "tuna (h)") == "0 retries · mirror tuna (h)"
    assert download_stats(8, 1, "") == "8 connections · 1 retry"
