"""Which shells step 4 sets up (app.core.shells): the ``auto`` default, unsupported login shells, the
rc file per shell per OS in the summary, and validation of ``init_shells``.

Real files in a temporary HOME, real bash/zsh where a shell is run. What a machine "has" is set per
test: ``PATH`` (a folder with links to the real shells), ``/etc/shells`` (a temporary copy, through
``shells.ETC_SHELLS``) and the user database's login shell (``shells.passwd_shell``, which cannot be
changed here without editing /etc/passwd).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import cli
from app.core import pipeline, shells
from app.core.errors import Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.rc_block import BEGIN_MARKER, conda_block, rc_file, rc_file_label
from app.core.shell_setup import apply, summarize

LINUX = PlatformInfo("Linux", "x86_64")
MAC = PlatformInfo("MacOSX", "arm64")


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("ZDOTDIR", raising=False)
    return h


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine with only the shells a test gives it: ``machine(*names)`` returns the environ (PATH)."""
    etc_shells = tmp_path / "etc-shells"
    etc_shells.write_text("# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/dash\n")
    monkeypatch.setattr(shells, "ETC_SHELLS", etc_shells)
    monkeypatch.setattr(shells, "passwd_shell", lambda: "/bin/bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()

    def make(*names: str, **environ: str) -> dict[str, str]:
        for name in names:
            real = shutil.which(name)
            link = bin_dir / name
            if real:
                link.symlink_to(real)
            else:  # only found, never run: no test that runs it gets here without the shell
                link.write_text("#!/bin/sh\nexit 0\n")
                link.chmod(0o755)
        return {"PATH": str(bin_dir), **environ}

    return make


@pytest.fixture
def journal(tmp_path):
    return tmp_path / "state" / "changes.json"


@pytest.fixture
def prefix(tmp_path):
    return tmp_path / "miniconda3"


def run(plan, prefix, journal, home, environ, reporter=None):
    return apply(plan, prefix, reporter or RecordingReporter(), home=home, environ=environ, journal_path=journal)


def infos(rec: RecordingReporter, level: str = "info") -> list[str]:
    return [line for _s, line, lv in rec.of("log") if lv == level]


# ---- the default is auto ---------------------------------------------------------------------------


def test_default_is_auto_whatever_shell_is():
    assert InstallPlan(platform=LINUX).init_shells == ("auto",)
    assert not [p for p in InstallPlan(platform=LINUX).problems() if "shell" in p]


@pytest.mark.parametrize("shell_var", [None, "/bin/sh"])  # cron, systemd, MDM
def test_no_login_shell_sets_up_every_shell_the_user_has(home, prefix, journal, machine, shell_var):
    (home / ".bashrc").write_text("# mine\n")
    (home / ".zshrc").write_text("# zsh user\n")
    environ = machine("bash") if shell_var is None else machine("bash", SHELL=shell_var)
    rec = RecordingReporter()
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ, rec)
    assert [(c.path, c.action, c.shell) for c in changes] == [
        (home / ".bashrc", "added", "bash"), (home / ".zshrc", "added", "zsh")]
    assert (home / ".zshrc").read_text() == "# zsh user\n\n" + conda_block(prefix, "zsh") + "\n"
    lines = infos(rec)
    assert f"$SHELL is {shell_var or 'not set'} (as under cron, systemd or device management)" in lines[0]
    assert lines[1] == ("Setting up conda for bash (~/.bashrc: your login shell; your login shell in the user "
                        "database is /bin/bash), zsh (~/.zshrc: ~/.zshrc exists).")
    assert summarize(changes) == "bash, zsh: 2 file(s) changed"


def test_installed_zsh_without_rc_is_set_up(home, prefix, journal, machine):
    environ = machine("bash", "zsh", SHELL="/bin/sh")
    rec = RecordingReporter()
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ, rec)
    assert [c.shell for c in changes] == ["bash", "zsh"]
    assert BEGIN_MARKER in (home / ".zshrc").read_text()
    assert f"zsh (~/.zshrc: zsh is installed ({Path(environ['PATH']) / 'zsh'}))" in infos(rec)[1]


def test_zsh_listed_in_etc_shells_counts_as_installed(home, prefix, journal, machine, tmp_path):
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    environ = machine("bash")  # not on PATH
    shells.ETC_SHELLS.write_text(f"/bin/sh\n{shutil.which('zsh')}\n/opt/nothing/zsh\n")
    assert shells.installed("zsh", environ) == shutil.which("zsh")
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ)
    assert [c.shell for c in changes] == ["bash", "zsh"]


def test_zsh_from_the_user_database_when_shell_is_sh(home, prefix, journal, machine, monkeypatch):
    monkeypatch.setattr(shells, "passwd_shell", lambda: "/usr/bin/zsh")
    environ = machine("bash", SHELL="/bin/sh")  # zsh neither on PATH nor in /etc/shells
    rec = RecordingReporter()
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ, rec)
    assert [c.shell for c in changes] == ["bash", "zsh"]
    assert "zsh (~/.zshrc: your login shell; your login shell in the user database is /usr/bin/zsh)" in infos(rec)[1]


def test_missing_zsh_is_reported_as_skipped(home, prefix, journal, machine):
    environ = machine("bash", SHELL="/bin/bash")
    rec = RecordingReporter()
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ, rec)
    assert [c.shell for c in changes] == ["bash"]
    assert "Not setting up zsh: zsh is not installed and there is no ~/.zshrc." in infos(rec)
    assert not (home / ".zshrc").exists()


def test_zdotdir_rc_file_counts(home, prefix, journal, machine, tmp_path):
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    (zdot / ".zshenv").write_text("export X=1\n")
    environ = machine("bash", SHELL="/bin/bash", ZDOTDIR=str(zdot))
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ)
    assert [c.path for c in changes] == [home / ".bashrc", zdot / ".zshrc"]


def test_explicit_bash_means_exactly_bash(home, prefix, journal, machine):
    (home / ".zshrc").write_text("# mine\n")
    environ = machine("bash", "zsh", SHELL="/usr/bin/zsh")
    rec = RecordingReporter()
    plan = cli.plan_from_values({"platform": "Linux-x86_64", "init_shells": "bash"})
    changes = run(plan, prefix, journal, home, environ, rec)
    assert [c.path for c in changes] == [home / ".bashrc"]
    assert (home / ".zshrc").read_text() == "# mine\n"
    assert ("Not setting up zsh: not chosen, although it is your login shell ($SHELL is /usr/bin/zsh)."
            in infos(rec))


def test_auto_with_both_rc_files_the_same_sets_up_one(home, prefix, journal, machine):
    (home / ".bashrc").write_text("shared\n")
    (home / ".zshrc").symlink_to(home / ".bashrc")
    rec = RecordingReporter()
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, machine("bash", SHELL="/bin/bash"), rec)
    assert [c.shell for c in changes] == ["bash"]
    assert (home / ".bashrc").read_text().count(BEGIN_MARKER) == 1
    assert any(line.startswith("Not setting up zsh:") and "same file" in line for line in infos(rec))


def test_auto_again_changes_nothing(home, prefix, journal, machine):
    environ = machine("bash", "zsh", SHELL="/bin/sh")
    run(InstallPlan(platform=LINUX), prefix, journal, home, environ)
    again = run(InstallPlan(platform=LINUX), prefix, journal, home, environ)
    assert [(c.shell, c.action) for c in again] == [("bash", "unchanged"), ("zsh", "unchanged")]
    assert summarize(again) == "bash, zsh: nothing to change"


# ---- login shells the wizard cannot set up ---------------------------------------------------------


@pytest.mark.parametrize("login,advice", [
    ("/bin/tcsh", "init tcsh"),
    ("/bin/csh", "init tcsh"),
    ("/usr/bin/xonsh", "init xonsh"),
    ("/usr/bin/pwsh", "init powershell"),
    ("/usr/bin/nu", None),
])
def test_unsupported_login_shell_is_warned_about(home, prefix, journal, machine, login, advice):
    name = Path(login).name
    environ = machine("bash", SHELL=login)
    rec = RecordingReporter()
    changes = run(InstallPlan(platform=LINUX), prefix, journal, home, environ, rec)
    [warning] = infos(rec, "warning")
    assert warning.startswith(f"Your login shell is {name} ($SHELL is {login}), which the wizard cannot set up (it sets up bash, zsh and fish only)")
    assert f"'conda' will not work in new {name} terminals" in warning
    if advice:
        assert f"after the install, run: {prefix / 'bin' / 'conda'} {advice}" in warning
    else:
        assert f"conda init does not support nu; add {prefix / 'bin'} to PATH" in warning
    assert [c.shell for c in changes] == ["bash", name]
    skipped = changes[-1]
    assert (skipped.action, skipped.changed, skipped.path, skipped.entries) == ("skipped", False, Path(name), ())
    assert skipped.describe().startswith(f"{name}: not set up: the wizard cannot set up {name};")
    assert summarize(changes).startswith(f"bash: 1 file(s) changed; not set up: {name} (the wizard cannot set up {name};")


def test_tcsh_warning_reaches_the_stage_result(home, prefix, journal, machine, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    monkeypatch.setenv("PATH", machine("bash")["PATH"])
    plan = InstallPlan(platform=LINUX, prefix=prefix)
    rec = RecordingReporter()
    state = pipeline.RunState()
    result = pipeline.run_step(Stage.SHELL, plan, state, rec, CancelToken())
    assert "; not set up: tcsh (the wizard cannot set up tcsh; after the install, run: " in result.summary
    assert any(f"{prefix / 'bin' / 'conda'} init tcsh" in c for c in result.data["changes"])
    assert any(lv == "warning" and "tcsh" in line for _s, line, lv in rec.of("log"))


def test_tcsh_chosen_explicitly_is_refused_before_anything(capsys, tmp_path):
    code = cli.main(["--silent", "--dry-run", "--init-shells", "tcsh", "--prefix", str(tmp_path / "mc")])
    captured = capsys.readouterr()
    err = captured.err + captured.out
    assert code == 2
    assert "the wizard cannot set up tcsh" in err
    assert f"{tmp_path / 'mc' / 'bin' / 'conda'} init tcsh" in err
    assert "--init-shells auto" in err


@pytest.mark.parametrize("value,needle", [
    (["bash", "tcsh"], "cannot set up tcsh; it sets up bash, zsh, fish, powershell, cmd"),
    (["ksh"], "cannot set up the shell 'ksh'; use bash, zsh, fish, powershell, cmd, auto or none"),
    (["none", "bash"], "'none' cannot be combined with other shells"),
    (["cmd.exe"], "write 'cmd' for 'cmd.exe'"),
    (["pwsh"], "write 'powershell' for 'pwsh'"),
])
def test_unsupported_shells_are_refused_by_validation(value, needle):
    problems = InstallPlan(platform=LINUX).apply({"init_shells": value}).problems()
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize("value", [["auto"], ["bash", "zsh"], ["auto", "bash"], [], ["fish"], ["none"],
                                   ["bash", "zsh", "fish", "powershell", "cmd"], ["auto", "cmd"]])
def test_valid_shell_choices(value):
    assert not [p for p in InstallPlan(platform=LINUX).apply({"init_shells": value}).problems() if "shell" in p]


def test_apply_refuses_an_unknown_shell_given_directly(home, prefix, journal, machine):
    from app.core.errors import ShellSetupError

    with pytest.raises(ShellSetupError) as err:
        run(InstallPlan(platform=LINUX, init_shells=("bash", "tcsh")), prefix, journal, home, machine("bash"))
    assert "init tcsh" in err.value.message and not (home / ".bashrc").exists()


# ---- one place says which file each shell uses --------------------------------------------------


def test_rc_file_label_per_os(tmp_path):
    assert rc_file_label("bash", "Linux", tmp_path, {}) == "~/.bashrc"
    assert rc_file_label("bash", "MacOSX", tmp_path, {}) == "~/.bash_profile"
    assert rc_file_label("zsh", "MacOSX", tmp_path, {}) == "~/.zshrc"
    assert rc_file_label("zsh", "Linux", tmp_path, {"ZDOTDIR": "/etc/zdot"}) == "/etc/zdot/.zshrc"
    assert rc_file_label("zsh", "Linux", tmp_path, {"ZDOTDIR": str(tmp_path / "z")}) == "~/z/.zshrc"


def test_macos_summary_names_bash_profile(isolated_home, tmp_path):
    plan = InstallPlan(platform=MAC, init_shells=("bash", "zsh"), prefix=tmp_path / "mc")
    line = next(x for x in plan.summary().splitlines() if x.startswith("conda init:"))
    assert line == "conda init:      bash (~/.bash_profile), zsh (~/.zshrc)"
    linux = InstallPlan(platform=LINUX, init_shells=("bash",), prefix=tmp_path / "mc")
    assert "conda init:      bash (~/.bashrc)" in linux.summary()
    # The engine writes the very file the summary names.
    changes = apply(plan, tmp_path / "mc", RecordingReporter(), environ={}, journal_path=tmp_path / "j.json")
    assert [c.path for c in changes] == [rc_file("bash", "MacOSX"), rc_file("zsh", "MacOSX")]
    assert changes[0].path == isolated_home / ".bash_profile"


def test_dry_run_summary_lists_auto_choice_and_tcsh(isolated_home, tmp_path, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    monkeypatch.setattr(shells, "installed", lambda shell, environ=None: None)  # only the rc files decide
    (isolated_home / ".zshrc").write_text("# mine\n")
    prefix = tmp_path / "mc"
    plan = cli.plan_from_values({"platform": "Linux-x86_64", "prefix": str(prefix)})
    lines = plan.summary().splitlines()  # the text --dry-run and the wizard's summary show
    i = next(n for n, x in enumerate(lines) if x.startswith("conda init:"))
    assert lines[i].startswith("conda init:      zsh (~/.zshrc)  (auto: ")
    assert lines[i + 1] == "                 not set up: bash: bash is not installed and there is no ~/.bashrc"
    assert lines[i + 2] == "                 not set up: fish: fish is not installed and there is no ~/.config/fish/config.fish"
    assert lines[i + 3] == f"                 not set up: tcsh: after the install, run: {prefix / 'bin' / 'conda'} init tcsh"
    assert not (isolated_home / ".bashrc").exists()  # a dry run writes nothing


def test_summary_without_shells_says_none(tmp_path):
    plan = InstallPlan(platform=LINUX, init_shells=(), prefix=tmp_path / "mc")
    assert "conda init:      none" in plan.summary()


def test_syntax_check_reports_the_line(tmp_path):
    bad = tmp_path / "rc"
    bad.write_text("echo ok\nif true; then\n")
    result = shells.check_syntax("bash", bad, {})
    assert result is not None and not result.ok and "line 3" in result.message
    bad.write_text("echo ok\n")
    assert shells.check_syntax("bash", bad, {}) == shells.SyntaxResult(True)
    assert shells.check_syntax("no-such-shell", bad, {"PATH": str(tmp_path)}) is None


def test_unsupported_message_names_source():
    text = shells.unsupported_message("tcsh", "/opt/mc", "$SHELL is /bin/tcsh")
    assert text == ("Your login shell is tcsh ($SHELL is /bin/tcsh), which the wizard cannot set up "
                    "(it sets up bash, zsh and fish only), so 'conda' will not work in new tcsh terminals. "
                    "To set it up: after the install, run: /opt/mc/bin/conda init tcsh")


def test_write_config_keeps_auto_implicit(tmp_path):
    out = tmp_path / "answers.toml"
    assert cli.main(["--write-config", str(out), "--env-name", "x"]) == 0
    assert "init_shells" not in out.read_text()


# ---- against the real conda init recordings ---------------------------------------------------------

DATA = Path(__file__).parent / "data" / "shell"


def test_zsh_block_is_byte_identical_to_real_conda_init_zsh(home, journal, machine):
    expected = (DATA / "zshrc-after-conda-init-zsh.sh").read_bytes()
    prefix = Path("/home/user/miniconda3")  # the recording's root prefix
    run(InstallPlan(platform=LINUX, init_shells=("zsh",)), prefix, journal, home, machine("zsh"))
    assert (home / ".zshrc").read_bytes() == expected


def test_real_conda_init_zsh_modified_the_file_rc_file_names():
    lines = (DATA / "conda-init-zsh.txt").read_text().splitlines()
    [modified] = [x.split()[-1] for x in lines if x.startswith("modified")]
    assert Path(modified) == rc_file("zsh", "Linux", Path("/home/user/scratch-init"), {})


@pytest.mark.parametrize("login,script", [
    ("tcsh", "etc/profile.d/conda.csh"),
    ("xonsh", "xontrib/conda.xsh"), ("pwsh", "shell/condabin/conda-hook.ps1"),
])
def test_advice_for_shells_real_conda_init_supports(login, script):
    recorded = (DATA / "conda-init-zsh.txt").read_text()
    assert script in recorded  # a Miniconda prefix ships the script `conda init <shell>` hooks in
    assert shells.manual_advice(login, "/p").startswith("after the install, run: /p/bin/conda init ")
