"""Segmented downloads (issue 5): N connections, per-segment resume, stall detector, and the faults of the issue,
each against the real test HTTP server on 127.0.0.1 (tests/support/http_server.py)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
import time

import pytest

from app.core import download, net, segments
from app.core.catalog import InstallerChoice
from app.core.download import fetch_installer
from app.core.errors import Cancelled, DownloadError, Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import Fault, LocalServer

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
SIZE = 12 * (1 << 20) + 4321  # four segments of about 3 MiB
PATH = "miniconda/" + NAME


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    root = tmp_path_factory.mktemp("srv-seg")
    data = os.urandom(SIZE)
    (root / "miniconda").mkdir()
    (root / "miniconda" / NAME).write_bytes(data)
    return root, data, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def srv(payload):
    with LocalServer(payload[0]) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(srv):
    srv.clear_faults()
    with srv.state.lock:
        srv.state.requests.clear()
        srv.state.request_times.clear()
        srv.state.bytes_sent = 0
        srv.state.max_open_connections = 0
    yield


@pytest.fixture
def session():
    s = net.make_session(retry=net.make_retry(backoff_factor=0))
    yield s
    s.close()


@pytest.fixture
def plan(tmp_path) -> InstallPlan:
    p = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=tmp_path / "dl")
    p.connections = 4
    return p


def choice(srv, sha) -> InstallerChoice:
    return InstallerChoice(NAME, srv.url(PATH), None, sha, SIZE, "index", None)


def ranges(srv) -> list[str | None]:
    return [h.get("Range") for m, p, h in srv.state.requests if m == "GET" and p == "/" + PATH]


def warnings(rep) -> list[str]:
    return [line for _, line, lv in rep.of("log") if lv == "warning"]


def bounds(n: int = 4) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in segments.plan_segments(SIZE, n)]


def wait_until(pred, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def seg_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("dl-segment-")]


# ---- the happy path ---------------------------------------------------------------------------

def test_large_file_comes_in_segments_written_in_place(srv, payload, plan, session):
    _, data, sha = payload
    srv.fault(PATH, Fault(delay_per_chunk=0.005))  # slow enough that progress sees the connections
    rep = RecordingReporter()
    path = fetch_installer(plan, choice(srv, sha), session, rep, CancelToken())
    assert path.read_bytes() == data
    assert sorted(ranges(srv)) == sorted(f"bytes={a}-{b}" for a, b in bounds())
    assert srv.state.max_open_connections >= 4
    assert srv.state.bytes_sent == SIZE  # nothing fetched twice
    folder = plan.download_dir
    assert sorted(p.name for p in folder.iterdir()) == [NAME]  # no .part, no sidecar left
    progress = [p for (p,) in rep.of("progress")]
    assert max(p.connections for p in progress) > 1
    assert any("connections" in p.text for p in progress)
    assert {k: v for _, k, v in rep.of("info")}["sha256"] == sha
    # the whole file is hashed after the segments: the SHA-256 covers every byte
    assert progress[-1].text.startswith(download.CHECKING_FILE_TEXT) and progress[-1].done == SIZE


def test_one_connection_or_a_small_file_is_one_stream(srv, payload, plan, session, monkeypatch):
    plan.connections = 1
    fetch_installer(plan, choice(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert ranges(srv) == [None]
    monkeypatch.setattr(segments, "MIN_SEGMENTED_SIZE", SIZE + 1)
    plan.connections = 8
    plan.download_dir = plan.download_dir.with_name("dl2")
    fetch_installer(plan, choice(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert ranges(srv) == [None, None]


def test_segments_follow_the_default_connections(payload):
    assert segments.DEFAULT_CONNECTIONS == 8
    segs = segments.plan_segments(SIZE, 8)
    assert len(segs) == 8 and segs[0].start == 0 and segs[-1].end == SIZE - 1
    assert all(a.end + 1 == b.start for a, b in zip(segs, segs[1:]))
    assert len(segments.plan_segments(3 << 20, 16)) == 3  # no segment under MIN_SEGMENT


# ---- fault 1: a connection drops at 30 % of one segment ---------------------------------------

def test_drop_at_30_percent_of_one_segment_resumes_that_segment(srv, payload, plan, session):
    _, data, sha = payload
    start, end = bounds()[1]
    cut = start + (end - start + 1) * 3 // 10
    srv.fault(PATH, Fault(cut_at_byte=cut, times=1))
    rep = RecordingReporter()
    path = fetch_installer(plan, choice(srv, sha), session, rep, CancelToken())
    assert path.read_bytes() == data
    assert f"bytes={cut}-{end}" in ranges(srv)  # only the rest of that segment is asked again
    assert srv.state.bytes_sent - SIZE <= 1 << 20  # at most 1 MiB fetched twice (here: none)
    (line,) = [w for w in warnings(rep) if w.startswith("retry ")]
    assert line.startswith(f"retry 1/{segments.MAX_RETRIES}: segment 2 of 4: the connection closed")
    assert f"resuming at byte {cut}" in line
    assert ("info", (Stage.DOWNLOAD, "retries", 1)) in rep.events


# ---- fault 2: the server ignores Range ----------------------------------------------------------

def test_server_that_ignores_range_gets_one_clean_stream(srv, payload, plan, session):
    _, data, sha = payload
    srv.fault(PATH, Fault(ignore_range=True))
    rep = RecordingReporter()
    path = fetch_installer(plan, choice(srv, sha), session, rep, CancelToken())
    assert path.read_bytes() == data
    first, second = ranges(srv)
    assert first == f"bytes=0-{bounds()[0][1]}" and second is None
    assert any("one stream" in line for _, line, _ in rep.of("log"))
    assert not warnings(rep)
    assert sorted(p.name for p in plan.download_dir.iterdir()) == [NAME]


# ---- fault 3: 404, 500 then success, 429 with Retry-After --------------------------------------

def test_404_is_a_clear_error_with_nothing_left(srv, plan, session):
    bad = InstallerChoice("Miniconda3-missing.sh", srv.url("miniconda/Miniconda3-missing.sh"), None, "0" * 64,
                          SIZE, "index", None)
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, bad, session, RecordingReporter(), CancelToken())
    assert "HTTP 404" in info.value.message and info.value.exit_code == 4
    assert "another installer or another mirror" in info.value.fix
    assert list(plan.download_dir.iterdir()) == []


def test_500_then_success(srv, payload, plan, session):
    srv.fault(PATH, Fault(status=500, times=1))
    path = fetch_installer(plan, choice(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path.read_bytes() == payload[1]
    assert ranges(srv)[0] == ranges(srv)[1] == f"bytes=0-{bounds()[0][1]}"  # the probe, retried


def test_429_with_retry_after_is_honoured_and_reported(srv, payload, plan, session):
    srv.fault(PATH, Fault(status=429, times=1, headers={"Retry-After": "1"}))
    lines: list[str] = []
    session.on_retry = lines.append
    path = fetch_installer(plan, choice(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path.read_bytes() == payload[1]
    t = srv.state.request_times
    assert t[1] - t[0] >= 0.9  # waited the Retry-After second before asking again
    assert len(lines) == 1 and lines[0].startswith("retry 1/") and "HTTP 429" in lines[0]


# ---- fault 4: a trickle below the stall threshold ---------------------------------------------

def test_trickle_reconnects_then_stops_with_a_stall_error_that_keeps_the_partial_state(
        srv, payload, plan, session, monkeypatch):
    monkeypatch.setattr(segments, "MAX_RETRIES", 2)
    plan.stall_timeout, plan.connections = 1.0, 2  # two stall, reconnect, stall again: the third retry is refused
    # 100 bytes per 0.1 s = 1000 bytes/s, under the 1 KiB/s threshold
    srv.fault(PATH, Fault(chunk_size=100, delay_per_chunk=0.1))
    rep = RecordingReporter()
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice(srv, payload[2]), session, rep, CancelToken())
    err = info.value
    assert err.exit_code == 4
    assert "the connection stalled" in err.message and "after 2 retries" in err.message
    assert f"The partial download {NAME}.part" in err.message and "is kept" in err.message
    assert "--stall-timeout" in err.fix
    retry_lines = [w for w in warnings(rep) if w.startswith("retry ")]
    assert [w.split(":")[0] for w in retry_lines] == ["retry 1/2", "retry 2/2"]
    assert all("the connection stalled" in w for w in retry_lines)
    # reconnected: a segment was asked again from where it stalled, not from its start
    starts = {f"bytes={a}-{b}" for a, b in bounds(2)}
    assert any(r not in starts for r in ranges(srv))
    part = plan.download_dir / (NAME + ".part")
    state = json.loads(segments.state_path(part).read_text())
    assert sum(n - a for a, _, n in state["segments"]) > 0
    assert not (plan.download_dir / NAME).exists()
    assert seg_threads() == []
    # the kept state is resumed by the next run, without the bytes already there
    have = sum(n - a for a, _, n in state["segments"])
    srv.clear_faults()
    assert wait_until(lambda: srv.state.open_connections == 0, 3.0)  # the stalled connections were closed
    before = srv.state.bytes_sent
    path = fetch_installer(plan, choice(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert path.read_bytes() == payload[1]
    assert srv.state.bytes_sent - before == SIZE - have


def test_single_stream_stall_is_detected_too(srv, payload, plan, session, monkeypatch):
    monkeypatch.setattr(download, "MAX_RESUMES", 1)
    plan.connections, plan.stall_timeout = 1, 1.0
    srv.fault(PATH, Fault(chunk_size=100, delay_per_chunk=0.1))
    rep = RecordingReporter()
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice(srv, payload[2]), session, rep, CancelToken())
    assert "the connection stalled" in info.value.message and "kept" in info.value.message
    assert [w.split(":")[0] for w in warnings(rep) if w.startswith("retry ")] == ["retry 1/1"]
    assert (plan.download_dir / (NAME + ".part")).stat().st_size > 0


# ---- fault 5: cancel mid-segment -----------------------------------------------------------------

def test_cancel_mid_segment_closes_every_connection_and_resumes_per_segment(srv, payload, plan, session):
    _, data, sha = payload
    srv.fault(PATH, Fault(delay_per_chunk=0.05))
    cancel = CancelToken()
    stamps: dict[str, float] = {}

    class CancelSoon(RecordingReporter):
        def progress(self, progress):
            super().progress(progress)
            if progress.done > 0 and progress.connections >= 4 and "armed" not in stamps:
                stamps["armed"] = 1

                def fire():
                    stamps["open"] = srv.state.open_connections
                    stamps["at"] = time.monotonic()
                    cancel.cancel()

                threading.Timer(0.3, fire).start()

    with pytest.raises(Cancelled):
        fetch_installer(plan, choice(srv, sha), session, CancelSoon(), cancel)
    returned = time.monotonic() - stamps["at"]
    assert stamps["open"] >= 4
    assert seg_threads() == []  # every connection's thread was joined before Cancelled was raised
    assert returned < 2.0  # generous: the promise is within a second
    # the server saw every connection close (it notices at its next write; generous for a loaded machine)
    assert wait_until(lambda: srv.state.open_connections == 0, 15.0)
    part = plan.download_dir / (NAME + ".part")
    state = json.loads(segments.state_path(part).read_text())
    assert [(a, b) for a, b, _ in state["segments"]] == bounds()
    done = [(a, n) for a, _, n in state["segments"]]
    assert all(n > a for a, n in done)  # each segment got somewhere
    kept = part.read_bytes()
    for a, n in done:
        assert kept[a:n] == data[a:n]  # what the record claims is on the disk
    assert not (plan.download_dir / NAME).exists()

    srv.clear_faults()
    with srv.state.lock:
        srv.state.requests.clear()
        srv.state.bytes_sent = 0
    rep = RecordingReporter()
    path = fetch_installer(plan, choice(srv, sha), session, rep, CancelToken())
    assert path.read_bytes() == data
    assert sorted(ranges(srv)) == sorted(f"bytes={n}-{b}" for (a, n), (_, b) in zip(done, bounds()))
    assert srv.state.bytes_sent == SIZE - sum(n - a for a, n in done)
    assert any("Resuming the segmented download" in line for _, line, _ in rep.of("log"))
    assert not segments.state_path(part).exists()


# ---- fault 6: the disk fills mid-download ---------------------------------------------------------

def test_disk_full_mid_segmented_download_is_clear_and_nothing_looks_complete(srv, payload, plan, session,
                                                                               monkeypatch):
    written = {"n": 0}
    lock = threading.Lock()

    def pwrite(fd, data, offset):
        with lock:
            if written["n"] + len(data) > SIZE * 3 // 10:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written["n"] += len(data)
        return os.pwrite(fd, data, offset)

    monkeypatch.setattr(segments, "_pwrite", pwrite)
    with pytest.raises(DownloadError) as info:
        fetch_installer(plan, choice(srv, payload[2]), session, RecordingReporter(), CancelToken())
    assert f"The disk holding {plan.download_dir} is full (No space left on device)." in info.value.message
    assert info.value.exit_code == 4 and "--download-dir" in info.value.fix
    assert not (plan.download_dir / NAME).exists()  # never renamed: nothing looks complete
    part = plan.download_dir / (NAME + ".part")
    assert part.exists() and segments.state_path(part).exists()
    state = json.loads(segments.state_path(part).read_text())
    have = sum(n - a for a, _, n in state["segments"])
    assert 0 < have <= SIZE * 3 // 10
    assert f"The partial download {NAME}.part ({download.format_bytes(have)}) is kept" in info.value.message
    assert seg_threads() == []


# ---- settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 17, -1, True, "8"])
def test_connections_out_of_range_is_refused_at_the_plan(value):
    p = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    p.connections = value
    (problem,) = [x for x in p.problems() if "download connections" in x]
    assert "--connections / connections" in problem and "from 1 to 16" in problem


@pytest.mark.parametrize("value", [0, 0.5, 4000, "30"])
def test_stall_timeout_out_of_range_is_refused_at_the_plan(value):
    p = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    p.stall_timeout = value
    (problem,) = [x for x in p.problems() if "stall timeout" in x]
    assert "--stall-timeout / stall_timeout" in problem


def test_flags_reach_the_plan():
    from app import cli

    args = cli.build_parser().parse_args(["--silent", "--connections", "3", "--stall-timeout", "12.5"])
    values = cli.explicit_values(args)
    assert values["connections"] == 3 and values["stall_timeout"] == 12.5
    plan = cli.plan_from_values(values)
    assert plan.connections == 3 and plan.stall_timeout == 12.5 and not [
        x for x in plan.problems() if "connections" in x or "stall" in x]
