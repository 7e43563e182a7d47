"""Logs an admin can debug from, JSON events in the documented schema, retries that show.

Real files, a real HTTP run through the local mirror, a real socket server that accepts and never answers.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import __version__, silent
from app.core import logfile, net
from app.core.errors import InstallError, Stage
from app.core.events import EVENT_FIELDS, CancelToken, Progress, StageResult, TrainStep, event_line, event_record

ROOT = Path(__file__).resolve().parent.parent


# ---- the JSON schema: one table, mirrored in README.md, used by every emitter ------------------------------------

def _readme_events() -> dict[str, tuple[str, ...]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### JSON events"):]
    section = section[: section.index("\n## ")]
    table: dict[str, tuple[str, ...]] = {}
    for line in section.splitlines():
        m = re.match(r"\| `(\w+)` \| (.*) \|$", line)
        if m:
            # the field names are the back-quoted words outside parentheses
            cells = re.sub(r"\([^)]*\)", "", m.group(2))
            table[m.group(1)] = tuple(re.findall(r"`(\w+)`", cells))
    return table


def test_readme_documents_exactly_the_event_schema():
    assert _readme_events() == EVENT_FIELDS


def test_event_record_refuses_undocumented_shapes():
    rec = event_record("failed", exit_code=3, error="CatalogError", stage="catalog", message="m", fix="f")
    assert list(rec) == ["event", "time", "exit_code", "error", "stage", "message", "fix"]
    assert isinstance(rec["time"], float)
    with pytest.raises(ValueError):
        event_record("failed", exit_code=3, error="CatalogError", stage="catalog", message="m")  # no fix
    with pytest.raises(ValueError):
        event_record("cancelled", exit_code=130, message="m")  # no signal, no stage
    with pytest.raises(ValueError):
        event_record("surprise", x=1)


def test_every_reporter_method_emits_its_documented_fields():
    out = io.StringIO()
    rep = silent.JsonReporter(out)
    rep.stage_started(Stage.DOWNLOAD, "Downloading")
    rep.progress(Progress(Stage.DOWNLOAD, 1, 2, 3.0, 4.0, "t"))
    rep.log(Stage.DOWNLOAD, "line", "warning")
    rep.info(Stage.INSTALL, "conda_version", "26.7")
    rep.train_step(TrainStep(1, 2.5, 0.1, 10.0, 80.0))
    rep.stage_finished(StageResult(Stage.DOWNLOAD, "ok", {"path": Path("/x")}))
    silent._report_error(rep, True, InstallError("boom"), 7, out)
    evs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in evs] == ["stage_started", "progress", "log", "info", "train_step", "stage_finished",
                                         "failed"]
    for e in evs:
        assert set(e) == {"event", "time", *EVENT_FIELDS[e["event"]]}, e
    assert evs[1] == {**evs[1], "stage": "download", "done": 1, "total": 2, "rate": 3.0, "eta": 4.0, "text": "t"}
    assert evs[4]["samples_per_second"] == 80.0
    # an error without a fix still says what to do
    assert evs[-1]["fix"] and evs[-1]["exit_code"] == 7 and evs[-1]["stage"] == "install"


def test_event_line_is_one_line_even_for_odd_values():
    line = event_line("info", stage="install", key="k", value=Path("/a\nb"))
    assert "\n" not in line and json.loads(line)["value"] == "/a\nb"


# ---- the log file -----------------------------------------------------------------------------------------------

def test_two_runs_in_the_same_second_get_two_log_files(tmp_path):
    a = logfile.default_log_file(tmp_path)
    b = logfile.default_log_file(tmp_path)
    assert a != b and a.exists() and b.exists()
    assert re.fullmatch(rf"install-\d{{8}}-\d{{6}}-{os.getpid()}(-2)?\.log", b.name)


def test_log_file_under_a_regular_file_is_a_clear_usage_error(tmp_path, capsys):
    from app import cli
    from app.core import termination

    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    code = cli.main(["--silent", "--json", "--no-env", "--prefix", str(tmp_path / "mc"),
                     "--log-file", str(blocker / "logs" / "run.log")])
    termination.restore_default_handlers()
    out, err = capsys.readouterr()
    ev = json.loads(out.strip().splitlines()[-1])
    assert code == 2 and ev["event"] == "failed" and ev["exit_code"] == 2
    assert f"{blocker} is a file, not a folder" in ev["message"] and "--log-file" in ev["fix"]
    assert "File exists" not in ev["message"] and blocker.read_text() == "mine"
    # --dry-run refuses it too, with the same exit code
    assert cli.main(["--dry-run", "--no-env", "--log-file", str(blocker / "run.log")]) == 2
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err


def test_a_log_that_cannot_be_written_at_the_start_is_a_usage_error(tmp_path, capsys):
    from app import cli
    from app.core import termination

    code = cli.main(["--silent", "--no-env", "--prefix", str(tmp_path / "mc"), "--log-file", "/dev/full"])
    termination.restore_default_handlers()
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Cannot write the log file /dev/full: No space left on device." in err and "--log-file" in err
    assert "Traceback" not in err + out and not (tmp_path / "mc").exists()


def test_a_log_that_fails_mid_run_warns_once_and_never_changes_the_outcome(tmp_path, isolated_home, mirror):
    # a real mid-run write error: the log is a FIFO whose reader goes away after the plan (EPIPE from then on)
    fifo = tmp_path / "run.log"
    os.mkfifo(fifo)
    seen: list[str] = []

    def reader() -> None:
        with open(fifo, encoding="utf-8") as fh:
            for line in fh:
                seen.append(line)
                if "Plan:" in line:
                    return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_")}
    env.update({"HOME": str(isolated_home), "XDG_STATE_HOME": str(isolated_home / ".local/state")})
    res = subprocess.run([sys.executable, "-m", "app", "--silent", "--mirror", mirror.base_url, "--prefix",
                          str(tmp_path / "mc"), "--no-env", "--no-shell-init", "--log-file", str(fifo),
                          "--download-dir", str(tmp_path / "dl")], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=240)
    thread.join(10)
    assert res.returncode == 0, res.stderr
    assert any("Plan:" in line for line in seen)
    warning = f"miniconda-wizard: warning: the log file {fifo} could not be written from here on: Broken pipe."
    assert res.stderr.count(warning) == 1, res.stderr
    assert "Traceback" not in res.stderr and (tmp_path / "mc" / "bin" / "conda").exists()


def test_file_log_reporter_after_a_failed_write_writes_nothing_more(tmp_path, capsys):
    rep = logfile.FileLogReporter(Path("/dev/full"))
    with pytest.raises(OSError):
        rep.write_header(["x"])
    rep.failed = None
    rep.log(Stage.ENV, "one")  # the line buffer flushes at the newline: ENOSPC, warned once
    rep.log(Stage.ENV, "two")
    rep.close()
    err = capsys.readouterr().err
    assert err.count("could not be written from here on: No space left on device") == 1


def test_header_has_what_an_admin_needs(tmp_path, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s3cret@proxy.corp:3128")
    monkeypatch.setenv("no_proxy", "localhost,.corp")
    cfg = tmp_path / "fleet.toml"
    lines = logfile.header_lines(["miniconda-wizard", "--silent", "--config", str(cfg)], cfg)
    text = "\n".join(lines)
    assert lines[0] == f"miniconda-wizard {__version__}, silent mode"
    assert f"host: {socket.gethostname()}" in lines
    assert any(line.startswith("user: ") and len(line) > 6 for line in lines)
    assert any(line.startswith("os: ") for line in lines)
    distro = logfile._distro()
    if distro:
        assert distro in text
    assert f"python: {sys.version.split()[0]} ({sys.executable})" in lines
    assert f"argv: {['miniconda-wizard', '--silent', '--config', str(cfg)]!r}" in lines
    assert f"config file: {cfg}" in lines
    assert "HTTPS_PROXY=http://alice:****@proxy.corp:3128" in text and "s3cret" not in text
    assert "no_proxy=localhost,.corp" in text
    assert any(line.startswith("time zone: ") for line in lines)


def test_mask_url_password():
    assert logfile.mask_url_password("http://u:p@h:1") == "http://u:****@h:1"
    assert logfile.mask_url_password("u:p@h") == "u:****@h"
    assert logfile.mask_url_password("http://h:3128") == "http://h:3128"


def test_a_failed_run_logs_header_stage_tagged_error_and_footer(tmp_path, isolated_home, mirror):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_")}
    env.update({"HOME": str(isolated_home), "STANDIN_CONDA_VERSION": "broken",
                "HTTPS_PROXY": "http://bob:hunter2@127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"})
    log = tmp_path / "run.log"
    res = subprocess.run([sys.executable, "-m", "app", "--silent", "--mirror", mirror.base_url, "--prefix",
                          str(tmp_path / "mc"), "--no-env", "--no-shell-init", "--log-file", str(log),
                          "--download-dir", str(tmp_path / "dl")], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=240)
    assert res.returncode == 7, res.stderr
    assert res.stderr.startswith("ERROR (install): ") and "\nWhat to do: " in res.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    body = [line.split(" ", 3)[3].lstrip() for line in lines]  # drop date, time, level
    assert body[0] == f"[wizard] miniconda-wizard {__version__}, silent mode"
    for key in ("host:", "user:", "os:", "python:", "argv:", "config file: none", "proxy:", "time zone:"):
        assert any(b.startswith(f"[wizard] {key}") for b in body[:12]), key
    assert any("HTTPS_PROXY=http://bob:****@127.0.0.1:9" in b for b in body) and "hunter2" not in "\n".join(body)
    assert any(b.startswith("[install] InstallError: ") for b in body)
    assert not any("[wizard] InstallError" in b for b in body)
    assert body[-1] == "[install] exit code 7 (stage install)"


# ---- retries that show, and the real time of a server that never answers ----------------------------------------

@pytest.fixture
def silent_server():
    """Accepts TCP connections and never sends a byte."""
    srv = socket.create_server(("127.0.0.1", 0))
    conns: list[socket.socket] = []
    stop = threading.Event()

    def loop():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conns.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/miniconda/"
    stop.set()
    t.join(2)
    for c in conns:
        c.close()
    srv.close()


def test_a_server_that_never_answers_shows_each_retry_and_the_real_time(silent_server):
    session = net.make_session(retry=net.make_retry(backoff_factor=0))
    shown: list[str] = []
    session.on_retry = shown.append
    started = time.monotonic()
    with pytest.raises(Exception) as ei:
        net.get(session, silent_server, CancelToken(), timeout=(2, 0.3))
    took = time.monotonic() - started
    assert len(shown) == 2  # read=2: three tries, two retries
    assert shown[0].startswith(f"retry 1/2 of GET {silent_server.rstrip('/').rsplit('/', 1)[0]}")
    assert "after the server sent nothing for 0.3 s" in shown[0]
    assert shown[1].startswith("retry 2/2 ")
    reason = net.describe_error(ei.value)
    m = re.fullmatch(r"the server sent nothing for 0\.3 s \(3 tries, (\d+) s in all\)", reason)
    assert m, reason
    assert int(m.group(1)) == round(took) or abs(int(m.group(1)) - took) < 1


def test_status_retries_show_the_http_status(mirror):
    from tests.support.http_server import Fault

    mirror.fault("flaky.sh", Fault(status=503, times=2))
    (Path(mirror.state.root) / "flaky.sh").write_bytes(b"ok")
    session = net.make_session(retry=net.make_retry(backoff_factor=0))
    shown: list[str] = []
    session.on_retry = shown.append
    resp = net.get(session, mirror.url("flaky.sh"), CancelToken(), stream=False)
    assert resp.status_code == 200
    assert [line.split(" of ")[0] for line in shown] == ["retry 1/3", "retry 2/3"]
    assert all("after HTTP 503" in line for line in shown)


def test_a_silent_run_shows_the_retry_of_the_index_on_the_console_and_in_the_log(tmp_path, isolated_home, mirror):
    from tests.support.http_server import Fault

    mirror.fault("", Fault(status=503, times=1))  # the index, once
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_")}
    env.update({"HOME": str(isolated_home), "STANDIN_CONDA_VERSION": "broken"})  # stop after the install step
    log = tmp_path / "run.log"
    res = subprocess.run([sys.executable, "-m", "app", "--silent", "--mirror", mirror.base_url, "--prefix",
                          str(tmp_path / "mc"), "--no-env", "--no-shell-init", "--log-file", str(log),
                          "--download-dir", str(tmp_path / "dl")], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=240)
    assert res.returncode == 7, res.stderr
    expected = f"retry 1/3 of GET {mirror.base_url.rstrip('/')}/ after HTTP 503"
    assert f"    warning: {expected}" in res.stdout
    assert f"WARNING [catalog] {expected}" in log.read_text(encoding="utf-8")


def test_a_terminal_that_is_gone_does_not_break_the_run():
    """After SIGHUP the terminal may be closed: writing to it must not stop the cleanup that follows."""
    out = io.StringIO()
    out.close()
    silent.ConsoleReporter(out).log(Stage.INSTALL, "Removing the incomplete installation", "warning")
    silent.JsonReporter(out).log(Stage.INSTALL, "Removing the incomplete installation", "warning")
    silent._report_error(silent.JsonReporter(out), True, InstallError("x"), 7, out)
