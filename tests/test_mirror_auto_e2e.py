"""Fix-up h-fix1 #6: ``--mirror auto`` end to end against the local test mirror. The probe's size rule stays (a
file under 1 MiB is not an installer: real ones are 50-150 MB, and a small answer is an error page or a stub); the
stand-in installer carries a payload after its final ``exit 0`` (tests/support/standin.py ``PADDED_SIZE``), as a
real constructor installer does, so the local mirror passes the probe."""

from __future__ import annotations

import socket

from app.core import mirror_probe, mirrors
from tests.support.standin import DEFAULT_FILENAME, PADDED_SIZE
from tests.test_silent import events, run_cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_stand_in_passes_the_probe_size_rule(standin_installer):
    assert standin_installer.stat().st_size == PADDED_SIZE > mirror_probe.MIN_INSTALLER_BYTES


def test_silent_mirror_auto_end_to_end_against_the_local_mirror(tmp_path, isolated_home, mirror):
    table = tmp_path / "mirrors.toml"
    table.write_text(f'''schema = 1
[mirrors.official]
title = "official"
installer = "http://127.0.0.1:{closed_port()}/miniconda/"

[mirrors.local]
title = "Local"
installer = "{mirror.base_url}"
''', encoding="utf-8")
    prefix = tmp_path / "miniconda3"
    res = run_cli("--silent", "--json", "--mirror", "auto", "--prefix", str(prefix), "--no-env", "--no-shell-init",
                  "--download-dir", str(tmp_path / "dl"), "--log-file", str(tmp_path / "run.log"),
                  home=isolated_home, extra_env={mirrors.TABLE_ENV: str(table)})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    evs = events(res.stdout)
    lines = [e["line"] for e in evs if e["event"] == "log"]
    assert any(line.startswith("* local: HTTP 206, 64.0 KiB in ") for line in lines), lines[:8]
    assert any(line.startswith("  official: no answer") for line in lines)
    assert any("Chosen mirror: local (Local)" in line for line in lines)
    assert evs[-1]["event"] == "finished" and evs[-1]["exit_code"] == 0
    assert (prefix / "bin" / "conda").exists()
    assert (tmp_path / "dl" / DEFAULT_FILENAME).stat().st_size == PADDED_SIZE
