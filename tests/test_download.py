"""Step 2 (download) and the HTTP session: real transfers from the test HTTP server on 127.0.0.1.

The payload is a few MiB of random bytes made per module; faults of the server (cut
connections, slow chunks, error statuses) stand in for bad networks.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import os
import threading
import time
from pathlib import Path

import pytest
import truststore

from app.core import download, net
from app.core.catalog import InstallerChoice
from app.core.download import fetch_installer, sha256_file
from app.core.errors import Cancelled, DownloadError, HashMismatchError, Stage, UnverifiedInstallerError
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import Fault, LocalServer

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
SIZE = 3 * (1 << 20) + 12345  # not a multiple of the chunk size


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> tuple[Path, bytes, str]:
    root = tmp_path_factory.mktemp("srv")
    data = os.urandom(SIZE)
    (root / "miniconda").mkdir()
    (root / "miniconda" / NAME).write_bytes(data)
    return root, data, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def srv(payload):
    with LocalServer(payload[0]) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(request):
    if "srv" in request.fixturenames:
        server = request.getfixturevalue("srv")
        server.clear_faults()
        with server.state.lock:
            server.state.requests.clear()
    yield


@pytest.fixture
def session():
    s = net.make_session(retry=net.make_retry(backoff_factor=0))
    yield s
    s.close()


@pytest.fixture
def plan(tmp_path) -> InstallPlan:
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=tmp_path / "dl")


def choice_for(srv: LocalServer, sha: str | None, name: str = NAME, source: str | None = "index") -> InstallerChoice:
    return InstallerChoice(name, srv.url("miniconda/" + name), None, sha, SIZE, source if sha else None, None)


def gets(srv: LocalServer, name: str = NAME) -> list[dict[str, str]]:
    return [h for method, path, h in srv.state.requests if method == "GET" and path == "/miniconda/" + name]


def levels(rep: RecordingReporter, level: str) -> list[str]:
    return [line for _, line, lv in rep.of("log") if lv == level]


# ---- the happy path -----------------------------------------------------------------------

def test_download_verifies_and_reports_progress(srv, payload, plan, session):
    _, data, sha = payload
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, sha), session, rep, CancelToken())
    assert path == plan.download_dir / NAME
    assert path.read_bytes() == data
    assert not (plan.download_dir / (NAME + ".part")).exists()

    progress = [p for (p,) in rep.of("progress")]
    assert progress and all(p.stage is Stage.DOWNLOAD for p in progress)
    dones = [p.done for p in progress]
    assert dones == sorted(dones)
    assert progress[-1].done == SIZE and progress[-1].total == SIZE
    assert progress[-1].fraction == 1.0
    assert all(p.text for p in progress)
    infos = {key: value for _, key, value in rep.of("info")}
    assert infos["sha256"] == sha and infos["verified"] is True
    assert any("SHA-256 verified" in line for _, line, _ in rep.of("log"))
    (headers,) = gets(srv)
    assert "Range" not in headers
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"] == net.USER_AGENT


def test_default_download_dir_is_the_user_cache(srv, payload, session, isolated_home):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path == download.default_download_dir() / NAME
    assert isolated_home in path.parents  # the cache dir follows XDG_CACHE_HOME / HOME
    assert path.parent.name == "downloads" and path.parent.parent.name == "miniconda-wizard"


def test_reuses_a_verified_download(srv, payload, plan, session):
    fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    assert len(gets(srv)) == 1  # nothing downloaded the second time
    assert any("Reusing" in line for _, line, _ in rep.of("log"))


def test_replaces_a_final_file_with_the_wrong_hash(srv, payload, plan, session):
    """In a folder the user chose, their file of that name is set aside (.bak), never overwritten."""
    plan.download_dir.mkdir(parents=True)
    (plan.download_dir / NAME).write_bytes(b"an older, different file")
    (plan.download_dir / (NAME + ".bak")).write_bytes(b"an even older one")
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    assert len(gets(srv)) == 1
    assert (plan.download_dir / (NAME + ".bak")).read_bytes() == b"an even older one"
    assert (plan.download_dir / (NAME + ".bak.1")).read_bytes() == b"an older, different file"
    assert any("it is kept as" in w for w in levels(rep, "warning"))


def test_replaces_a_wrong_file_in_its_own_cache_folder(srv, payload, session, isolated_home):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    cache = download.default_download_dir()
    cache.mkdir(parents=True)
    (cache / NAME).write_bytes(b"a stale download of ours")
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path == cache / NAME and path.read_bytes() == payload[1]
    assert sorted(p.name for p in cache.iterdir()) == [NAME]


# ---- resume -------------------------------------------------------------------------------

def test_resumes_after_a_dropped_connection(srv, payload, plan, session):
    cut = (1 << 20) + 4321
    srv.fault("miniconda/" + NAME, Fault(cut_after=cut, times=1))
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    first, second = gets(srv)
    assert "Range" not in first
    assert second["Range"] == f"bytes={cut}-"
    assert any("dropped" in w for w in levels(rep, "warning"))


def test_resumes_an_existing_part_file(srv, payload, plan, session):
    have = 1536 * 1024
    plan.download_dir.mkdir(parents=True)
    (plan.download_dir / (NAME + ".part")).write_bytes(payload[1][:have])
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    (headers,) = gets(srv)
    assert headers["Range"] == f"bytes={have}-"
    progress = [p for (p,) in rep.of("progress")]
    assert progress[-1].done == SIZE
    # the re-hash of the bytes already on the disk says so; it is not the download itself
    checking = [p for p in progress if p.text.startswith(download.CHECKING_PART_TEXT)]
    assert checking and checking[-1].done == checking[-1].total == have
    assert checking[-1].text == f"{download.CHECKING_PART_TEXT}: 1.5 MiB of 1.5 MiB (100%)"
    downloading = progress[len(checking):]
    assert downloading and all(p.text.startswith(download.DOWNLOADING_TEXT + " ") for p in downloading)
    assert downloading[-1].text.startswith(f"{download.DOWNLOADING_TEXT} 3.0 MiB of 3.0 MiB (100%)")


def test_progress_text_names_the_phase_and_uses_the_units_helpers():
    from app.core.events import Progress
    from app.core.units import format_duration

    rep = RecordingReporter()
    meter = download._Meter(rep, 100 << 20, download.DOWNLOADING_TEXT)
    meter.samples[0] = (meter.samples[0][0] - 10.0, 0)  # 10 s ago: 0 bytes
    meter.update(10 << 20, force=True)
    (p,) = rep.of("progress")[0]
    assert isinstance(p, Progress) and p.rate is not None and p.eta is not None
    assert p.text.startswith("Downloaded 10.0 MiB of 100.0 MiB (10%), ")
    assert p.text.endswith(f", {format_duration(p.eta)} left")


def test_part_file_already_complete(srv, payload, plan, session):
    plan.download_dir.mkdir(parents=True)
    (plan.download_dir / (NAME + ".part")).write_bytes(payload[1])
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path.read_bytes() == payload[1]
    (headers,) = gets(srv)
    assert headers["Range"] == f"bytes={SIZE}-"  # answered 416: nothing left to fetch


def test_stale_part_from_another_file_is_downloaded_again(srv, payload, plan, session):
    plan.download_dir.mkdir(parents=True)
    (plan.download_dir / (NAME + ".part")).write_bytes(os.urandom(1 << 20))
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    ranged, full = gets(srv)
    assert ranged["Range"] == f"bytes={1 << 20}-" and "Range" not in full
    assert any("from the start" in w for w in levels(rep, "warning"))


class _NoRangeHandler(http.server.BaseHTTPRequestHandler):
    """A server that ignores Range and always sends the whole file with 200."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        self.server.seen.append(dict(self.headers))
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_server_without_range_support_starts_over(payload, plan, session):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoRangeHandler)
    httpd.daemon_threads = True
    httpd.body, httpd.seen = payload[1], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        plan.download_dir.mkdir(parents=True)
        (plan.download_dir / (NAME + ".part")).write_bytes(payload[1][:5000])
        url = f"http://127.0.0.1:{httpd.server_address[1]}/{NAME}"
        choice = InstallerChoice(NAME, url, None, payload[2], SIZE, "index", None)
        rep = RecordingReporter()
        path = fetch_installer(plan, choice, session, rep, CancelToken())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert path.read_bytes() == payload[1]
    assert httpd.seen[0]["Range"] == "bytes=5000-"
    assert len(httpd.seen) == 1
    assert any("does not resume" in w for w in levels(rep, "warning"))


def test_gives_up_after_too_many_drops_and_keeps_the_part(srv, payload, plan, session, monkeypatch):
    monkeypatch.setattr(download, "MAX_RESUMES", 2)
    srv.fault("miniconda/" + NAME, Fault(cut_after=200_000))
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert not isinstance(info.value, HashMismatchError)
    assert "kept" in info.value.message
    part = plan.download_dir / (NAME + ".part")
    assert part.read_bytes() == payload[1][:600_000]  # three tries of 200 000 bytes, each resumed
    assert not (plan.download_dir / NAME).exists()
    assert [h.get("Range") for h in gets(srv)] == [None, "bytes=200000-", "bytes=400000-"]


class _WrongRangeHandler(http.server.BaseHTTPRequestHandler):
    """First GET: 200 with the full Content-Length, but the connection drops after ``server.cut`` bytes.
    A GET with Range: 206 whose Content-Range starts at ``server.bad_start`` instead of the asked offset (and
    the body from there). Any later GET without Range: the whole file."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        self.server.seen.append(dict(self.headers))
        body, size = self.server.body, len(self.server.body)
        if "Range" in self.headers:
            start = self.server.bad_start
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            self.wfile.write(body[start:])
            return
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if len(self.server.seen) == 1:
            self.wfile.write(body[:self.server.cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.mark.parametrize("bad_start", [0, 1_000_000, 1_200_000], ids=["from zero", "earlier", "later"])
@pytest.mark.parametrize("verified", [True, False], ids=["hash known", "no hash"])
def test_resume_answered_with_another_byte_range_never_corrupts_the_file(payload, plan, session, bad_start,
                                                                         verified):
    """A mirror answers `Range: bytes=N-` with 206 but a Content-Range that starts elsewhere: the bytes must not
    be appended at N. The download starts over (the file is byte-identical), with no hash mismatch on the way."""
    _, data, sha = payload
    cut = 1_100_000
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WrongRangeHandler)
    httpd.daemon_threads = True
    httpd.body, httpd.seen, httpd.cut, httpd.bad_start = data, [], cut, bad_start
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    plan.allow_unverified = not verified
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/{NAME}"
        choice = InstallerChoice(NAME, url, None, sha if verified else None, SIZE, "index" if verified else None, None)
        rep = RecordingReporter()
        path = fetch_installer(plan, choice, session, rep, CancelToken())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert path.read_bytes() == data
    assert [h.get("Range") for h in httpd.seen] == [None, f"bytes={cut}-", None]
    warnings = levels(rep, "warning")
    assert any("another byte range than asked" in w for w in warnings)
    assert not any("does not match" in w for w in warnings)


@pytest.mark.parametrize("verified", [True, False], ids=["hash known", "no hash"])
def test_part_longer_than_the_file_gets_416_and_starts_over(srv, payload, plan, session, verified):
    """A `.part` longer than the file (the file on the mirror shrank): the server answers 416 with
    `Content-Range: bytes */SIZE`. That is not a complete download: it starts over from zero."""
    _, data, sha = payload
    plan.download_dir.mkdir(parents=True)
    part = plan.download_dir / (NAME + ".part")
    part.write_bytes(data + os.urandom(5000))
    plan.allow_unverified = not verified
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, sha if verified else None), session, rep, CancelToken())
    assert path.read_bytes() == data
    assert not part.exists()
    assert [h.get("Range") for h in gets(srv)] == [f"bytes={SIZE + 5000}-", None]
    warnings = levels(rep, "warning")
    assert any("longer than the file; starting over" in w for w in warnings)
    assert not any("does not match" in w for w in warnings)


# ---- disk space -----------------------------------------------------------------------------

@pytest.mark.parametrize("size_known", [True, False], ids=["size from the index", "size from Content-Length"])
def test_too_little_free_space_is_refused_before_writing(srv, payload, plan, session, monkeypatch, size_known):
    monkeypatch.setattr(download, "free_bytes", lambda folder: 1_000_000)
    choice = choice_for(srv, payload[2])
    if not size_known:
        choice = InstallerChoice(NAME, choice.url, None, payload[2], None, "index", None)
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice, session, RecordingReporter(), CancelToken())
    folder = plan.download_dir
    assert info.value.message == (f"The download needs 3.0 MiB ({SIZE} bytes) more in {folder}, but only "
                                  "976.6 KiB (1000000 bytes) is free there.")
    assert "--download-dir" in info.value.fix and "--skip-space-check" in info.value.fix
    assert f"Free at least 2.1 MiB in {folder}" in info.value.fix
    assert info.value.exit_code == 4
    assert list(folder.iterdir()) == []  # no .part, nothing that looks like a download
    assert len(gets(srv)) == (0 if size_known else 1)


def test_skip_space_check_downloads_anyway_with_a_warning(srv, payload, plan, session, monkeypatch):
    monkeypatch.setattr(download, "free_bytes", lambda folder: 0)  # a filesystem that reports 0 free
    plan.skip_space_check = True
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, payload[2]), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    assert any("Downloading anyway" in w for w in levels(rep, "warning"))


def test_disk_full_mid_download_names_it_and_leaves_no_complete_looking_file(srv, payload, plan, session):
    """ENOSPC while writing (here: the .part leads to /dev/full, which fails every write with ENOSPC)."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    plan.download_dir.mkdir(parents=True)
    part = plan.download_dir / (NAME + ".part")
    part.symlink_to("/dev/full")
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert f"The disk holding {plan.download_dir} is full (No space left on device)." in info.value.message
    assert "--download-dir" in info.value.fix and "df -h" in info.value.fix
    assert "quota" not in info.value.message.lower()
    assert not (plan.download_dir / NAME).exists()
    assert sorted(p.name for p in plan.download_dir.iterdir()) == [NAME + ".part"]


class _QuotaFile:
    """A .part file whose writes fail with EDQUOT after ``limit`` bytes, as on a filesystem with a quota."""

    def __init__(self, path: Path, mode: str, limit: int) -> None:
        self.fh = open(path, mode)
        self.limit = limit

    def write(self, chunk) -> int:
        if self.fh.tell() + len(chunk) > self.limit:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
        return self.fh.write(chunk)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_quota_exceeded_mid_download_says_quota_and_keeps_the_part(srv, payload, plan, session, monkeypatch):
    monkeypatch.setattr(download, "_open_part", lambda path, mode: _QuotaFile(path, mode, 2 << 20))
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    part = plan.download_dir / (NAME + ".part")
    assert f"Your disk quota for {plan.download_dir} is used up (Disk quota exceeded)." in info.value.message
    kept = part.read_bytes()
    assert 0 < len(kept) <= 2 << 20 and kept == payload[1][:len(kept)]
    assert f"The partial download {NAME}.part ({download.format_bytes(len(kept))}) is kept" in info.value.message
    assert "quota -s" in info.value.fix and "--download-dir" in info.value.fix
    assert "full" not in info.value.message
    assert not (plan.download_dir / NAME).exists()


# ---- failures -----------------------------------------------------------------------------

def test_http_404(srv, plan, session):
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice_for(srv, "0" * 64, name="Miniconda3-latest-Linux-s390x.sh"), session,
                        RecordingReporter(), CancelToken())
    assert "404" in info.value.message
    assert srv.url("miniconda/Miniconda3-latest-Linux-s390x.sh") in info.value.message
    assert "another installer or another mirror" in info.value.fix
    assert list(plan.download_dir.iterdir()) == []


def test_http_500_after_retries(srv, payload, plan, session):
    srv.fault("miniconda/" + NAME, Fault(status=500))
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert "HTTP 500" in info.value.message
    assert len(gets(srv)) == 4


def test_wrong_hash_deletes_the_part(srv, payload, plan, session):
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(HashMismatchError) as info:
        fetch_installer(plan, choice_for(srv, wrong), session, RecordingReporter(), CancelToken())
    assert wrong in info.value.message and payload[2] in info.value.message
    assert "mirror" in info.value.fix
    assert not (plan.download_dir / NAME).exists()
    assert not (plan.download_dir / (NAME + ".part")).exists()


def test_unverified_is_refused_before_downloading(srv, plan, session):
    with pytest.raises(UnverifiedInstallerError) as info:
        fetch_installer(plan, choice_for(srv, None), session, RecordingReporter(), CancelToken())
    assert "--sha256" in info.value.fix and "--allow-unverified" in info.value.fix
    # reads right in the wizard too: what to do first, the silent-mode flag in parentheses
    assert "give the expected sha-256 (--sha256 in silent mode" in info.value.fix.lower()
    assert "allow unverified installers (--allow-unverified)" in info.value.fix
    assert "--sha256 HASH" not in info.value.fix
    assert gets(srv) == []
    assert not (plan.download_dir / NAME).exists()


def test_unverified_allowed(srv, payload, plan, session):
    plan.allow_unverified = True
    rep = RecordingReporter()
    path = fetch_installer(plan, choice_for(srv, None), session, rep, CancelToken())
    assert path.read_bytes() == payload[1]
    infos = {key: value for _, key, value in rep.of("info")}
    assert infos["verified"] is False and infos["sha256"] == payload[2]
    assert any("NOT be verified" in w for w in levels(rep, "warning"))


def test_download_dir_not_writable(srv, payload, tmp_path, session):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=blocker / "dl")
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert "--download-dir" in info.value.fix


def test_unreachable_server(plan, session, monkeypatch):
    monkeypatch.setattr(download, "MAX_RESUMES", 1)
    choice = InstallerChoice(NAME, "http://127.0.0.1:9/" + NAME, None, "0" * 64, None, "index", None)
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice, session, RecordingReporter(), CancelToken())
    assert "refused" in info.value.message


# ---- cancel -------------------------------------------------------------------------------

def test_cancel_mid_download_keeps_the_part_and_resumes_later(srv, payload, plan, session):
    # The server stalls 5 s after each 64 KiB: the client is blocked in a socket read when the
    # cancel comes, so this checks that the read itself is interrupted.
    srv.fault("miniconda/" + NAME, Fault(delay_per_chunk=5.0, times=1))
    cancel = CancelToken()
    stamps: dict[str, float] = {}

    class CancelSoon(RecordingReporter):
        def progress(self, progress):
            super().progress(progress)
            if progress.done > 0 and "armed" not in stamps:
                stamps["armed"] = 1

                def fire():
                    stamps["at"] = time.monotonic()
                    cancel.cancel()

                threading.Timer(0.3, fire).start()

    with pytest.raises(Cancelled):
        fetch_installer(plan, choice_for(srv, payload[2]), session, CancelSoon(), cancel)
    assert time.monotonic() - stamps["at"] < 1.0
    part = plan.download_dir / (NAME + ".part")
    kept = part.stat().st_size
    assert 0 < kept < SIZE
    assert not (plan.download_dir / NAME).exists()

    path = fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path.read_bytes() == payload[1]
    assert gets(srv)[-1]["Range"] == f"bytes={kept}-"


def test_cancel_before_start(srv, payload, plan, session):
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        fetch_installer(plan, choice_for(srv, payload[2]), session, RecordingReporter(), cancel)
    assert gets(srv) == []


# ---- local installer files ----------------------------------------------------------------

def test_local_file_verified_in_place(tmp_path, plan, session):
    f = tmp_path / "my" / NAME
    f.parent.mkdir()
    data = os.urandom(1 << 20)
    f.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    rep = RecordingReporter()
    choice = InstallerChoice(NAME, None, f, sha, len(data), "user", None)
    assert fetch_installer(plan, choice, session, rep, CancelToken()) == f
    assert rep.of("progress")[-1][0].done == len(data)
    assert not plan.download_dir.exists()  # nothing copied


def test_local_file_mismatch_is_not_deleted(tmp_path, plan, session):
    f = tmp_path / NAME
    f.write_bytes(b"#!/bin/sh\necho hi\n")
    choice = InstallerChoice(NAME, None, f, "ab" * 32, None, "pinned", None)
    with pytest.raises(HashMismatchError) as info:
        fetch_installer(plan, choice, session, RecordingReporter(), CancelToken())
    assert str(f) in info.value.message and "--sha256" in info.value.fix
    assert f.read_bytes() == b"#!/bin/sh\necho hi\n"


def test_local_file_without_hash_is_used_with_a_warning(tmp_path, plan, session):
    f = tmp_path / "custom-installer.sh"
    f.write_bytes(b"#!/bin/sh\n")
    rep = RecordingReporter()
    choice = InstallerChoice(f.name, None, f, None, None, None, None)
    assert fetch_installer(plan, choice, session, rep, CancelToken()) == f
    assert levels(rep, "warning")


def test_sha256_file(tmp_path):
    f = tmp_path / "x.bin"
    data = os.urandom(2_500_000)
    f.write_bytes(data)
    rep = RecordingReporter()
    assert sha256_file(f, CancelToken(), rep) == hashlib.sha256(data).hexdigest()
    assert rep.of("progress")[-1][0].done == len(data)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        sha256_file(f, cancel)


# ---- the session --------------------------------------------------------------------------

def test_make_session_configuration():
    s = net.make_session()
    for prefix in ("https://", "http://"):
        adapter = s.get_adapter(prefix + "example.org/")
        assert isinstance(adapter, net.TruststoreAdapter)
        ctx = adapter.poolmanager.connection_pool_kw["ssl_context"]
        assert isinstance(ctx, truststore.SSLContext)
        proxied = adapter.proxy_manager_for("http://127.0.0.1:3128/")
        assert proxied.connection_pool_kw["ssl_context"] is ctx
        retry = adapter.max_retries
        assert set(retry.status_forcelist) == {429, 500, 502, 503, 504}
        assert set(retry.allowed_methods) == {"GET", "HEAD"}
        assert retry.connect >= 1 and retry.read >= 1 and retry.backoff_factor > 0
    assert s.headers["User-Agent"] == f"miniconda-wizard/{__import__('app').__version__}"
    assert s.trust_env
    assert net.TIMEOUT == (10.0, 30.0)
    s.close()


def test_session_uses_the_proxy_from_the_environment(srv, session, monkeypatch):
    for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", srv.base_url)
    monkeypatch.setenv("http_proxy", srv.base_url)
    resp = net.get(session, "http://mirror.invalid/miniconda/", CancelToken())
    resp.close()
    # The test server played the proxy: it got the absolute URL, so nothing left 127.0.0.1.
    assert [p for _, p, _ in srv.state.requests] == ["http://mirror.invalid/miniconda/"]


# ---- fix texts ----------------------------------------------------------------------------

def _fix_texts(module) -> list[str]:
    """Every ``fix=...`` / ``fix = ...`` text in ``module``'s source (f-string holes as ``{}``)."""
    import ast
    import inspect

    def text(node) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(text(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if isinstance(node, ast.BinOp):
            return text(node.left) + text(node.right)
        if isinstance(node, ast.IfExp):
            return text(node.body) + "\n" + text(node.orelse)
        if isinstance(node, ast.Call):  # _("...") and _("...").format(...) (app.i18n)
            inner = node.func.value if isinstance(node.func, ast.Attribute) and node.func.attr == "format" else node
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "_" and inner.args:
                return text(inner.args[0])
        return ""

    tree = ast.parse(inspect.getsource(module))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "fix":
            found.append(text(node.value))
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "fix" for t in targets):
                found.append(text(node.value))
    return [f for f in found if f]


@pytest.mark.parametrize("name", ["catalog", "download", "installer", "conda_env"])
def test_fix_texts_read_right_in_the_wizard_too(name):
    """A command-line flag in a fix is only ever an aside in parentheses: the wizard's user never types it."""
    import importlib
    import re

    module = importlib.import_module(f"app.core.{name}")
    fixes = _fix_texts(module)
    assert fixes
    for fix in fixes:
        for line in fix.split("\n"):
            for m in re.finditer(r"--[a-z][\w-]*", line):
                before = line[:m.start()]
                assert before.count("(") > before.count(")"), f"{name}: {m.group()} outside parentheses in {fix!r}"

