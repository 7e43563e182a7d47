"""fish, and the choice of shells per OS (issue 11, "Every shell, verified"): conda's own fish block in
``config.fish``, powershell/cmd accepted but skipped on Linux/macOS, ``none``, ``auto``, one block per shell
after installing twice, other tools' blocks untouched, backup and undo.

The fish block is conda's ``_config_fish_content`` (conda/conda ``conda/core/initialize.py``), written out
below as ``conda init fish`` produces it; real ``config.fish`` files with conda blocks are in
``tests/data/shell/real/fish_*`` (sources in tests/data/shell/README.md). Tests that run fish skip without it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app import cli
from app.core import shells
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.rc_block import BEGIN_MARKER, conda_block, find_blocks, _split_lines
from app.core.shell_setup import apply, summarize, undo

LINUX = PlatformInfo("Linux", "x86_64")
MAC = PlatformInfo("MacOSX", "arm64")
WINDOWS = PlatformInfo("Windows", "x86_64")
REAL = Path(__file__).parent / "data" / "shell" / "real"
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (CI installs it)")

# conda/core/initialize.py, _config_fish_content (non-Windows), with conda_prefix=/opt/mc:
CONDA_INIT_FISH = """\
# >>> conda initialize >>>
# !! Contents within this block are managed by 'conda init' !!
if test -f /opt/mc/bin/conda
    eval /opt/mc/bin/conda "shell.fish" "hook" $argv | source
else
    if test -f "/opt/mc/etc/fish/conf.d/conda.fish"
        . "/opt/mc/etc/fish/conf.d/conda.fish"
    else
        set -x PATH "/opt/mc/bin" $PATH
    end
end
# <<< conda initialize <<<
"""

MAMBA_FISH = """\
# >>> mamba initialize >>>
# !! Contents within this block are managed by 'mamba init' !!
set -gx MAMBA_EXE "/home/u/.local/bin/micromamba"
set -gx MAMBA_ROOT_PREFIX "/home/u/micromamba"
$MAMBA_EXE shell hook --shell fish --root-prefix $MAMBA_ROOT_PREFIX | source
# <<< mamba initialize <<<
"""
PYENV_FISH = "pyenv init - fish | source\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    return h


@pytest.fixture
def journal(tmp_path):
    return tmp_path / "state" / "changes.json"


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home / ".config"), **extra}


def run(shells_, prefix, home, journal, platform=LINUX, environ=None, reporter=None):
    plan = InstallPlan(platform=platform, init_shells=tuple(shells_))
    return apply(plan, Path(prefix), reporter or RecordingReporter(), home=home,
                 environ=env_for(home) if environ is None else environ, journal_path=journal)


def config_fish(home: Path) -> Path:
    return home / ".config" / "fish" / "config.fish"


def fake_prefix(root: Path) -> Path:
    """A prefix whose bin/conda answers `shell.fish hook` with fish code, as conda does."""
    (root / "bin").mkdir(parents=True)
    conda = root / "bin" / "conda"
    conda.write_text('#!/bin/sh\n[ "$1 $2" = "shell.fish hook" ] && echo "set -gx CONDA_WIZARD_HOOK fish" && exit 0\n'
                     "exit 1\n")
    conda.chmod(0o755)
    return root


# ---- the block ------------------------------------------------------------------------------------


def test_fish_block_is_conda_init_fish_text():
    assert conda_block("/opt/mc", "fish") == CONDA_INIT_FISH


def test_new_config_fish_gets_the_block_as_conda_appends_it(home, journal):
    [c] = run(["fish"], "/opt/mc", home, journal)
    assert (c.path, c.action, c.shell) == (config_fish(home), "added", "fish")
    # conda's init_fish_user: rc_content += f"\n{conda_initialize_content}\n" (and makes the folder)
    assert config_fish(home).read_text() == "\n" + CONDA_INIT_FISH + "\n"


def test_xdg_config_home_is_where_fish_reads(home, journal, tmp_path):
    xdg = tmp_path / "xdg"
    [c] = run(["fish"], "/opt/mc", home, journal, environ=env_for(home, XDG_CONFIG_HOME=str(xdg)))
    assert c.path == xdg / "fish" / "config.fish" and c.path.exists()
    assert not config_fish(home).exists()


@needs_fish
def test_fish_block_runs_in_real_fish(home, journal, tmp_path):
    prefix = fake_prefix(tmp_path / "mc")
    run(["fish"], prefix, home, journal)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home / ".config"), "TERM": "dumb"}
    out = subprocess.run(["fish", "-c", "echo $CONDA_WIZARD_HOOK"], env=env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert out.stdout.strip() == "fish", out.stderr


# ---- installing twice: one block per shell ---------------------------------------------------------


@pytest.mark.parametrize("shell,rc", [("bash", ".bashrc"), ("zsh", ".zshrc"), ("fish", ".config/fish/config.fish")])
def test_installing_twice_leaves_one_block(home, journal, shell, rc):
    (home / rc).parent.mkdir(parents=True, exist_ok=True)
    (home / rc).write_text("# mine\n")
    [first] = run([shell], "/opt/mc", home, journal)
    after_first = (home / rc).read_bytes()
    [second] = run([shell], "/opt/mc", home, journal)
    assert (first.action, second.action, second.changed, second.backup) == ("added", "unchanged", False, None)
    assert (home / rc).read_bytes() == after_first
    assert len(find_blocks(_split_lines(after_first.decode()))) == 1


def test_installing_twice_with_all_shells_leaves_one_block_each(home, journal):
    first = run(["bash", "zsh", "fish"], "/opt/mc", home, journal)
    second = run(["bash", "zsh", "fish"], "/opt/mc", home, journal)
    assert [c.action for c in first] == ["added"] * 3 and [c.action for c in second] == ["unchanged"] * 3
    for c in second:
        assert c.path.read_text().count(BEGIN_MARKER) == 1


# ---- other tools' blocks and real fish files -------------------------------------------------------


def test_mamba_and_pyenv_lines_in_config_fish_are_kept_byte_for_byte(home, journal):
    original = PYENV_FISH + "\n" + MAMBA_FISH
    config_fish(home).parent.mkdir(parents=True)
    config_fish(home).write_text(original)
    rec = RecordingReporter()
    [c] = run(["fish"], "/opt/mc", home, journal, reporter=rec)
    text = config_fish(home).read_text()
    assert text == original + "\n" + CONDA_INIT_FISH + "\n"
    assert c.backup is not None and c.backup.read_text() == original
    assert any("'mamba initialize' block at line 3 is left as is" in n for n in c.notes)


def test_older_fish_block_is_replaced_and_recognised(home, journal):
    original = (REAL / "fish_conf_d_newer_format_with_fallback__huwqchn-dotfiles.fish.txt").read_text()
    config_fish(home).parent.mkdir(parents=True)
    config_fish(home).write_text(original)
    [c] = run(["fish"], "/opt/mc", home, journal)
    assert c.action == "replaced" and config_fish(home).read_text() == CONDA_INIT_FISH
    # the same block written by us for another prefix is named as such
    [again] = run(["fish"], "/opt/other", home, journal)
    assert again.detail == "replaced the conda initialize block written for /opt/mc"


def test_commented_out_fish_body_inside_live_markers_is_replaced_like_conda(home, journal):
    original = (REAL / "fish_config_block_commented_out__the-shank-Dotfiles.fish.txt").read_text()
    config_fish(home).parent.mkdir(parents=True)
    config_fish(home).write_text(original)
    [c] = run(["fish"], "/opt/mc", home, journal)
    assert c.action == "replaced" and config_fish(home).read_text().count(BEGIN_MARKER) == 1
    assert config_fish(home).read_text() == CONDA_INIT_FISH + "\n"


@needs_fish
def test_real_block_inside_if_interactive_is_replaced_in_place_and_runs(home, journal, tmp_path):
    original = (REAL / "fish_config_block_inside_if_interactive__mgaimann-mise-en-place.fish.txt").read_text()
    config_fish(home).parent.mkdir(parents=True)
    config_fish(home).write_text(original)
    prefix = fake_prefix(tmp_path / "mc")
    [c] = run(["fish"], prefix, home, journal)
    text = config_fish(home).read_text()
    assert c.action == "replaced" and text.startswith("if status is-interactive\n") and text.endswith("\nend\n\n")
    assert text.count(BEGIN_MARKER) == 1 and conda_block(prefix, "fish") in text
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home / ".config"), "TERM": "dumb",
           "LC_CTYPE": "C.UTF-8"}
    out = subprocess.run(["fish", "-i", "-c", "echo $CONDA_WIZARD_HOOK"], env=env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert out.stdout.strip().splitlines()[-1] == "fish", out.stderr


def test_undo_deletes_a_created_config_fish_and_restores_an_edited_one(home, journal):
    created = run(["fish"], "/opt/mc", home, journal)
    undo([e for c in created for e in c.entries], None, journal_path=journal)
    assert not config_fish(home).exists()
    config_fish(home).write_text(PYENV_FISH)
    edited = run(["fish"], "/opt/mc", home, journal)
    undo([e for c in edited for e in c.entries], None, journal_path=journal)
    assert config_fish(home).read_bytes() == PYENV_FISH.encode()


def test_prefix_with_a_blank_is_refused_for_fish_only(home, journal, tmp_path):
    from app.core.errors import ShellSetupError
    with pytest.raises(ShellSetupError) as err:
        run(["bash", "fish"], tmp_path / "my conda", home, journal)
    assert "conda's fish block" in err.value.message and "leave fish out" in err.value.fix
    assert "--if-exists reuse --init-shells bash" in err.value.fix and "--uninstall" in err.value.fix
    assert not (home / ".bashrc").exists() and not config_fish(home).exists()
    [c] = run(["bash"], tmp_path / "my conda", home, journal)
    assert c.action == "added"


# ---- which shells: powershell/cmd, none, auto -----------------------------------------------------


@pytest.mark.parametrize("platform", [LINUX, MAC])
def test_windows_shells_are_skipped_with_a_clear_change_on_unix(home, journal, platform):
    rec = RecordingReporter()
    changes = run(["bash", "powershell", "cmd"], "/opt/mc", home, journal, platform=platform, reporter=rec)
    assert [(c.shell, c.action, c.changed) for c in changes] == [
        ("bash", "added", True), ("powershell", "skipped", False), ("cmd", "skipped", False)]
    assert changes[1].describe() == (
        f"powershell: skipped: powershell is set up on Windows only (the PowerShell profile); on {platform.os} the "
        "wizard sets up bash, zsh, fish")
    assert changes[2].detail.startswith("skipped: cmd is set up on Windows only (the cmd.exe AutoRun value)")
    assert summarize(changes) == (
        f"bash: 1 file(s) changed; not set up: powershell (powershell is set up on Windows only (the PowerShell "
        f"profile); on {platform.os} the wizard sets up bash, zsh, fish); cmd (cmd is set up on Windows only (the "
        f"cmd.exe AutoRun value); on {platform.os} the wizard sets up bash, zsh, fish)")
    assert sorted(p.name for p in home.iterdir()) == [".bash_profile" if platform is MAC else ".bashrc"]


def _machine(tmp_path, monkeypatch, *names):
    etc = tmp_path / "etc-shells"
    etc.write_text("/bin/sh\n")
    monkeypatch.setattr(shells, "ETC_SHELLS", etc)
    monkeypatch.setattr(shells, "passwd_shell", lambda: "/bin/sh")
    bin_dir = tmp_path / "machine-bin"
    bin_dir.mkdir()
    for name in names:
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    return {"PATH": str(bin_dir), "SHELL": "/bin/sh"}


def test_auto_picks_fish_when_installed(tmp_path, monkeypatch, home):
    environ = _machine(tmp_path, monkeypatch, "bash", "fish")
    choice = shells.resolve(["auto"], "Linux", "/opt/mc", home, environ)
    assert choice.shells == ("bash", "fish")
    assert dict(choice.chosen)["fish"] == f"fish is installed ({tmp_path / 'machine-bin' / 'fish'})"
    assert dict(choice.skipped)["zsh"] == "zsh is not installed and there is no ~/.zshrc"


def test_auto_picks_fish_from_its_config_file(tmp_path, monkeypatch, home):
    environ = _machine(tmp_path, monkeypatch)
    config_fish(home).parent.mkdir(parents=True)
    config_fish(home).write_text("")
    assert shells.resolve(["auto"], "Linux", "/opt/mc", home, environ).chosen == (
        ("fish", "~/.config/fish/config.fish exists"),)


def test_auto_on_windows_is_powershell_never_cmd(tmp_path, monkeypatch, home):
    environ = _machine(tmp_path, monkeypatch, "pwsh", "cmd", "bash")
    choice = shells.resolve(["auto"], "Windows", r"C:\mc", home, environ)
    assert choice.shells == ("powershell",)
    assert dict(choice.skipped)["cmd"].startswith("cmd is set up only when named (--init-shells cmd)")
    explicit = shells.resolve(["powershell", "cmd", "bash"], "Windows", r"C:\mc", home, environ)
    assert explicit.shells == ("powershell", "cmd")
    assert explicit.elsewhere == (("bash", "bash is set up on Linux and macOS only; on Windows the wizard sets up "
                                           "powershell, cmd"),)


def test_auto_on_windows_without_powershell_skips_it(tmp_path, monkeypatch, home):
    environ = _machine(tmp_path, monkeypatch)
    choice = shells.resolve(["auto"], "Windows", r"C:\mc", home, environ)
    assert choice.shells == () and dict(choice.skipped)["powershell"] == "powershell is not installed"


@pytest.mark.parametrize("flag,expected", [
    ("none", ()), ("NONE", ()), ("bash,zsh,fish,powershell,cmd", ("bash", "zsh", "fish", "powershell", "cmd")),
    ("auto", ("auto",)), ("fish", ("fish",)),
])
def test_init_shells_flag_values(flag, expected):
    args = cli.build_parser().parse_args(["--init-shells", flag])
    assert cli.plan_from_values(cli.explicit_values(args)).init_shells == expected


def test_no_shell_init_is_none():
    args = cli.build_parser().parse_args(["--no-shell-init"])
    assert cli.plan_from_values(cli.explicit_values(args)).init_shells == ()


def test_answer_file_accepts_every_shell_and_none(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text('init_shells = ["fish", "powershell", "cmd"]\n')
    plan = cli.plan_from_values(cli.explicit_values(cli.build_parser().parse_args(["--config", str(cfg)])))
    assert plan.init_shells == ("fish", "powershell", "cmd") and not [p for p in plan.problems() if "shell" in p]
    cfg.write_text('init_shells = ["none"]\n')
    plan = cli.plan_from_values(cli.explicit_values(cli.build_parser().parse_args(["--config", str(cfg)])))
    assert plan.init_shells == ()


def test_dry_run_summary_names_each_file(isolated_home, tmp_path):
    args = cli.build_parser().parse_args(["--init-shells", "bash,fish,powershell", "--prefix", str(tmp_path / "mc")])
    out = cli.plan_from_values(cli.explicit_values(args)).summary()  # the text --dry-run prints
    line = next(x for x in out.splitlines() if x.startswith("conda init:"))
    assert line == "conda init:      bash (~/.bashrc), fish (~/.config/fish/config.fish)"
    assert ("                 not set up: powershell: powershell is set up on Windows only (the PowerShell profile); "
            "on Linux the wizard sets up bash, zsh, fish") in out


def test_windows_summary_text_names_profile_and_autorun(isolated_home):
    # For the Windows summary (h-win's part of the plan summary): what each Windows shell changes.
    lines = shells.summary_text(("powershell", "cmd"), "Windows", r"C:\mc")
    assert lines == ["powershell (your PowerShell profile), cmd (the cmd.exe AutoRun value)"]


def test_fish_syntax_check_runs_fish_without_its_config(tmp_path):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed (CI installs it)")
    bad = tmp_path / "config.fish"
    bad.write_text("if true\n  echo hi\n")
    result = shells.check_syntax("fish", bad, {"PATH": "/usr/bin:/bin"})
    assert result is not None and not result.ok and re.search(r"end|block", result.message)
    bad.write_text(CONDA_INIT_FISH)
    assert shells.check_syntax("fish", bad, {"PATH": "/usr/bin:/bin"}) == shells.SyntaxResult(True)
