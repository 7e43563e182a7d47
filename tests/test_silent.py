"""Silent mode end to end, through the real command line: local mirror -> stand-in installer -> env -> training.

Each run is a real ``python -m app --silent`` child process with its own HOME, so
nothing here mocks the engine. The console-output tests at the end call :mod:`app.silent`
in this process (real downloads and rc files; only the clock the progress throttle reads
is set by hand, so no test waits or times anything).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import silent
from app.core import download, net, shell_setup
from app.core.catalog import InstallerChoice
from app.core.errors import Stage
from app.core.events import CancelToken, Progress, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

from tests.support.mirror import build_mirror
from tests.support.http_server import LocalServer
from tests.support.standin import DEFAULT_FILENAME

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, home: Path, extra_env: dict[str, str] | None = None, timeout: float = 240):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)  # silent mode must not need Qt at all
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_silent_install_end_to_end_json(tmp_path, isolated_home, mirror):
    prefix = tmp_path / "miniconda3"
    log = tmp_path / "logs" / "run.log"
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(prefix), "--accept-tos",
                  "--gpu-steps", "20", "--log-file", str(log), "--download-dir", str(tmp_path / "dl"),
                  home=isolated_home)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    evs = events(res.stdout)
    from app.core.events import EVENT_FIELDS

    for e in evs:  # every line is a documented event with exactly its documented fields
        assert set(e) == {"event", "time", *EVENT_FIELDS[e["event"]]}, e
    assert {"stage_started", "progress", "log", "info", "train_step", "stage_finished", "finished"} <= {
        e["event"] for e in evs}
    stages = [e["stage"] for e in evs if e["event"] == "stage_started"]
    assert stages == ["catalog", "download", "install", "shell", "env", "gpu_check"]
    assert evs[-1]["event"] == "finished" and evs[-1]["exit_code"] == 0
    assert "conda activate llm" in evs[-1]["message"]
    # download progress in bytes, ending at the full size
    dl = [e for e in evs if e["event"] == "progress" and e["stage"] == "download"]
    assert dl and dl[-1]["done"] == dl[-1]["total"] == (tmp_path / "dl" / DEFAULT_FILENAME).stat().st_size
    # the real training: one train_step per step, and the loss falls
    steps = [e for e in evs if e["event"] == "train_step"]
    assert [e["step"] for e in steps] == list(range(1, 21))
    first = sum(e["loss"] for e in steps[:5]) / 5
    last = sum(e["loss"] for e in steps[-5:]) / 5
    assert last < first
    # what it left behind
    assert (prefix / "bin" / "conda").exists()
    assert (prefix / "envs" / "llm" / "bin" / "python").exists()
    bashrc = (isolated_home / ".bashrc").read_text()
    assert "# >>> conda initialize >>>" in bashrc and str(prefix) in bashrc
    text = log.read_text(encoding="utf-8")
    assert "[gpu_check]" in text and "Plan:" in text
    # issue 8: conda makes python + pip, then the env's own pip installs torch from the PyTorch wheel index
    # (already there: the stand-in env sees the test venv's torch) and the LLM libraries (tests/data/presets)
    env_python = prefix / "envs" / "llm" / "bin" / "python"
    assert f"{env_python} -m pip install --index-url https://download.pytorch.org/whl/" in text
    assert "Requirement already satisfied: torch" in text and f"{env_python} -m pip install packaging" in text


@pytest.fixture
def tampered_mirror(tmp_path_factory, standin_installer):
    """A mirror whose index publishes a wrong SHA-256 for the stand-in."""
    root = build_mirror(tmp_path_factory.mktemp("tampered"), [standin_installer])
    index = root / "index.html"
    from tests.support.mirror import sha256_file

    real = sha256_file(standin_installer)
    index.write_text(index.read_text().replace(real, "0" * 64))
    with LocalServer(root) as server:
        yield server


def test_hash_mismatch_exits_5_and_keeps_nothing(tmp_path, isolated_home, tampered_mirror):
    prefix = tmp_path / "miniconda3"
    res = run_cli("--silent", "--mirror", tampered_mirror.base_url, "--prefix", str(prefix),
                  "--download-dir", str(tmp_path / "dl"), "--accept-tos", home=isolated_home)
    assert res.returncode == 5, res.stdout + res.stderr
    assert "SHA-256" in res.stderr
    assert "What to do:" in res.stderr
    assert not prefix.exists()
    assert list((tmp_path / "dl").glob("*")) == []  # no file, no .part


def test_missing_installer_404_exits_4(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--installer", "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",  # a real row; no file behind it
                  "--download-dir", str(tmp_path / "dl"), "--accept-tos", home=isolated_home)
    assert res.returncode == 4, res.stdout + res.stderr
    last = events(res.stdout)[-1]
    assert last["event"] == "failed" and last["stage"] == "download" and last["exit_code"] == 4
    assert "404" in last["message"]


def test_bad_flag_exits_2(isolated_home):
    res = run_cli("--silent", "--prefix", home=isolated_home)
    assert res.returncode == 2 and "expected one argument" in res.stderr


def test_tos_not_accepted_exits_10(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"), "--no-gpu-check",
                  "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    assert res.returncode == 10, res.stdout + res.stderr
    assert "Terms of Service" in res.stderr and "--accept-tos" in res.stderr
    # found before anything is downloaded or installed, so a second run does not trip over a half-done first
    assert not (tmp_path / "mc").exists() and not (tmp_path / "dl").exists()
    assert not (isolated_home / ".bashrc").exists()


def test_non_empty_prefix_is_refused_before_downloading(tmp_path, isolated_home, mirror):
    target = tmp_path / "mc"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    res = run_cli("--silent", "--mirror", mirror.base_url, "--prefix", str(target), "--accept-tos",
                  "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    assert res.returncode == 6, res.stdout + res.stderr
    assert "not empty" in res.stderr and (target / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "dl").exists() and mirror.state.requests == []


def test_answer_file_drives_silent_mode(tmp_path, isolated_home, mirror, standin_installer):
    local = tmp_path / DEFAULT_FILENAME
    shutil.copy(standin_installer, local)
    cfg = tmp_path / "fleet.toml"
    cfg.write_text(
        f'installer_file = "{local}"\nprefix = "{tmp_path / "mc"}"\ncreate_env = false\ngpu_check = false\n'
        f'init_shells = []\nallow_unverified = true\n', encoding="utf-8")
    res = run_cli("/S", "--config", str(cfg), home=isolated_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Skipped" in res.stdout and (tmp_path / "mc" / "bin" / "conda").exists()
    assert not (isolated_home / ".bashrc").exists()


def test_undo_shell_changes_restores_bashrc_byte_for_byte(tmp_path, isolated_home, standin_installer):
    bashrc = isolated_home / ".bashrc"
    original = b"# my settings\r\nalias ll='ls -l'\r\n"
    bashrc.write_bytes(original)
    local = tmp_path / DEFAULT_FILENAME
    shutil.copy(standin_installer, local)
    res = run_cli("--silent", "--installer-file", str(local), "--allow-unverified", "--prefix", str(tmp_path / "mc"),
                  "--no-env", "--init-shells", "bash", home=isolated_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert b"conda initialize" in bashrc.read_bytes()
    res = run_cli("--undo-shell-changes", home=isolated_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert bashrc.read_bytes() == original
    assert res.stdout.count(f"{bashrc}: restored from the backup") == 1
    res = run_cli("--undo-shell-changes", home=isolated_home)
    assert res.returncode == 0 and "Nothing" in res.stdout


# ---- console output, in process -------------------------------------------------------------

class Clock:
    """Stands in for time.monotonic in app.silent, so throttling is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(silent.time, "monotonic", c)
    return c


def test_console_shows_the_partial_download_check_as_a_check(tmp_path, clock):
    """Resuming a .part: the re-hash lines say what they are, not "1.0 MiB of 11.3 MiB" twice."""
    payload = os.urandom(3 << 20)
    root = tmp_path / "srv"
    root.mkdir()
    (root / DEFAULT_FILENAME).write_bytes(payload)
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=tmp_path / "dl")
    plan.download_dir.mkdir()
    (plan.download_dir / (DEFAULT_FILENAME + ".part")).write_bytes(payload[: 1 << 20])
    out = io.StringIO()
    console = silent.ConsoleReporter(out)
    with LocalServer(root) as server, net.make_session() as session:
        choice = InstallerChoice(DEFAULT_FILENAME, server.url(DEFAULT_FILENAME), None,
                                 hashlib.sha256(payload).hexdigest(), len(payload), "index")
        download.fetch_installer(plan, choice, session, console, CancelToken())
    lines = [line.strip() for line in out.getvalue().splitlines()]
    assert f"{download.CHECKING_PART_TEXT}: 1.0 MiB of 1.0 MiB (100%)" in lines
    progress = [line for line in lines if " of " in line and "MiB" in line]
    assert all(line.startswith((download.CHECKING_PART_TEXT, download.DOWNLOADING_TEXT)) for line in progress)
    assert progress[-1].startswith(f"{download.DOWNLOADING_TEXT} 3.0 MiB of 3.0 MiB (100%)")
    assert len(progress) == len(set(progress))


def test_console_download_line_without_text_uses_the_units_helpers(clock):
    out = io.StringIO()
    console = silent.ConsoleReporter(out)
    console.progress(Progress(Stage.DOWNLOAD, 10 << 20, 100 << 20, rate=2 << 20, eta=185.0))
    assert out.getvalue() == "    10.0 MiB of 100.0 MiB (10%, 2.0 MiB/s, 3 min 5 s left)\n"


def test_console_env_progress_only_on_new_text_and_every_two_seconds(clock):
    out = io.StringIO()
    console = silent.ConsoleReporter(out)

    def env(text: str, at: float) -> None:
        clock.now = 1000.0 + at
        console.progress(Progress(Stage.ENV, 0, None, text=text))

    env("0.0 MiB of packages fetched, 0 linked, 0 s", 0.5)   # printed: the first
    env("0.0 MiB of packages fetched, 0 linked, 1 s", 1.0)   # too soon
    env("1.5 MiB of packages fetched, 0 linked, 2 s", 2.5)   # printed: 2 s after the first
    env("1.5 MiB of packages fetched, 0 linked, 2 s", 5.0)   # the same text again: never twice
    env("1.5 MiB of packages fetched, 3 linked, 5 s", 5.5)   # printed
    env("", 9.0)                                             # no text: nothing
    assert out.getvalue().splitlines() == [
        "    0.0 MiB of packages fetched, 0 linked, 0 s",
        "    1.5 MiB of packages fetched, 0 linked, 2 s",
        "    1.5 MiB of packages fetched, 3 linked, 5 s",
    ]


def _linux_plan(*shells: str) -> InstallPlan:
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), init_shells=shells)


def test_undo_prints_each_change_once(isolated_home, tmp_path):
    (isolated_home / ".bashrc").write_text("mine\n")
    shell_setup.apply(_linux_plan("bash", "zsh"), tmp_path / "mc", RecordingReporter(), environ={})
    out = io.StringIO()
    assert silent.undo_shell_changes(out=out) == 0
    text = out.getvalue()
    assert text.count(f"{isolated_home / '.bashrc'}: restored from the backup") == 1
    assert text.count(f"{isolated_home / '.zshrc'}: deleted (the wizard had created it)") == 1
    assert "2 change(s) reversed" in text
    assert (isolated_home / ".bashrc").read_text() == "mine\n" and not (isolated_home / ".zshrc").exists()
    # JSON keeps the list in the final event (one log event per change, one summary)
    (isolated_home / ".bashrc").write_text("mine\n")
    shell_setup.apply(_linux_plan("bash"), tmp_path / "mc", RecordingReporter(), environ={})
    out = io.StringIO()
    assert silent.undo_shell_changes(json_events=True, out=out) == 0
    evs = events(out.getvalue())
    assert [e["event"] for e in evs] == ["log", "finished"]
    assert "restored from the backup" in evs[-1]["message"]


def test_undo_of_an_edited_file_the_wizard_created_explains_it(isolated_home, tmp_path, capsys):
    shell_setup.apply(_linux_plan("bash"), tmp_path / "mc", RecordingReporter(), environ={})
    bashrc = isolated_home / ".bashrc"
    with bashrc.open("a") as fh:
        fh.write("alias ll='ls -l'\n")
    edited = bashrc.read_bytes()
    code = silent.undo_shell_changes(out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 8 and bashrc.read_bytes() == edited
    assert f"{bashrc} was created by the wizard" in err and "edited since" in err
    assert ".bak" not in err
    assert "conda initialize block" in err and "conda init --reverse bash" in err

