"""app.core.installer's own state, in process: the user's config files kept across an installer run
(``--update-existing``), and the marker of a fresh install that lets the next run say what a killed run left.
Gaps found by mutation testing (docs/testing.md); the end-to-end side is in tests/test_runtime_hardening.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import installer
from app.core.errors import InstallError, Stage
from app.core.events import RecordingReporter

USER = b"# mine\nchannels:\n  - conda-forge\nproxy_servers:\n  https: http://proxy:3128\n"


def lines(rec: RecordingReporter) -> list[tuple]:
    return rec.of("log")


@pytest.fixture
def state_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def test_keep_and_restore_a_rewritten_condarc(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    rc = prefix / ".condarc"
    rc.write_bytes(USER)
    os.chmod(rc, 0o640)
    rec = RecordingReporter()
    kept = installer.keep_user_config(prefix, rec)
    assert [(k.path, k.data, k.mode) for k in kept] == [(rc.resolve(), USER, 0o640)]
    backup = kept[0].backup
    assert backup.read_bytes() == USER and backup.name.startswith(".condarc.miniconda-wizard-") \
        and backup.name.endswith(".bak")
    assert lines(rec) == [(Stage.INSTALL, f"Backed up {rc.resolve()} to {backup}: the installer rewrites it, and it "
                                          "is put back afterwards.", "info")]
    rc.write_bytes(b"channels:\n  - defaults\n")  # what the installer's -u writes
    rec = RecordingReporter()
    installer.restore_user_config(kept, rec)
    default = prefix / ".condarc.installer-default"
    assert rc.read_bytes() == USER and (rc.stat().st_mode & 0o7777) == 0o640
    assert default.read_bytes() == b"channels:\n  - defaults\n"
    assert not backup.exists() and not (prefix / ".condarc.miniconda-wizard.tmp").exists()
    assert lines(rec) == [(Stage.INSTALL, f"The installer rewrote {rc.resolve()}; your version is put back, and the "
                                          f"installer's is kept beside it as {default}.", "info")]


def test_restore_when_unchanged_or_removed(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    rc = prefix / ".condarc"
    rc.write_bytes(USER)
    kept = installer.keep_user_config(prefix, RecordingReporter())
    rec = RecordingReporter()
    installer.restore_user_config(kept, rec)  # the installer left it as it was
    assert rc.read_bytes() == USER and not kept[0].backup.exists()
    assert lines(rec) == [(Stage.INSTALL, f"{rc.resolve()} is unchanged.", "info")]
    assert not (prefix / ".condarc.installer-default").exists()
    kept = installer.keep_user_config(prefix, RecordingReporter())
    rc.unlink()  # the installer removed it
    rec = RecordingReporter()
    installer.restore_user_config(kept, rec)
    assert rc.read_bytes() == USER
    assert lines(rec) == [(Stage.INSTALL, f"The installer removed {rc.resolve()}; your version is put back.", "info")]
    assert not (prefix / ".condarc.installer-default").exists()


def test_nothing_kept_without_a_config_and_a_link_is_followed(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    assert installer.keep_user_config(prefix, RecordingReporter()) == []
    (prefix / ".condarc").mkdir()  # a folder of that name is no config file
    assert installer.keep_user_config(prefix, RecordingReporter()) == []
    (prefix / ".condarc").rmdir()
    target = tmp_path / "shared.condarc"
    target.write_bytes(USER)
    (prefix / ".condarc").symlink_to(target)
    kept = installer.keep_user_config(prefix, RecordingReporter())
    assert kept[0].path == target.resolve() and kept[0].backup.parent == target.parent


def test_a_config_that_cannot_be_put_back_keeps_the_backup_and_says_how(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    rc = prefix / ".condarc"
    rc.write_bytes(USER)
    kept = installer.keep_user_config(prefix, RecordingReporter())
    rc.unlink()
    rc.mkdir()  # the path is now a folder: the file cannot be put back
    (rc / "x").write_text("x")
    rec = RecordingReporter()
    installer.restore_user_config(kept, rec)
    backup = kept[0].backup
    assert backup.read_bytes() == USER
    (_stage, text, level), = [e for e in lines(rec) if e[2] == "warning"]
    assert text.startswith(f"Could not put back {rc.resolve()} (") and \
        text.endswith(f"); your version is in {backup}: copy it back with `cp {backup} {rc.resolve()}`.")


def test_a_config_that_cannot_be_backed_up_stops_before_the_installer(tmp_path, monkeypatch):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    (prefix / ".condarc").write_bytes(USER)

    def refuse(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(installer, "write_new", refuse)
    with pytest.raises(InstallError) as exc:
        installer.keep_user_config(prefix, RecordingReporter())
    rc = (prefix / ".condarc").resolve()
    assert exc.value.message == f"Cannot back up {rc} before updating the installation: Permission denied."
    assert exc.value.fix == f"Check the permissions of {prefix}, or copy {rc} somewhere safe and run again."


def test_marker_of_a_fresh_install_round_trip(tmp_path, state_home):
    prefix = tmp_path / "mc"
    marker = installer.in_progress_marker(prefix)
    assert marker.parent == state_home / "miniconda-wizard" / "installing" and marker.suffix == ".json"
    assert len(marker.stem) == 20 and marker != installer.in_progress_marker(tmp_path / "other")
    assert installer.in_progress_marker(prefix) == marker  # the same prefix, the same marker
    assert installer._interrupted_run(prefix) is None  # no marker: no earlier run
    written = installer._write_marker(prefix)
    assert written == marker
    data = json.loads(marker.read_text(encoding="utf-8"))
    assert data["prefix"] == str(prefix.absolute()) and data["pid"] == os.getpid()
    assert isinstance(data["create_time"], float) and len(data["started"]) == 19
    found = installer._interrupted_run(prefix)
    assert found == (data, False)  # this process's own marker is not "another run still alive"
    installer._remove_marker(marker)
    assert not marker.exists() and installer._interrupted_run(prefix) is None
    installer._remove_marker(marker)  # twice: no error
    installer._remove_marker(None)


def test_marker_of_another_run_alive_or_gone(tmp_path, state_home):
    prefix = tmp_path / "mc"
    marker = installer.in_progress_marker(prefix)
    marker.parent.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import psutil

        created = psutil.Process(child.pid).create_time()
        record = {"prefix": str(prefix), "pid": child.pid, "started": "2026-11-30 01:02:03", "create_time": created}
        marker.write_text(json.dumps(record), encoding="utf-8")
        assert installer._interrupted_run(prefix) == (record, True)  # that run is still installing
        marker.write_text(json.dumps({**record, "create_time": created - 100}), encoding="utf-8")
        assert installer._interrupted_run(prefix)[1] is False  # the pid was reused by another program
        marker.write_text(json.dumps({**record, "create_time": None}), encoding="utf-8")
        assert installer._interrupted_run(prefix)[1] is True  # no start time known: a live pid counts
    finally:
        child.kill()
        child.wait()
    marker.write_text(json.dumps({**record, "create_time": created}), encoding="utf-8")
    assert installer._interrupted_run(prefix)[1] is False  # that run is gone (killed)
    for bad in ("not json", json.dumps({"prefix": "x"}), json.dumps({"pid": "abc"}), json.dumps([1])):
        marker.write_text(bad, encoding="utf-8")
        assert installer._interrupted_run(prefix) is None


def test_temp_folder_lines_for_the_installer(tmp_path, monkeypatch):
    usual = installer.default_temp_dir()
    prefix = tmp_path / "mc"
    monkeypatch.setattr(installer, "temp_env", lambda p: {"TMPDIR": str(tmp_path / ".t"), "TMP": "x", "TEMP": "x"})
    rec = RecordingReporter()
    assert installer._temp_for(prefix, rec)["TMPDIR"] == str(tmp_path / ".t")
    assert lines(rec) == [(Stage.INSTALL, f"The temp folder {usual} cannot run programs (mounted noexec?), and the "
                                          f"installer runs helpers from its temp folder; using {tmp_path / '.t'} "
                                          "instead.", "info")]
    monkeypatch.setattr(installer, "temp_env", lambda p: {})
    monkeypatch.setattr(installer, "can_execute_in", lambda folder: False)
    rec = RecordingReporter()
    assert installer._temp_for(prefix, rec) == {}
    assert lines(rec) == [(Stage.INSTALL, f"The temp folder {usual} cannot run programs (mounted noexec?), and no "
                                          f"folder beside {prefix} can either; the installer may fail. Set TMPDIR to "
                                          "a folder that allows programs and run again if it does.", "warning")]
    monkeypatch.setattr(installer, "can_execute_in", lambda folder: True)
    rec = RecordingReporter()
    assert installer._temp_for(prefix, rec) == {} and lines(rec) == []  # the usual temp folder works: no line
