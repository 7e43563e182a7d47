"""``--if-exists reuse|update|repair`` (issue 11): the cheap retry after a failed env or GPU step, and the repair
of an installation a killed run left half made. Real ``python -m app --silent`` runs with the stand-in
installer and conda; the decisions themselves are also tested in this process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from app.core import existing, installer, manifest
from app.core.errors import PrefixError
from app.core.plan import InstallPlan

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, home: Path, extra_env: dict[str, str] | None = None, timeout: float = 240):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
                "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _install_args(installer_file: Path, prefix: Path, tmp_path: Path) -> list[str]:
    return ["--silent", "--installer-file", str(installer_file), "--prefix", str(prefix), "--accept-tos",
            "--init-shells", "bash", "--gpu-steps", "5", "--download-dir", str(tmp_path / "dl")]


@pytest.mark.slow
def test_reuse_after_failed_env_step_reaches_the_gpu_check_without_the_installer(tmp_path, isolated_home,
                                                                                 standin_installer):
    prefix = tmp_path / "miniconda3"
    args = _install_args(standin_installer, prefix, tmp_path)
    first = run_cli(*args, home=isolated_home, extra_env={"STANDIN_CONDA_CREATE_FAIL": "CondaError: disk on fire"})
    assert first.returncode == 9, first.stdout[-2000:] + first.stderr[-2000:]
    # the plain retry is refused (the location is taken) and the fix names the cheap route
    again = run_cli(*args, home=isolated_home)
    assert again.returncode == 6
    assert "--if-exists reuse" in again.stderr and "already holds a conda installation" in again.stderr
    # the retry with --if-exists reuse: no installer (its pid file would be written), a finished GPU check
    pid_file = tmp_path / "installer.pid"
    res = run_cli(*args, "--if-exists", "reuse", "--json", home=isolated_home,
                  extra_env={"STANDIN_INSTALL_DELAY": "0.01", "STANDIN_PID_FILE": str(pid_file)})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    evs = events(res.stdout)
    finished = {e["stage"]: e for e in evs if e["event"] == "stage_finished"}
    assert list(finished) == ["catalog", "download", "install", "shell", "env", "gpu_check"]
    assert finished["catalog"]["data"] == {"skipped": True, "reason": "reuse"}
    assert finished["download"]["data"] == {"skipped": True, "reason": "reuse"}
    assert finished["install"]["data"]["reused"] is True
    assert finished["install"]["summary"] == "reused conda 26.7.2.dev56 in " + str(prefix)
    assert finished["gpu_check"]["summary"].startswith("CPU only: ")  # the verdict of a finished check here
    assert not pid_file.exists()  # the stand-in installer writes it as soon as it starts
    assert not any("Running: bash" in e.get("line", "") for e in evs)
    assert evs[-1]["event"] == "finished" and evs[-1]["exit_code"] == 0
    m = manifest.load(prefix)
    assert m is not None and m.made_by_us and [u["how"] for u in m.updates] == ["reuse"]
    assert [e["name"] for e in m.envs] == ["llm"]


@pytest.mark.slow
def test_reuse_after_failed_gpu_check_exit_11(tmp_path, isolated_home, standin_installer):
    prefix = tmp_path / "miniconda3"
    args = [*_install_args(standin_installer, prefix, tmp_path), "--preset", "minimal"]  # no pip step
    first = run_cli(*args, home=isolated_home, extra_env={"STANDIN_CONDA_ENV_WITHOUT_TORCH": "1"})
    assert first.returncode == 11, first.stdout[-2000:] + first.stderr[-2000:]
    res = run_cli(*args, "--if-exists", "reuse", "--if-env-exists", "replace", home=isolated_home,
                  extra_env={"STANDIN_INSTALL_DELAY": "0.01", "STANDIN_PID_FILE": str(tmp_path / "pid")})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "reused conda 26.7.2.dev56" in res.stdout and not (tmp_path / "pid").exists()


def _conda_root(prefix: Path) -> Path:
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    (prefix / "bin" / "conda").write_text("#!/bin/sh\necho conda 24.7.1\n")
    (prefix / "bin" / "conda").chmod(0o755)
    return prefix


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def _killed_install(prefix: Path) -> None:
    """What a run killed while the installer ran leaves: a half-made prefix and the in-progress marker."""
    (prefix / "pkgs").mkdir(parents=True)
    (prefix / "pkgs" / "half.tar.bz2").write_bytes(b"x" * 10)
    marker = installer.in_progress_marker(prefix)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"prefix": str(prefix), "pid": _dead_pid(), "started": "2026-11-30 05:00:00",
                                  "create_time": 1.0}))


def test_decide_for_each_mode(tmp_path):
    new = InstallPlan(prefix=tmp_path / "new", if_exists="reuse")
    assert existing.decide(new) == "install"  # every mode installs into a new location
    conda = _conda_root(tmp_path / "mc")
    assert existing.decide(InstallPlan(prefix=conda, if_exists="reuse")) == "reuse"
    assert existing.decide(InstallPlan(prefix=conda, if_exists="fail")) == "install"  # the installer check refuses
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"1")
    with pytest.raises(PrefixError) as err:
        existing.decide(InstallPlan(prefix=other, if_exists="reuse"))
    assert "is not a conda installation" in err.value.message and err.value.exit_code == 6
    with pytest.raises(PrefixError) as err:
        existing.decide(InstallPlan(prefix=conda, if_exists="repair"))
    assert "was not installed by miniconda-wizard" in err.value.message
    assert "--if-exists update" in err.value.fix
    assert (conda / "bin" / "conda").exists()  # nothing was removed


def test_partial_prefix_of_a_killed_run(tmp_path):
    prefix = tmp_path / "miniconda3"
    _killed_install(prefix)
    with pytest.raises(PrefixError) as err:
        existing.decide(InstallPlan(prefix=prefix, if_exists="reuse"))
    assert "incomplete installation" in err.value.message and "--if-exists repair" in err.value.fix
    with pytest.raises(PrefixError) as err:  # --update-existing: the installer check, with repair named in the fix
        existing.check_prefix(InstallPlan(prefix=prefix, update_existing=True))
    assert "incomplete installation" in err.value.message
    assert err.value.fix.startswith("Repair it: run again with --if-exists repair")
    assert existing.decide(InstallPlan(prefix=prefix, if_exists="repair")) == "reinstall"
    existing.remove_incomplete(prefix)
    assert not prefix.exists() and not installer.in_progress_marker(prefix).exists()


@pytest.mark.slow
def test_repair_reinstalls_a_killed_install_of_ours_and_refuses_a_foreign_one(tmp_path, isolated_home,
                                                                               standin_installer):
    prefix = tmp_path / "miniconda3"
    _killed_install(prefix)
    base = ["--silent", "--installer-file", str(standin_installer), "--prefix", str(prefix), "--no-env",
            "--no-shell-init"]
    res = run_cli(*base, "--update-existing", home=isolated_home)
    assert res.returncode == 6 and "--if-exists repair" in res.stderr, res.stderr
    res = run_cli(*base, "--if-exists", "repair", home=isolated_home)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "removing the incomplete installation and installing again" in res.stdout
    assert (prefix / "bin" / "conda").exists() and not (prefix / "pkgs" / "half.tar.bz2").exists()
    assert manifest.load(prefix).made_by_us and manifest.marker_path(prefix).exists()
    foreign = tmp_path / "theirs"
    (foreign / "pkgs").mkdir(parents=True)
    (foreign / "pkgs" / "keep.txt").write_text("mine")
    res = run_cli("--silent", "--installer-file", str(standin_installer), "--prefix", str(foreign), "--no-env",
                  "--no-shell-init", "--if-exists", "repair", home=isolated_home)
    assert res.returncode == 6 and "was not installed by miniconda-wizard" in res.stderr, res.stderr
    assert (foreign / "pkgs" / "keep.txt").read_text() == "mine"


def test_update_existing_is_an_alias_and_conflicts_are_usage_errors(tmp_path):
    args = cli.build_parser().parse_args(["--if-exists", "update"])
    assert cli.plan_from_args(args).update_existing is True
    args = cli.build_parser().parse_args(["--update-existing", "--if-exists", "update"])
    plan = cli.plan_from_args(args)
    assert plan.update_existing and existing.mode(plan) == "update"
    args = cli.build_parser().parse_args(["--update-existing", "--if-exists", "reuse"])
    with pytest.raises(cli.UsageError) as err:
        cli.plan_from_args(args)
    assert "--update-existing and --if-exists reuse cannot be used together" in err.value.message
    cfg = tmp_path / "a.toml"
    cfg.write_text('if_exists = "reuse"\nupdate_existing = true\n')
    plan = cli.plan_from_args(cli.build_parser().parse_args(["--config", str(cfg)]))
    assert any("contradicts" in p for p in plan.problems())
    cfg.write_text('if_exists = "reuse"\n')
    notes: list[str] = []
    values = cli.explicit_values(cli.build_parser().parse_args(["--config", str(cfg), "--update-existing"]), notes)
    assert values["if_exists"] == "update" and "overrides if_exists = 'reuse'" in notes[0]
    cfg.write_text('if_exists = "sometimes"\n')
    plan = cli.plan_from_args(cli.build_parser().parse_args(["--config", str(cfg)]))
    assert any("must be one of fail, reuse, update, repair, not 'sometimes'" in p for p in plan.problems())


def test_dry_run_of_reuse_names_no_installer(tmp_path, isolated_home):
    prefix = _conda_root(tmp_path / "mc")
    res = run_cli("--dry-run", "--prefix", str(prefix), "--if-exists", "reuse", "--no-env", "--no-shell-init",
                  home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert f"Installer: none: the installation in {prefix} is reused as it is." in res.stdout
    assert "If it exists:    reuse" in res.stdout


def test_reuse_of_a_conda_that_does_not_answer_is_exit_7(tmp_path, isolated_home):
    prefix = _conda_root(tmp_path / "mc")
    (prefix / "bin" / "conda").write_text("#!/bin/sh\necho 'Traceback: broken' >&2\nexit 1\n")
    res = run_cli("--silent", "--prefix", str(prefix), "--if-exists", "reuse", "--no-env", "--no-shell-init",
                  home=isolated_home)
    assert res.returncode == 7, res.stdout[-2000:] + res.stderr[-2000:]
    assert f"{prefix / 'bin' / 'conda'} --version failed (exit code 1)" in res.stderr
    assert "Running: bash" not in res.stdout
