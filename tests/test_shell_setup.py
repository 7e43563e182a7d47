"""app.core.shell_setup: rc files in a temporary HOME, real bash, the Windows registry through a fake.

Real dotfiles come from tests/data/shell/ (see its README.md for the sources).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import file_edit, windows_setup
from app.core.errors import ShellSetupError, Stage
from app.core.events import RecordingReporter
from app.core.journal import default_journal_path
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.rc_block import BEGIN_MARKER, END_MARKER, BlockError, conda_block, edit_rc_text, find_blocks, rc_file
from app.core.shell_setup import Change, apply, last_run, read_journal, remove_block, undo
from app.core.win_registry import REG_EXPAND_SZ, REG_SZ, FakeUserEnvironment, UserEnvironment
from app.core.windows_setup import windows_path_entries

DATA = Path(__file__).parent / "data" / "shell"
REAL = DATA / "real"
LINUX = PlatformInfo("Linux", "x86_64")
MAC = PlatformInfo("MacOSX", "arm64")
WINDOWS = PlatformInfo("Windows", "x86_64")


# ---- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("ZDOTDIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    return h


@pytest.fixture
def journal(tmp_path):
    return tmp_path / "state" / "changes.json"


@pytest.fixture
def prefix(tmp_path):
    return tmp_path / "miniconda3"


def make_plan(*shells, platform=LINUX, **kw):
    return InstallPlan(platform=platform, init_shells=tuple(shells), **kw)


def run_apply(plan, prefix, journal, home=None, reporter=None, **kw):
    return apply(plan, prefix, reporter or RecordingReporter(), home=home, environ={}, journal_path=journal, **kw)


def backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".miniconda-wizard-" in p.name)


def real(name: str) -> str:
    return (REAL / name).read_text("utf-8")


def fake_conda_prefix(root: Path, hook_ok: bool = True, conda_sh: bool = False) -> Path:
    """A prefix whose bin/conda answers `shell.bash|shell.zsh hook` like conda (or fails)."""
    (root / "bin").mkdir(parents=True)
    conda = root / "bin" / "conda"
    if hook_ok:
        conda.write_text(
            "#!/bin/sh\n"
            'if [ "$2" = "hook" ]; then\n'
            '  case "$1" in\n'
            "    shell.bash) echo 'export CONDA_WIZARD_HOOK=bash' ;;\n"
            "    shell.zsh) echo 'export CONDA_WIZARD_HOOK=zsh' ;;\n"
            "    *) exit 1 ;;\n"
            "  esac\n"
            "  exit 0\n"
            "fi\n"
            "exit 1\n"
        )
    else:
        conda.write_text("#!/bin/sh\nexit 3\n")
    conda.chmod(0o755)
    if conda_sh:
        (root / "etc" / "profile.d").mkdir(parents=True)
        (root / "etc" / "profile.d" / "conda.sh").write_text("export CONDA_WIZARD_HOOK=conda.sh\n")
    return root


def run_shell(argv: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# ---- the block itself ---------------------------------------------------------------------------


def test_block_is_byte_identical_to_real_conda_init(home, prefix, journal):
    expected = (DATA / "bashrc-after-conda-init-bash.sh").read_bytes().replace(b"<ROOT_PREFIX>", str(prefix).encode())
    changes = run_apply(make_plan("bash"), prefix, journal, home)
    assert (home / ".bashrc").read_bytes() == expected
    [c] = changes
    assert (c.path, c.backup, c.changed, c.action) == (home / ".bashrc", None, True, "added")
    assert "created" in c.describe()


def test_zsh_block_differs_only_by_the_hook(home, prefix, journal):
    run_apply(make_plan("zsh"), prefix, journal, home)
    text = (home / ".zshrc").read_text()
    assert text == "\n" + conda_block(prefix, "zsh") + "\n"
    assert f"__conda_setup=\"$('{prefix}/bin/conda' 'shell.zsh' 'hook' 2> /dev/null)\"" in text
    assert conda_block(prefix, "zsh").replace("shell.zsh", "shell.bash") == conda_block(prefix, "bash")


def test_rc_file_locations_follow_conda(tmp_path):
    h = tmp_path
    assert rc_file("bash", "Linux", h, {}) == h / ".bashrc"
    assert rc_file("bash", "MacOSX", h, {}) == h / ".bash_profile"
    assert rc_file("zsh", "Linux", h, {}) == h / ".zshrc"
    assert rc_file("zsh", "MacOSX", h, {"ZDOTDIR": str(h / "zdot")}) == h / "zdot" / ".zshrc"
    assert rc_file("zsh", "Linux", h, {"ZDOTDIR": ""}) == h / ".zshrc"
    assert rc_file("fish", "Linux", h, {}) == h / ".config" / "fish" / "config.fish"
    assert rc_file("fish", "MacOSX", h, {"XDG_CONFIG_HOME": str(h / "xdg")}) == h / "xdg" / "fish" / "config.fish"
    assert rc_file("fish", "Linux", h, {"XDG_CONFIG_HOME": "relative"}) == h / ".config" / "fish" / "config.fish"
    for shell in ("powershell", "cmd", "tcsh"):  # Windows shells are windows_setup's; tcsh is not set up
        with pytest.raises(ValueError):
            rc_file(shell, "Linux", h, {})


def test_zdotdir_is_used(home, prefix, journal, tmp_path):
    zdot = tmp_path / "zdot"
    apply(make_plan("zsh"), prefix, RecordingReporter(), home=home, environ={"ZDOTDIR": str(zdot)},
          journal_path=journal)
    assert (zdot / ".zshrc").read_text().count(BEGIN_MARKER) == 1
    assert not (home / ".zshrc").exists()


# ---- append / idempotence / replace -------------------------------------------------------------


@pytest.mark.parametrize("original", ["", "alias ll='ls -l'\n", "export EDITOR=vim"])
def test_append_keeps_existing_content_and_backs_up(home, prefix, journal, original):
    rc = home / ".bashrc"
    rc.write_text(original)
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert c.action == "added" and c.changed
    assert rc.read_text() == original + "\n" + conda_block(prefix, "bash") + "\n"
    assert c.backup is not None and c.backup.read_text() == original
    assert c.backup.name.startswith(".bashrc.miniconda-wizard-") and c.backup.name.endswith(".bak")


def test_second_apply_is_unchanged_without_new_backup(home, prefix, journal):
    (home / ".bashrc").write_text("# mine\n")
    (home / ".zshrc").write_text("# mine too\n")
    plan = make_plan("bash", "zsh")
    run_apply(plan, prefix, journal, home)
    before = {p: p.read_bytes() for p in (home / ".bashrc", home / ".zshrc")}
    n_backups = len(backups(home))
    n_journal = len(read_journal(journal))
    again = run_apply(plan, prefix, journal, home)
    assert [(c.changed, c.action, c.backup) for c in again] == [(False, "unchanged", None)] * 2
    assert {p: p.read_bytes() for p in before} == before
    assert len(backups(home)) == n_backups == 2
    assert len(read_journal(journal)) == n_journal == 2
    assert "already there" in again[0].describe()


def test_block_for_another_prefix_is_replaced_in_place(home, prefix, journal, tmp_path):
    rc = home / ".bashrc"
    old_prefix = tmp_path / "anaconda3"
    original = "# top\n\n" + conda_block(old_prefix, "bash") + "\n# bottom\n"
    rc.write_text(original)
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert c.action == "replaced" and f"written for {old_prefix}" in c.detail
    assert rc.read_text() == "# top\n\n" + conda_block(prefix, "bash") + "\n# bottom\n"
    assert c.backup.read_text() == original
    assert run_apply(make_plan("bash"), prefix, journal, home)[0].action == "unchanged"


def test_backup_never_overwrites_an_existing_one(home, prefix, journal, monkeypatch):
    monkeypatch.setattr(file_edit, "timestamp", lambda: "20250101-000000")
    rc = home / ".bashrc"
    rc.write_text("one\n")
    taken = home / ".bashrc.miniconda-wizard-20250101-000000.bak"
    taken.write_text("somebody's older backup\n")
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert c.backup == home / ".bashrc.miniconda-wizard-20250101-000000-1.bak"
    assert taken.read_text() == "somebody's older backup\n"
    assert c.backup.read_text() == "one\n"


def test_symlinked_rc_is_written_through(home, prefix, journal, tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "bashrc").write_text("# managed by my dotfiles\n")
    (home / ".bashrc").symlink_to(dotfiles / "bashrc")
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert (home / ".bashrc").is_symlink()
    assert os.readlink(home / ".bashrc") == str(dotfiles / "bashrc")
    assert BEGIN_MARKER in (dotfiles / "bashrc").read_text()
    assert c.backup.parent == home and not c.backup.is_symlink()
    assert c.backup.read_text() == "# managed by my dotfiles\n"
    assert list(dotfiles.iterdir()) == [dotfiles / "bashrc"]  # no temp files or backups left in the repo
    undo(c.entries, None, journal_path=journal)
    assert undo(c.entries, None, journal_path=journal) == []
    assert (home / ".bashrc").is_symlink()
    assert (dotfiles / "bashrc").read_text() == "# managed by my dotfiles\n"


def test_file_mode_is_kept(home, prefix, journal):
    rc = home / ".bashrc"
    rc.write_text("x=1\n")
    rc.chmod(0o600)
    run_apply(make_plan("bash"), prefix, journal, home)
    assert stat.S_IMODE(rc.stat().st_mode) == 0o600


def test_new_file_mode_follows_umask(home, prefix, journal):
    old = os.umask(0o027)
    try:
        run_apply(make_plan("bash"), prefix, journal, home)
    finally:
        os.umask(old)
    assert stat.S_IMODE((home / ".bashrc").stat().st_mode) == 0o640


def bash_n(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("original", [
    b"export A=1\r\nexport B=2\r\n",                                   # issue 10: a .bashrc saved with CRLF
    b"export A=1\r\nexport B=2",                                         # CRLF, last line without a newline
    "\ufeff# \u6211\u7684\u914d\u7f6e\r\nexport LANG=zh_CN.UTF-8\r\n".encode(),  # BOM + non-ASCII + CRLF
])
def test_crlf_file_gets_an_lf_block_that_bash_can_parse(home, prefix, journal, original):
    rc = home / ".bashrc"
    rc.write_bytes(original)
    assert bash_n(rc).returncode == 0  # simple CRLF lines parse (they only get a \r at the end)
    rec = RecordingReporter()
    [c] = run_apply(make_plan("bash"), prefix, journal, home, reporter=rec)
    data = rc.read_bytes()
    # The user's bytes are kept as they were; the block (and conda's blank lines around it) is LF.
    assert data == original + b"\n" + conda_block(prefix, "bash").encode() + b"\n"
    assert b"\r" not in data[len(original):]
    assert bash_n(rc).returncode == 0, bash_n(rc).stderr
    assert any("CRLF" in n and "LF" in n for n in c.notes)
    assert any(level == "warning" and "CRLF" in line for _s, line, level in rec.of("log"))
    assert run_apply(make_plan("bash"), prefix, journal, home)[0].action == "unchanged"
    undo(c.entries, None, journal_path=journal)
    assert rc.read_bytes() == original


def test_crlf_file_with_the_block_really_runs_in_bash(home, journal, tmp_path):
    prefix = fake_conda_prefix(tmp_path / "miniconda3")
    (home / ".bashrc").write_bytes(b"# mine\r\nexport BEFORE=1\r\n")
    run_apply(make_plan("bash"), prefix, journal, home)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    assert run_shell(["bash", "-ic", 'echo "hook=$CONDA_WIZARD_HOOK"'], env) == "hook=bash"


def test_crlf_block_written_by_an_older_version_is_rewritten_with_lf(home, prefix, journal):
    rc = home / ".bashrc"
    original = b"export A=1\r\n\r\n" + conda_block(prefix, "bash", "\r\n").encode() + b"\r\n"
    rc.write_bytes(original)
    assert bash_n(rc).returncode != 0  # what the old version left: "syntax error near unexpected token"
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert c.action == "replaced" and "LF line ends" in c.detail
    assert rc.read_bytes() == b"export A=1\r\n\r\n" + conda_block(prefix, "bash").encode() + b"\r\n"
    assert bash_n(rc).returncode == 0
    undo(c.entries, None, journal_path=journal)
    assert rc.read_bytes() == original


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_crlf_zshrc_gets_an_lf_block_that_zsh_can_parse(home, prefix, journal):
    zshrc = home / ".zshrc"
    original = b"setopt autocd\r\nexport A=1\r\n"
    zshrc.write_bytes(original)
    run_apply(make_plan("zsh"), prefix, journal, home)
    assert zshrc.read_bytes() == original + b"\n" + conda_block(prefix, "zsh").encode() + b"\n"
    result = subprocess.run(["zsh", "-n", str(zshrc)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_file_with_a_syntax_error_before_is_kept_with_a_warning(home, prefix, journal):
    rc = home / ".bashrc"
    original = b"export A=1\nif [ -n \"$PS1\" ]; then\n  echo interactive\n"  # the fi is missing
    rc.write_bytes(original)
    rec = RecordingReporter()
    [c] = run_apply(make_plan("bash"), prefix, journal, home, reporter=rec)
    assert c.changed and c.action == "added"
    assert rc.read_bytes().startswith(original) and BEGIN_MARKER in rc.read_text()
    [note] = [n for n in c.notes if "syntax error" in n]
    assert "already before the change" in note and "line 4" in note and "fix the file" in note
    assert any(level == "warning" and "already before the change" in line for _s, line, level in rec.of("log"))
    undo(c.entries, None, journal_path=journal)
    assert rc.read_bytes() == original


def test_file_with_an_error_that_the_block_hides_still_gets_the_warning(home, prefix, journal):
    rc = home / ".bashrc"
    original = b"export A=1\nmake all &&"  # fails alone; after it the block would look like the rest of the line
    rc.write_bytes(original)
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert bash_n(rc).returncode == 0
    assert any("already before the change" in n and "line 3" in n for n in c.notes)


def test_file_ending_in_an_open_here_document_is_refused_untouched(home, prefix, journal):
    rc = home / ".bashrc"
    original = b"export A=1\ncat <<EOF > ~/.motd\nWelcome\n"  # no EOF line: bash -n only warns
    rc.write_bytes(original)
    assert bash_n(rc).returncode == 0
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash"), prefix, journal, home)
    assert str(rc) in err.value.message and "here-document that starts at line 2" in err.value.message
    assert "Close the here-document" in err.value.fix
    assert rc.read_bytes() == original and backups(home) == []


def _broken_block_for(monkeypatch, broken_shell: str) -> None:
    """Make the block of ``broken_shell`` unparsable (an ``if`` without ``fi``), to check the guard."""
    from app.core import rc_block

    real_lines = rc_block._block_lines

    def lines(prefix, shell):
        out = real_lines(prefix, shell)
        return out[:-1] + ["if true; then", out[-1]] if shell == broken_shell else out

    monkeypatch.setattr(rc_block, "_block_lines", lines)


@pytest.mark.parametrize("original", [b"export A=1\n", None])
def test_file_that_passed_before_and_fails_after_is_restored(home, prefix, journal, monkeypatch, original):
    _broken_block_for(monkeypatch, "bash")
    rc = home / ".bashrc"
    if original is not None:
        rc.write_bytes(original)
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash"), prefix, journal, home)
    msg = err.value.message
    assert str(rc) in msg and "'bash -n'" in msg and "syntax error" in msg and "passed the check before" in msg
    assert ("restored from its backup" in msg) if original is not None else ("deleted again" in msg)
    assert f"{prefix / 'bin' / 'conda'} init bash" in err.value.fix
    assert err.value.exit_code == 8
    if original is None:
        assert not rc.exists()
    else:
        assert rc.read_bytes() == original
    assert all(e.undone for e in read_journal(journal))
    assert last_run(journal) == []


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_failing_after_puts_bashrc_back_too(home, prefix, journal, monkeypatch):
    _broken_block_for(monkeypatch, "zsh")
    (home / ".bashrc").write_bytes(b"bash stuff\n")
    (home / ".zshrc").write_bytes(b"zsh stuff\n")
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    assert str(home / ".zshrc") in err.value.message and "'zsh -n'" in err.value.message
    assert "were undone" in err.value.message
    assert (home / ".bashrc").read_bytes() == b"bash stuff\n"
    assert (home / ".zshrc").read_bytes() == b"zsh stuff\n"


def test_utf8_bom_and_non_ascii_are_kept(home, prefix, journal):
    rc = home / ".bashrc"
    original = "\ufeff# 我的配置\nexport LANG=zh_CN.UTF-8\n".encode()
    rc.write_bytes(original)
    run_apply(make_plan("bash"), prefix, journal, home)
    assert rc.read_bytes().startswith(original)


def test_non_utf8_file_is_refused_untouched(home, prefix, journal):
    rc = home / ".bashrc"
    original = b"# caf\xe9 (latin-1)\nexport A=1\n"
    rc.write_bytes(original)
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash"), prefix, journal, home)
    assert str(rc) in err.value.message and "UTF-8" in err.value.message
    assert err.value.fix and err.value.stage is Stage.SHELL
    assert rc.read_bytes() == original
    assert backups(home) == []


def test_prefix_that_would_break_quoting_is_refused(home, journal, tmp_path):
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash"), tmp_path / "it's", journal, home)
    assert "quoting" in err.value.message
    assert not (home / ".bashrc").exists()


@contextlib.contextmanager
def unwritable_folder(path: Path):
    """Make ``path`` unwritable, also for root (CI runs as root): ``chmod`` for a user; as root
    ``chattr +i`` (ext4, xfs, btrfs), else a read-only bind mount; each checked by trying to write."""

    def writable() -> bool:
        probe = path / ".probe"
        try:
            probe.write_text("")
        except OSError:
            return False
        probe.unlink()
        return True

    if os.geteuid() != 0:
        path.chmod(0o500)
        try:
            yield
        finally:
            path.chmod(0o700)
        return
    methods = []
    if shutil.which("chattr"):
        methods.append((["chattr", "+i", str(path)], ["chattr", "-i", str(path)]))
    if shutil.which("mount"):
        methods.append((["mount", "--bind", "-o", "ro", str(path), str(path)], ["umount", str(path)]))
    for on, off in methods:
        if subprocess.run(on, capture_output=True, timeout=60).returncode != 0:
            continue
        try:
            if writable():
                continue
            yield
            return
        finally:
            subprocess.run(off, capture_output=True, timeout=60, check=True)
    pytest.skip("as root, neither 'chattr +i' nor a read-only bind mount works here")


def test_unwritable_folder_gives_a_fix(home, prefix, journal):
    with unwritable_folder(home):
        with pytest.raises(ShellSetupError) as err:
            run_apply(make_plan("bash"), prefix, journal, home)
    assert str(home / ".bashrc") in err.value.message and "Could not write" in err.value.message
    assert "writable" in err.value.fix
    assert not (home / ".bashrc").exists() and not journal.exists()


def test_rc_path_under_a_file_gives_a_fix(home, prefix, journal, tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ShellSetupError) as err:
        apply(make_plan("zsh"), prefix, RecordingReporter(), home=home,
              environ={"ZDOTDIR": str(tmp_path / "afile")}, journal_path=journal)
    assert str(tmp_path / "afile" / ".zshrc") in err.value.message and err.value.fix


def test_failed_write_leaves_the_file_and_no_temp_files(home, prefix, journal, monkeypatch):
    import errno

    rc = home / ".bashrc"
    rc.write_text("keep\n")

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(file_edit.os, "replace", disk_full)
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash"), prefix, journal, home)
    assert "No space left" in err.value.message
    assert rc.read_text() == "keep\n"
    assert not [p for p in home.iterdir() if p.name.endswith(".tmp")]


def test_failure_on_second_file_puts_the_first_back(home, prefix, journal, monkeypatch):
    import errno

    (home / ".bashrc").write_text("bash stuff\n")
    (home / ".zshrc").write_text("zsh stuff\n")
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(Path(dst).name)
        if Path(dst).name == ".zshrc" and calls.count(".zshrc") == 1:
            raise OSError(errno.EIO, "I/O error")
        return real_replace(src, dst)

    monkeypatch.setattr(file_edit.os, "replace", replace)
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    assert "were undone" in err.value.message
    assert (home / ".bashrc").read_text() == "bash stuff\n"
    assert (home / ".zshrc").read_text() == "zsh stuff\n"


def test_same_file_for_both_shells_is_refused(home, prefix, journal):
    (home / ".bashrc").write_text("shared\n")
    (home / ".zshrc").symlink_to(home / ".bashrc")
    with pytest.raises(ShellSetupError, match="same file"):
        run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    assert (home / ".bashrc").read_text() == "shared\n"


def test_reporter_gets_one_line_per_change_and_warnings_for_notes(home, prefix, journal):
    (home / ".zshrc").write_text(real("zshrc_block_fully_commented_out__code-search-unnamed.txt"))
    rec = RecordingReporter()
    changes = run_apply(make_plan("bash", "zsh"), prefix, journal, home, reporter=rec)
    logs = rec.of("log")
    assert [line for stage, line, level in logs if level == "info"] == [
        "Setting up conda for bash (~/.bashrc), zsh (~/.zshrc).", *(c.describe() for c in changes)]
    assert all(stage is Stage.SHELL for stage, *_ in logs)
    assert any(level == "warning" and "commented-out" in line for _s, line, level in logs)


def test_no_shells_means_no_change(home, prefix, journal):
    assert run_apply(make_plan(), prefix, journal, home) == []
    assert not journal.exists()


# ---- journal and undo ---------------------------------------------------------------------------


def test_journal_records_hashes_and_default_location(home, prefix, tmp_path):
    (home / ".bashrc").write_text("x\n")
    changes = apply(make_plan("bash"), prefix, RecordingReporter(), home=home, environ={})
    default = tmp_path / "xdg-state" / "miniconda-wizard" / "changes.json"
    assert default_journal_path() == default
    [entry] = read_journal(default)
    assert entry == changes[0].entries[0]
    import hashlib

    assert entry.sha256_before == hashlib.sha256(b"x\n").hexdigest()
    assert entry.sha256_after == hashlib.sha256((home / ".bashrc").read_bytes()).hexdigest()
    assert entry.existed_before and entry.backup == str(changes[0].backup)
    assert json.loads(default.read_text())["version"] == 1


def test_undo_restores_bytes_and_deletes_created_files(home, prefix, journal):
    original = b"# keep me exactly\r\nexport X='y'\n\n\n"
    (home / ".bashrc").write_bytes(original)
    (home / ".bashrc").chmod(0o640)
    run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    assert (home / ".zshrc").exists()
    undone = undo(last_run(journal), RecordingReporter(), journal_path=journal)
    assert (home / ".bashrc").read_bytes() == original
    assert stat.S_IMODE((home / ".bashrc").stat().st_mode) == 0o640
    assert not (home / ".zshrc").exists()
    assert sorted(c.action for c in undone) == ["removed", "replaced"]
    assert all(e.undone for e in read_journal(journal))
    assert last_run(journal) == []
    # undoing again does nothing, whether from the journal or from the same Change objects
    assert undo(read_journal(journal), None, journal_path=journal) == []


def test_undo_refuses_after_a_foreign_edit_and_restores_nothing(home, prefix, journal):
    (home / ".bashrc").write_text("mine\n")
    changes = run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    with (home / ".bashrc").open("a") as fh:
        fh.write("alias added_later=true\n")
    edited = (home / ".bashrc").read_bytes()
    with pytest.raises(ShellSetupError) as err:
        undo([e for c in changes for e in c.entries], None, journal_path=journal)
    assert str(home / ".bashrc") in err.value.message and "changed after" in err.value.message
    assert (home / ".bashrc").read_bytes() == edited
    assert (home / ".zshrc").exists()  # all or nothing
    assert not any(e.undone for e in read_journal(journal))


def test_undo_refusal_for_an_existing_file_points_at_its_backup(home, prefix, journal):
    (home / ".bashrc").write_text("mine\n")
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    with (home / ".bashrc").open("a") as fh:
        fh.write("alias added_later=true\n")
    with pytest.raises(ShellSetupError) as err:
        undo(c.entries, None, journal_path=journal)
    assert f"compare it with its backup {c.backup}" in err.value.fix
    assert "created by the wizard" not in err.value.message
    # the exact command that takes out only our block (finding 7 of the fix-up round); it really works
    command = f"sed -i.bak '/^{BEGIN_MARKER}$/,/^{END_MARKER}$/d' {home / '.bashrc'}"
    assert command in err.value.fix
    subprocess.run(["sh", "-c", command], check=True)
    left = (home / ".bashrc").read_text()
    assert "conda" not in left and left.split() == ["mine", "alias", "added_later=true"]


def test_undo_refusal_for_a_file_the_wizard_created_says_so(home, prefix, journal):
    [c] = run_apply(make_plan("zsh"), prefix, journal, home)
    assert c.backup is None  # .zshrc did not exist: no backup
    zshrc = home / ".zshrc"
    with zshrc.open("a") as fh:
        fh.write("setopt autocd\n")
    edited = zshrc.read_bytes()
    with pytest.raises(ShellSetupError) as err:
        undo(c.entries, None, journal_path=journal)
    msg, fix = err.value.message, err.value.fix
    assert str(zshrc) in msg and "created by the wizard" in msg and "edited since" in msg
    assert ".bak" not in msg + fix and "backup" not in fix  # there is none to compare with
    assert "conda initialize block" in fix and BEGIN_MARKER in fix and "'conda init --reverse zsh'" in fix
    assert zshrc.read_bytes() == edited


def test_undo_refusal_with_both_kinds_gives_both_fixes(home, prefix, journal):
    (home / ".bashrc").write_text("mine\n")
    changes = run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    for name in (".bashrc", ".zshrc"):
        with (home / name).open("a") as fh:
            fh.write("# later\n")
    with pytest.raises(ShellSetupError) as err:
        undo([e for c in changes for e in c.entries], None, journal_path=journal)
    assert "changed after" in err.value.message and "created by the wizard" in err.value.message
    assert "with its backup" in err.value.fix and "conda init --reverse zsh" in err.value.fix


def test_undo_of_a_created_file_deleted_since_is_not_refused(home, prefix, journal):
    (home / ".bashrc").write_text("mine\n")
    run_apply(make_plan("bash", "zsh"), prefix, journal, home)
    (home / ".zshrc").unlink()
    undone = undo(last_run(journal), None, journal_path=journal)
    assert (home / ".bashrc").read_text() == "mine\n"
    assert not (home / ".zshrc").exists()
    assert {c.path.name: c.changed for c in undone} == {".bashrc": True, ".zshrc": False}
    assert last_run(journal) == []


def test_undo_refuses_when_the_backup_was_altered(home, prefix, journal):
    (home / ".bashrc").write_text("mine\n")
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    c.backup.write_text("not what it was\n")
    with pytest.raises(ShellSetupError, match="backup"):
        undo(c.entries, None, journal_path=journal)


def test_remove_block_matches_conda_init_reverse(home, prefix, journal):
    rc = home / ".bashrc"
    rc.write_bytes((DATA / "bashrc-after-conda-init-bash.sh").read_bytes().replace(b"<ROOT_PREFIX>", str(prefix).encode()))
    c = remove_block(rc, RecordingReporter(), journal_path=journal)
    assert c.action == "removed" and c.changed and c.backup is not None
    assert rc.read_bytes() == (DATA / "bashrc-after-conda-init--reverse-bash.sh").read_bytes()
    again = remove_block(rc, journal_path=journal)
    assert again.action == "unchanged" and not again.changed


# conda/conda conda/core/initialize.py: CONDA_INITIALIZE_RE_BLOCK and the reverse branch of init_sh_user.
CONDA_INITIALIZE_RE_BLOCK = (
    r"^# >>> conda initialize >>>(?:\n|\r\n)"
    r"([\s\S]*?)"
    r"# <<< conda initialize <<<(?:\n|\r\n)?"
)


@pytest.mark.parametrize("original", [b"", b"# mine\n", b"# mine\r\nexport A=1\r\n"])
def test_conda_init_reverse_recognises_our_block(home, prefix, journal, original):
    import re

    rc = home / ".bashrc"
    rc.write_bytes(original)
    run_apply(make_plan("bash"), prefix, journal, home)
    written = rc.read_bytes().decode("utf-8")
    assert len(re.findall(CONDA_INITIALIZE_RE_BLOCK, written, flags=re.MULTILINE)) == 1
    conda_reversed = re.sub(r"^\s*" + CONDA_INITIALIZE_RE_BLOCK, "", written, flags=re.DOTALL | re.MULTILINE)
    remove_block(rc, journal_path=journal)
    assert rc.read_bytes().decode("utf-8") == conda_reversed


def test_apply_remove_undo_chain_goes_back_to_the_start(home, prefix, journal):
    rc = home / ".bashrc"
    rc.write_text("start\n")
    first = run_apply(make_plan("bash"), prefix, journal, home)
    second = remove_block(rc, journal_path=journal)
    assert rc.read_text() == "start\n\n"  # like conda init --reverse: the blank line after the block stays
    undo([*first[0].entries, *second.entries], None, journal_path=journal)
    assert rc.read_bytes() == b"start\n"
    assert backups(home) == [first[0].backup, second.backup] or sorted(backups(home)) == sorted(
        [first[0].backup, second.backup])


def test_damaged_journal_is_set_aside(home, prefix, journal):
    journal.parent.mkdir(parents=True)
    journal.write_text("{not json")
    rec = RecordingReporter()
    run_apply(make_plan("bash"), prefix, journal, home, reporter=rec)
    assert len(read_journal(journal)) == 1
    assert list(journal.parent.glob("changes.json.corrupt-*"))
    assert any("damaged change journal" in line for _s, line, level in rec.of("log") if level == "warning")


# ---- real dotfiles -----------------------------------------------------------------------------


def test_real_standard_zsh_block_with_variable_prefix_is_replaced(home, prefix, journal):
    original = real("zshrc_standard_block__jkulesza-MyFiles_RC.zsh.txt")
    (home / ".zshrc").write_text(original)
    [c] = run_apply(make_plan("zsh"), prefix, journal, home)
    assert c.action == "replaced" and "hand-edited" in c.detail
    text = (home / ".zshrc").read_text()
    assert text == "source $HOME/.zshrc.local\n\n" + conda_block(prefix, "zsh") + "\n"
    assert c.backup.read_text() == original


@pytest.mark.parametrize("name", [
    "zsh_block_hand_edited_commented_else__holman-dotfiles.zsh.txt",
    "zshenv_block_hand_edited_bash_hook_in_zsh__amelio-vazquez-reina-dotfiles.txt",
])
def test_real_hand_edited_blocks_are_replaced_rest_kept(home, prefix, journal, name):
    original = real(name)
    (home / ".zshrc").write_text(original)
    [c] = run_apply(make_plan("zsh"), prefix, journal, home)
    assert c.action == "replaced" and c.backup.read_text() == original
    lines = original.splitlines(keepends=True)
    [block] = find_blocks(lines)
    expected = "".join(lines[: block.start]) + conda_block(prefix, "zsh") + "".join(lines[block.end + 1:])
    assert (home / ".zshrc").read_text() == expected


def test_real_block_for_this_prefix_is_recognised_and_stray_export_noted(home, journal):
    original = real("zshrc_block_followed_by_duplicate_PATH_export__code-search-unnamed.txt")
    (home / ".zshrc").write_text(original)
    [c] = run_apply(make_plan("zsh"), Path("/Users/opt/miniconda3"), journal, home)
    assert c.action == "unchanged" and not c.changed
    assert (home / ".zshrc").read_text() == original
    assert any("line 21 sets up" in n for n in c.notes)


def test_real_block_for_other_prefix_keeps_the_export_after_it(home, prefix, journal):
    original = real("zshrc_block_followed_by_duplicate_PATH_export__code-search-unnamed.txt")
    (home / ".zshrc").write_text(original)
    [c] = run_apply(make_plan("zsh"), prefix, journal, home)
    assert c.action == "replaced" and "written for /Users/opt/miniconda3" in c.detail
    text = (home / ".zshrc").read_text()
    assert 'export PATH="/Users/opt/miniconda3/bin:$PATH"\n\n# Load the zsh dotfiles' in text
    assert text.count(BEGIN_MARKER) == 1
    assert any("line 21 sets up" in n for n in c.notes)


def test_real_commented_out_block_is_left_and_ours_appended(home, prefix, journal):
    original = real("zshrc_block_fully_commented_out__code-search-unnamed.txt")
    (home / ".zshrc").write_text(original)
    [c] = run_apply(make_plan("zsh"), prefix, journal, home)
    assert c.action == "added"
    assert (home / ".zshrc").read_text() == original + "\n" + conda_block(prefix, "zsh") + "\n"
    assert any("commented-out conda initialize block at line 11" in n for n in c.notes)


def test_real_truncated_block_is_refused_and_nothing_written(home, prefix, journal):
    original = real("bashrc_block_plus_commented_out_by_conda_initialize__code-search-unnamed.txt")
    assert original.rstrip().endswith("# <<< c")  # the excerpt cut, a real broken end marker
    (home / ".bashrc").write_text(original)
    with pytest.raises(ShellSetupError) as err:
        run_apply(make_plan("zsh", "bash"), prefix, journal, home)  # zsh first: it must not be written either
    assert str(home / ".bashrc") in err.value.message
    assert "line 8" in err.value.fix
    assert (home / ".bashrc").read_text() == original
    assert not (home / ".zshrc").exists()
    assert backups(home) == [] and not journal.exists()


def test_real_block_with_commented_out_lines_repaired(home, journal):
    # Same file with its cut end marker completed: conda wrote this block for /home/<USER>/anaconda3.
    original = real("bashrc_block_plus_commented_out_by_conda_initialize__code-search-unnamed.txt")
    repaired = original.replace("# <<< c", END_MARKER)
    (home / ".bashrc").write_text(repaired)
    [c] = run_apply(make_plan("bash"), Path("/home/<USER>/anaconda3"), journal, home)
    assert c.action == "unchanged"
    assert (home / ".bashrc").read_text() == repaired  # '# commented out by conda initialize' lines untouched


def test_real_mamba_block_is_never_touched(home, prefix, journal):
    source = real("bashrc_BROKEN_after_conda_init_over_mamba_init__mamba-issue-1356.txt")
    start = source.index("# >>> mamba initialize >>>")
    end = source.index("# <<< mamba initialize <<<\n") + len("# <<< mamba initialize <<<\n")
    mamba_block = source[start:end]
    (home / ".bashrc").write_text(mamba_block)
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    text = (home / ".bashrc").read_text()
    assert text.startswith(mamba_block)  # conda init would have commented out its export line
    assert '        export PATH="/opt/conda/bin:$PATH"\n' in text
    assert any("'mamba initialize' block at line 1" in n for n in c.notes)
    subprocess.run(["bash", "-n", str(home / ".bashrc")], check=True)


def test_real_conda46_body_without_markers_is_noted(home, prefix, journal):
    original = real("bash_login_conda46_era_block_escaped__conda-issue-8105.txt")
    (home / ".bashrc").write_text(original)
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert c.action == "added"
    assert (home / ".bashrc").read_text().startswith(original)
    assert any("lines 1, 5, 6, 9 set up" in n for n in c.notes)


def test_real_block_inside_if_is_replaced_in_place():
    # The fish file has the block nested in `if status is-interactive ... end`; only the position matters here.
    text = real("fish_config_block_inside_if_interactive__mgaimann-mise-en-place.fish.txt")
    lines = text.splitlines(keepends=True)
    [block] = find_blocks(lines)
    assert (block.start, block.end) == (6, 9)
    edit = edit_rc_text(text, "/p", "zsh")
    assert edit.action == "replaced"
    assert edit.text == "".join(lines[:6]) + conda_block("/p", "zsh") + "".join(lines[10:])
    assert edit.text.rstrip().endswith("end")


def _standard_block_lines() -> list[str]:
    text = real("zshrc_standard_block__jkulesza-MyFiles_RC.zsh.txt")
    return text[text.index(BEGIN_MARKER): text.index(END_MARKER) + len(END_MARKER)].splitlines()


def test_indented_block_inside_bash_if_keeps_its_indent_and_runs(home, tmp_path, journal):
    inner = "".join("    " + line + "\n" for line in _standard_block_lines())
    original = 'if [[ $- == *i* ]]; then\n' + inner + "fi\n"
    (home / ".bashrc").write_text(original)
    prefix = fake_conda_prefix(tmp_path / "conda root")
    prefix = prefix.rename(tmp_path / "condaroot")
    [c] = run_apply(make_plan("bash"), prefix, journal, home)
    assert c.action == "replaced"
    text = (home / ".bashrc").read_text()
    expected = "if [[ $- == *i* ]]; then\n" + "".join("    " + x + "\n" for x in conda_block(prefix, "bash").splitlines()) + "fi\n"
    assert text == expected
    assert run_apply(make_plan("bash"), prefix, journal, home)[0].action == "unchanged"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    assert run_shell(["bash", "-ic", 'echo "hook=$CONDA_WIZARD_HOOK"'], env) == "hook=bash"


def test_duplicate_blocks_become_one(home, prefix, journal, tmp_path):
    block = "\n".join(_standard_block_lines()) + "\n"
    original = "# a\n" + block + "# b\n\n\n" + block + "# c\n"
    (home / ".zshrc").write_text(original)
    [c] = run_apply(make_plan("zsh"), prefix, journal, home)
    assert "removed 1 duplicate" in c.detail
    assert (home / ".zshrc").read_text() == "# a\n" + conda_block(prefix, "zsh") + "# b\n# c\n"


@pytest.mark.parametrize("text,line", [
    (f"a\n{BEGIN_MARKER}\nx\n", 2),
    (f"a\nb\n{END_MARKER}\n", 3),
    (f"{BEGIN_MARKER}\nx\n{BEGIN_MARKER}\ny\n{END_MARKER}\n", 1),
])
def test_broken_markers(text, line):
    with pytest.raises(BlockError) as err:
        find_blocks(text.splitlines(keepends=True))
    assert err.value.line == line


# ---- the block in real shells ------------------------------------------------------------------


@pytest.mark.parametrize("hook_ok,conda_sh,expected", [
    (True, False, "bash"),         # eval "$(conda shell.bash hook)"
    (False, True, "conda.sh"),     # hook fails: source etc/profile.d/conda.sh
    (False, False, "path"),        # neither: PATH="<prefix>/bin:$PATH"
])
def test_block_runs_in_real_interactive_bash(home, journal, tmp_path, hook_ok, conda_sh, expected):
    prefix = fake_conda_prefix(tmp_path / "miniconda3", hook_ok=hook_ok, conda_sh=conda_sh)
    (home / ".bashrc").write_text("export BEFORE=1\n")
    run_apply(make_plan("bash"), prefix, journal, home)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    out = run_shell(["bash", "-ic", 'echo "$BEFORE|${CONDA_WIZARD_HOOK:-path}|$PATH"'], env)
    before, hook, path = out.split("|", 2)
    assert (before, hook) == ("1", expected)
    if expected == "path":
        assert path.split(":")[0] == str(prefix / "bin")


def test_block_activates_the_installed_standin_miniconda(home, journal, standin_prefix):
    changes = run_apply(make_plan("bash"), standin_prefix, journal, home)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    out = run_shell(["bash", "-ic", 'echo "$CONDA_PREFIX|$(command -v conda)"'], env)
    assert out == f"{standin_prefix}|{standin_prefix / 'bin' / 'conda'}"
    undo([e for c in changes for e in c.entries], None, journal_path=journal)
    assert not (home / ".bashrc").exists()


def test_macos_new_bash_profile_keeps_reading_profile(home, journal, tmp_path):
    (home / ".profile").write_text("export FROM_PROFILE=yes\n")
    prefix = fake_conda_prefix(tmp_path / "miniconda3")
    [c] = run_apply(make_plan("bash", platform=MAC), prefix, journal, home)
    assert c.path == home / ".bash_profile" and c.action == "added"
    text = c.path.read_text()
    assert text.index('. "$HOME/.profile"') < text.index(BEGIN_MARKER)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    out = run_shell(["bash", "--login", "-c", 'echo "$FROM_PROFILE|$CONDA_WIZARD_HOOK"'], env)
    assert out == "yes|bash"
    undo(c.entries, None, journal_path=journal)
    assert not (home / ".bash_profile").exists()


def test_macos_existing_bash_profile_gets_no_preamble(home, prefix, journal):
    (home / ".profile").write_text("x\n")
    (home / ".bash_profile").write_text("y\n")
    run_apply(make_plan("bash", platform=MAC), prefix, journal, home)
    assert (home / ".bash_profile").read_text() == "y\n\n" + conda_block(prefix, "bash") + "\n"


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_block_runs_in_real_interactive_zsh(home, journal, tmp_path):
    prefix = fake_conda_prefix(tmp_path / "miniconda3")
    run_apply(make_plan("zsh"), prefix, journal, home)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    assert run_shell(["zsh", "-ic", 'echo "hook=$CONDA_WIZARD_HOOK"'], env) == "hook=zsh"


# ---- Windows, through the fake registry ----------------------------------------------------------

WIN_PREFIX = Path(r"C:\Users\<USER>\miniconda3")


def real_windows_path() -> str:
    raw = (DATA / "windows_path" / "long_PATH_in_conda_info_json_TRUNCATED__vscode-python-issue-19172.txt").read_text()
    return raw.split('"PATH": "', 1)[1].rstrip("\n").replace("\\\\", "\\").replace("Se\nrver", "Server")


def win_apply(env, journal, add_to_path=True, register_python=False, version="3.11", reporter=None):
    plan = make_plan(platform=WINDOWS, add_to_path=add_to_path, register_python=register_python)
    return apply(plan, WIN_PREFIX, reporter or RecordingReporter(), user_env=env,
                 python_version=lambda p: version, journal_path=journal)


def test_fake_registry_satisfies_the_protocol():
    assert isinstance(FakeUserEnvironment(), UserEnvironment)


def test_windows_path_entries_are_the_constructor_list():
    assert windows_path_entries(WIN_PREFIX) == [
        r"C:\Users\<USER>\miniconda3",
        r"C:\Users\<USER>\miniconda3\Library\mingw-w64\bin",
        r"C:\Users\<USER>\miniconda3\Library\usr\bin",
        r"C:\Users\<USER>\miniconda3\Library\bin",
        r"C:\Users\<USER>\miniconda3\Scripts",
    ]


def test_windows_add_to_path_keeps_expand_sz_and_every_entry(journal):
    old = real_windows_path()
    env = FakeUserEnvironment({"PATH": (old, REG_EXPAND_SZ)})
    [c] = win_apply(env, journal)
    value, kind = env.get("Path")
    assert kind == REG_EXPAND_SZ
    assert value == ";".join(windows_path_entries(WIN_PREFIX)) + ";" + old
    assert len(value) > 1024 and value.endswith(old)
    assert env.broadcasts == 1
    assert (c.action, c.changed) == ("registry", True)
    saved = json.loads(c.backup.read_text())
    assert saved == {"location": windows_setup.USER_PATH_LOCATION, "existed": True, "value": old, "type": REG_EXPAND_SZ}
    assert c.backup.parent == journal.parent
    [entry] = read_journal(journal)
    assert entry.value_before == old and entry.type_before == REG_EXPAND_SZ and entry.added == windows_path_entries(WIN_PREFIX)


def test_windows_second_apply_changes_nothing(journal):
    env = FakeUserEnvironment({"Path": ("C:\\Windows", REG_SZ)})
    win_apply(env, journal)
    value = env.get("Path")
    n_files = len(list(journal.parent.iterdir()))
    [c] = win_apply(env, journal)
    assert (c.action, c.changed, c.backup) == ("unchanged", False, None)
    assert env.get("Path") == value and value[1] == REG_SZ
    assert env.broadcasts == 1
    assert len(list(journal.parent.iterdir())) == n_files


def test_windows_no_duplicates_when_some_entries_exist_in_other_spelling(journal):
    old = '"c:\\users\\<user>\\MINICONDA3\\Scripts\\";C:\\Windows;C:\\Users\\<USER>\\miniconda3\\'
    env = FakeUserEnvironment({"Path": (old, REG_EXPAND_SZ)})
    [c] = win_apply(env, journal)
    entries = windows_path_entries(WIN_PREFIX)
    assert env.get("Path")[0] == ";".join(entries[1:4]) + ";" + old
    assert c.entries[0].added == entries[1:4]


def test_windows_missing_path_is_created_and_undo_deletes_it(journal):
    env = FakeUserEnvironment()
    changes = win_apply(env, journal)
    assert env.get("PATH") == (";".join(windows_path_entries(WIN_PREFIX)), REG_EXPAND_SZ)
    undo(last_run(journal), None, user_env=env, journal_path=journal)
    assert env.get("Path") is None
    assert changes[0].entries[0].existed_before is False


def test_windows_undo_restores_exact_value_and_type(journal):
    old = real_windows_path()
    env = FakeUserEnvironment({"Path": (old, REG_EXPAND_SZ)})
    changes = win_apply(env, journal, register_python=True)
    undo([e for c in changes for e in c.entries], RecordingReporter(), user_env=env, journal_path=journal)
    assert env.get("Path") == (old, REG_EXPAND_SZ)
    assert env.keys == {}
    assert env.broadcasts == 2


def test_windows_undo_after_someone_else_changed_path_removes_only_ours(journal):
    old = "C:\\Windows;%USERPROFILE%\\bin"
    env = FakeUserEnvironment({"Path": (old, REG_EXPAND_SZ)})
    win_apply(env, journal)
    env.set("Path", "C:\\NodeJS;" + env.get("Path")[0], REG_EXPAND_SZ)
    [c] = undo(last_run(journal), None, user_env=env, journal_path=journal)
    assert env.get("Path") == ("C:\\NodeJS;" + old, REG_EXPAND_SZ)
    assert "only the wizard's entries" in c.detail


def test_windows_register_python_pep514(journal):
    env = FakeUserEnvironment({"Path": ("C:\\Windows", REG_EXPAND_SZ)})
    changes = win_apply(env, journal, add_to_path=False, register_python=True, version="3.12")
    [c] = changes
    sub = r"Software\Python\PythonCore\3.12\InstallPath"
    assert env.get_key_value(sub, "") == str(WIN_PREFIX)
    assert env.get_key_value(sub, "ExecutablePath") == str(WIN_PREFIX) + "\\python.exe"
    assert env.get("Path") == ("C:\\Windows", REG_EXPAND_SZ)
    assert c.action == "registry" and "3.12" in c.describe()
    assert win_apply(env, journal, add_to_path=False, register_python=True, version="3.12")[0].action == "unchanged"


def test_windows_register_python_over_another_and_undo_restores_it(journal):
    sub = r"Software\Python\PythonCore\3.11\InstallPath"
    env = FakeUserEnvironment()
    env.set_key_value(sub, "", r"C:\Python311")
    [c] = win_apply(env, journal, add_to_path=False, register_python=True)
    assert any(r"C:\Python311" in n for n in c.notes)
    undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.get_key_value(sub, "") == r"C:\Python311"
    assert env.get_key_value(sub, "ExecutablePath") is None


def test_windows_python_version_failure_leaves_path_alone(journal):
    env = FakeUserEnvironment({"Path": ("C:\\Windows", REG_EXPAND_SZ)})

    def no_python(prefix):
        raise ShellSetupError("no python.exe", fix="reinstall")

    plan = make_plan(platform=WINDOWS, add_to_path=True, register_python=True)
    with pytest.raises(ShellSetupError, match="no python.exe"):
        apply(plan, WIN_PREFIX, RecordingReporter(), user_env=env, python_version=no_python, journal_path=journal)
    assert env.get("Path") == ("C:\\Windows", REG_EXPAND_SZ)
    assert env.broadcasts == 0


def test_windows_registration_failure_puts_path_back(journal):
    class NoKeys(FakeUserEnvironment):
        def set_key_value(self, subkey, name, value):
            raise PermissionError(13, "Access is denied")

    env = NoKeys({"Path": ("C:\\Windows", REG_EXPAND_SZ)})
    with pytest.raises(ShellSetupError) as err:
        win_apply(env, journal, register_python=True)
    assert "were undone" in err.value.message
    assert env.get("Path") == ("C:\\Windows", REG_EXPAND_SZ)


def test_windows_unexpected_path_type_is_refused(journal):
    env = FakeUserEnvironment({"Path": ("C:\\x", 3)})
    with pytest.raises(ShellSetupError, match="unexpected type"):
        win_apply(env, journal)
    assert env.get("Path") == ("C:\\x", 3)


def test_windows_registry_write_failure(journal):
    env = FakeUserEnvironment({"Path": ("C:\\Windows", REG_EXPAND_SZ)})
    env.fail_writes = PermissionError(13, "Access is denied")
    with pytest.raises(ShellSetupError) as err:
        win_apply(env, journal)
    assert "Access is denied" in err.value.message and err.value.fix
    assert env.get("Path") == ("C:\\Windows", REG_EXPAND_SZ)


def test_windows_nothing_chosen_touches_nothing(journal):
    plan = make_plan("bash", platform=WINDOWS, add_to_path=False, register_python=False)
    assert apply(plan, WIN_PREFIX, RecordingReporter(), journal_path=journal) == []


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows fallback")
def test_windows_plan_without_registry_gives_a_clear_error(journal):
    plan = make_plan(platform=WINDOWS, add_to_path=True)
    with pytest.raises(ShellSetupError, match="registry is not available"):
        apply(plan, WIN_PREFIX, RecordingReporter(), journal_path=journal)


def test_python_version_of_asks_the_real_interpreter(tmp_path):
    root = tmp_path / "prefix"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").symlink_to(sys.executable)
    assert windows_setup.python_version_of(root) == "%d.%d" % sys.version_info[:2]
    with pytest.raises(ShellSetupError, match="python"):
        windows_setup.python_version_of(tmp_path / "empty")


def test_change_contract_used_by_the_pipeline(tmp_path):
    c = Change(tmp_path / ".bashrc", tmp_path / "b.bak", True, "added", "added the conda initialize block")
    assert c.describe() == f"{tmp_path / '.bashrc'}: added the conda initialize block (backup: {tmp_path / 'b.bak'})"
