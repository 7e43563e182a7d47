"""app.core.shell_verify: after the block is written, real bash, zsh and fish are started as a new terminal
(``-ic 'type conda'``) in a scratch environment, and must find the installed stand-in Miniconda's conda.

The home of these tests has spaces, both quotes, ``$`` and non-ASCII characters in its path (issue 11, "Done
when"); the prefix is a safe path elsewhere (unsafe prefixes are refused at the plan). Tests that need zsh or fish
skip without it; CI installs both (build_scripts/install_system_deps.sh).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core import shell_setup, shell_verify
from app.core.errors import ShellSetupError, Stage
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.rc_block import BEGIN_MARKER, rc_file

LINUX = PlatformInfo("Linux", "x86_64")
ODD_HOME = "h o'm\"e $HOME `x` é中"
ALL = ("bash", "zsh", "fish")


def need(*names: str):
    missing = [n for n in names if shutil.which(n) is None]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed (CI installs it)")


@pytest.fixture
def odd_home(tmp_path) -> Path:
    home = tmp_path / ODD_HOME
    home.mkdir()
    return home


@pytest.fixture
def journal(tmp_path) -> Path:
    return tmp_path / "state" / "changes.json"


def environ_for(home: Path) -> dict[str, str]:
    # What a user's session has; PATH without the prefix, XDG_CONFIG_HOME inside the odd home.
    return {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "XDG_CONFIG_HOME": str(home / ".config")}


def set_up(shells, prefix, home, journal, reporter=None):
    plan = InstallPlan(platform=LINUX, init_shells=tuple(shells))
    env = environ_for(home)
    rec = reporter or RecordingReporter()
    changes = shell_setup.apply(plan, prefix, rec, home=home, environ=env, journal_path=journal)
    proofs = shell_setup.prove(plan, prefix, changes, rec, home=home, environ=env, journal_path=journal)
    return changes, proofs, rec


@need("bash", "zsh", "fish")
def test_every_shell_proves_conda_works_in_an_odd_home(odd_home, journal, standin_prefix):
    changes, proofs, rec = set_up(ALL, standin_prefix, odd_home, journal)
    assert [c.path for c in changes] == [odd_home / ".bashrc", odd_home / ".zshrc",
                                         odd_home / ".config" / "fish" / "config.fish"]
    assert [(p.shell, p.status) for p in proofs] == [("bash", "works"), ("zsh", "works"), ("fish", "works")]
    conda = standin_prefix / "bin" / "conda"
    for p in proofs:  # the stand-in hook puts PREFIX/bin first; type conda then names that file
        assert p.detail in (f"conda is {conda}", f"conda is hashed ({conda})", f"{conda}"), p
        assert p.command[-1] == "type conda"
    infos = [v for _s, k, v in rec.of("info") if k == "shell_proof"]
    assert [(i["shell"], i["status"]) for i in infos] == [("bash", "works"), ("zsh", "works"), ("fish", "works")]
    assert any(line.startswith("fish: conda works in new terminals") for _s, line, _lv in rec.of("log"))


@need("bash", "zsh")
def test_bash_and_zsh_prove_the_block_in_an_odd_home(odd_home, journal, standin_prefix):
    _c, proofs, _r = set_up(("bash", "zsh"), standin_prefix, odd_home, journal)
    assert [(p.shell, p.status, p.block_at_fault) for p in proofs] == [("bash", "works", False),
                                                                      ("zsh", "works", False)]


def test_without_the_block_the_same_proof_fails(odd_home, standin_prefix):
    # The proof can fail: with no rc file, bash in the scratch environment does not find conda.
    proof = shell_verify.prove("bash", standin_prefix, odd_home / ".bashrc", home=odd_home,
                               environ=environ_for(odd_home))
    assert proof.status == "failed" and "conda" in proof.stderr_tail
    assert proof.block_at_fault is False  # the block works on its own; the (missing) rc file is at fault


@need("bash")
def test_rc_file_that_returns_early_fails_with_a_warning_not_an_error(odd_home, journal, standin_prefix):
    (odd_home / ".bashrc").write_text("return 0\n", encoding="utf-8")
    changes, [proof], rec = set_up(("bash",), standin_prefix, odd_home, journal)
    assert proof.status == "failed" and not proof.block_at_fault
    assert "works on its own, so something else in" in proof.detail
    assert any(lv == "warning" and line.startswith("bash: conda does NOT work") for _s, line, lv in rec.of("log"))
    assert BEGIN_MARKER in (odd_home / ".bashrc").read_text()  # the block stays: the user's line is at fault


@need("bash")
def test_block_that_cannot_work_is_an_error_and_is_undone(odd_home, journal, tmp_path):
    prefix = tmp_path / "broken-miniconda3"  # bin/conda is there, but its hook sets nothing up
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "conda").write_text("#!/bin/sh\necho true\n", encoding="utf-8")
    (prefix / "bin" / "conda").chmod(0o755)
    (odd_home / ".bashrc").write_text("export KEEP=1\n", encoding="utf-8")
    with pytest.raises(ShellSetupError) as err:
        set_up(("bash",), prefix, odd_home, journal)
    assert err.value.exit_code == 8
    assert "does not make conda available even on its own" in err.value.message
    assert "were undone" in err.value.message and "Reinstall Miniconda" in err.value.fix
    assert (odd_home / ".bashrc").read_text() == "export KEEP=1\n"


@need("bash")
def test_prefix_without_conda_is_a_warning_for_the_install_step(odd_home, journal, tmp_path):
    prefix = tmp_path / "empty-miniconda3"
    changes, [proof], rec = set_up(("bash",), prefix, odd_home, journal)
    assert proof.status == "failed" and not proof.block_at_fault
    assert f"there is no conda at {prefix / 'bin' / 'conda'}: the install in {prefix} is incomplete" in proof.detail
    assert BEGIN_MARKER in (odd_home / ".bashrc").read_text()


def test_missing_shell_is_reported_not_run(odd_home, standin_prefix, monkeypatch):
    monkeypatch.setattr(shell_verify.shells, "installed", lambda shell, environ=None: None)
    proof = shell_verify.prove("fish", standin_prefix, None, home=odd_home, environ={})
    assert (proof.status, proof.command) == ("missing", ())
    assert proof.describe() == ("fish: not installed here, so not checked (fish is not installed; the block is "
                                "written and will work when it is)")


def test_scratch_env_has_no_conda_no_prefix_and_a_utf8_locale(odd_home, tmp_path):
    prefix = tmp_path / "mc"
    user = {"HOME": "/elsewhere", "PATH": f"{prefix}/bin:/usr/bin", "CONDA_EXE": "/old/bin/conda",
            "CONDA_SHLVL": "2", "BASH_ENV": "/x", "ZDOTDIR": "/z", "LANG": "C", "PYTHONPATH": "/p"}
    env = shell_verify.scratch_env(odd_home, str(prefix / "bin" / "bash"), prefix, user)
    assert env["HOME"] == str(odd_home) and env["ZDOTDIR"] == "/z" and env["LC_CTYPE"] == "C.UTF-8"
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"  # the shell's own folder is inside the prefix: left out
    assert not [k for k in env if k.startswith("CONDA_") or k in ("BASH_ENV", "ENV", "PYTHONPATH")]
    assert env["PYTHONUTF8"] == "1"


def test_proof_argv_are_lists_per_shell():
    assert shell_verify.proof_argv("bash", "/bin/bash") == ["/bin/bash", "-ic", "type conda"]
    assert shell_verify.proof_argv("zsh", "/bin/zsh") == ["/bin/zsh", "-ic", "type conda"]
    assert shell_verify.proof_argv("fish", "/bin/fish") == ["/bin/fish", "-i", "-c", "type conda"]
    # macOS: the block is in ~/.bash_profile, which only a login shell reads (Terminal.app starts those)
    assert shell_verify.proof_argv("bash", "/bin/bash", "MacOSX") == ["/bin/bash", "-lic", "type conda"]
    assert shell_verify.proof_argv("zsh", "/bin/zsh", "MacOSX") == ["/bin/zsh", "-ic", "type conda"]


@need("bash")
def test_macos_bash_proof_reads_bash_profile(odd_home, journal, standin_prefix):
    plan = InstallPlan(platform=PlatformInfo("MacOSX", "arm64"), init_shells=("bash",))
    env = environ_for(odd_home)
    rec = RecordingReporter()
    changes = shell_setup.apply(plan, standin_prefix, rec, home=odd_home, environ=env, journal_path=journal)
    assert changes[0].path == odd_home / ".bash_profile"
    [proof] = shell_setup.prove(plan, standin_prefix, changes, rec, home=odd_home, environ=env, journal_path=journal)
    assert (proof.status, proof.command[1:]) == ("works", ("-lic", "type conda"))


def test_pipeline_step_returns_and_reports_the_proofs(isolated_home, tmp_path, standin_prefix, monkeypatch):
    from app.core import pipeline
    from app.core.events import CancelToken
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    plan = InstallPlan(platform=LINUX, init_shells=("bash",), prefix=standin_prefix)
    state = pipeline.RunState()
    rec = RecordingReporter()
    result = pipeline.run_step(Stage.SHELL, plan, state, rec, CancelToken())
    assert [(p.shell, p.status) for p in state.shell_proofs] == [("bash", "works")]
    assert result.data["proofs"][0]["status"] == "works"
    assert result.data["proofs"][0]["rc_file"] == str(rc_file("bash", "Linux", isolated_home, {}))
