"""Silent mode end to end, through the real command line: local mirror -> stand-in installer -> env -> training.

Each run is a real ``python -m app --silent`` child process with its own HOME, so
nothing here mocks the engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    res = run_cli("--undo-shell-changes", home=isolated_home)
    assert res.returncode == 0 and "Nothing" in res.stdout
