"""``--uninstall`` (issue 11, "Undo"): install with the stand-in (bash + zsh init, .condarc, an env), then
uninstall, and every file of the home folder is byte for byte what it was (our own log/state folder aside);
a file edited since is kept; the prefix goes only when the wizard made it; silent mode needs ``--yes``."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import manifest, uninstall
from app.core.errors import UninstallError

ROOT = Path(__file__).resolve().parent.parent
#: Our own folder (logs, journal, manifests) and the folders above it, made by the first run.
OURS = (".local/state/miniconda-wizard", ".local/state", ".local")


def run_cli(*args: str, home: Path, extra_env: dict[str, str] | None = None, timeout: float = 240):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    # A rustup proxy on this machine's PATH writes ~/.rustup when something probes for compilers; not ours.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".cargo" not in p)
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
                "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def tree(home: Path) -> dict[str, str]:
    """Every path under ``home`` with its kind and SHA-256 (``dir``, ``link -> target``), ours left out."""
    out: dict[str, str] = {}
    for p in sorted(home.rglob("*")):
        rel = p.relative_to(home).as_posix()
        if rel in OURS or rel.startswith(OURS[0] + "/"):
            continue
        if p.is_symlink():
            out[rel] = f"link -> {os.readlink(p)}"
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() + f" {oct(p.stat().st_mode)}"
    return out


def _home_with_rc_files(home: Path) -> None:
    (home / ".bashrc").write_bytes("# my bashrc: $HOME 'quotes' ünïcode\r\nexport A=1\n".encode())
    (home / ".zshrc").write_bytes(b"# zsh\nsetopt autocd")  # no final newline
    (home / ".zshrc").chmod(0o600)
    (home / ".conda").mkdir()
    (home / ".conda" / "environments.txt").write_text("/somewhere/else/envs/old\n")


def _install(home: Path, prefix: Path, installer_file: Path, tmp_path: Path, *extra: str):
    return run_cli("--silent", "--installer-file", str(installer_file), "--prefix", str(prefix), "--accept-tos",
                   "--init-shells", "bash,zsh", "--gpu-steps", "5", "--download-dir", str(tmp_path / "dl"),
                   *extra, home=home)


@pytest.mark.slow
def test_install_twice_then_uninstall_leaves_home_byte_identical(tmp_path, isolated_home, standin_installer):
    home = isolated_home
    _home_with_rc_files(home)
    before = tree(home)
    prefix = home / "miniconda3"
    res = _install(home, prefix, standin_installer, tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    # the second install runs the installer again over it (-u); reuse is the other route (test_reuse.py)
    res = _install(home, prefix, standin_installer, tmp_path, "--if-exists", "update", "--if-env-exists", "reuse")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    for rc in (".bashrc", ".zshrc"):  # installing twice leaves one block per shell
        assert (home / rc).read_text().count("# >>> conda initialize >>>") == 1
    # the manifest (issue 11, item 4): installer and its SHA-256, journal runs, env, the copy in the prefix
    m = manifest.load(prefix)
    assert m.made_by_us and m.status == "complete" and m.installer == standin_installer.name
    assert [u["how"] for u in m.updates] == ["update"]  # an update keeps the record that the wizard made it
    assert m.installer_sha256 == hashlib.sha256(standin_installer.read_bytes()).hexdigest()
    assert len(m.shell_runs) == 1 and {Path(c["path"]).name for c in m.shell_changes} == {".bashrc", ".zshrc"}
    assert all(c["backup"] and Path(c["backup"]).exists() for c in m.shell_changes)
    assert [e["name"] for e in m.envs] == ["llm"]
    assert manifest.marker_path(prefix).exists()
    assert (prefix / ".condarc").exists() and (prefix / "envs" / "llm").is_dir()

    dry = run_cli("--uninstall", "--dry-run", "--prefix", str(prefix), home=home)
    assert dry.returncode == 0, dry.stderr
    assert f"Would remove {prefix} (installed by miniconda-wizard)" in dry.stdout
    assert "Would restore" in dry.stdout and "Nothing was changed." in dry.stdout
    assert "Would keep" not in dry.stdout  # the wizard's own backups in the prefix are not the user's
    assert m.prefix_entries and "conda-meta" in m.prefix_entries  # what the installer made, for --uninstall
    assert prefix.is_dir() and "conda initialize" in (home / ".bashrc").read_text()

    refused = run_cli("--uninstall", "--silent", "--prefix", str(prefix), home=home)
    assert refused.returncode == 2 and "needs --yes" in refused.stderr and "Add --yes" in refused.stderr
    assert prefix.is_dir()

    res = run_cli("--uninstall", "--silent", "--yes", "--prefix", str(prefix), home=home)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert not prefix.exists()
    assert tree(home) == before  # every file byte for byte (and mode), backups gone, conda's own lines gone
    assert manifest.load(prefix) is None


@pytest.mark.slow
def test_uninstall_keeps_a_file_edited_since_and_exits_14(tmp_path, isolated_home, standin_installer):
    home = isolated_home
    _home_with_rc_files(home)
    zsh_before = (home / ".zshrc").read_bytes()
    prefix = tmp_path / "mc"
    res = run_cli("--silent", "--installer-file", str(standin_installer), "--prefix", str(prefix), "--no-env",
                  "--init-shells", "bash,zsh", home=home)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with open(home / ".bashrc", "a", encoding="utf-8") as fh:
        fh.write("alias ll='ls -l'\n")
    edited = (home / ".bashrc").read_bytes()
    res = run_cli("--uninstall", "--silent", "--yes", "--json", "--prefix", str(prefix), home=home)
    assert res.returncode == 14, res.stdout[-2000:] + res.stderr[-2000:]
    assert '"error": "UninstallError"' in res.stdout and ".bashrc was changed after the wizard edited it" in res.stdout
    assert (home / ".bashrc").read_bytes() == edited  # not clobbered
    assert list(home.glob(".bashrc.miniconda-wizard-*.bak"))  # its backup stays for the user
    assert (home / ".zshrc").read_bytes() == zsh_before and not list(home.glob(".zshrc.miniconda-wizard-*.bak"))
    assert not prefix.exists()


def test_no_record_is_exit_14_and_touches_nothing(tmp_path, isolated_home):
    prefix = tmp_path / "miniconda3"
    (prefix / "conda-meta").mkdir(parents=True)
    res = run_cli("--uninstall", "--silent", "--yes", "--prefix", str(prefix), home=isolated_home)
    assert res.returncode == 14
    assert "There is no record that miniconda-wizard installed or set up" in res.stderr
    assert (prefix / "conda-meta").is_dir()


@pytest.mark.slow
def test_uninstall_of_a_reused_installation_keeps_it(tmp_path, isolated_home, standin_prefix):
    home = isolated_home
    (home / ".bashrc").write_text("# mine\n")
    res = run_cli("--silent", "--prefix", str(standin_prefix), "--if-exists", "reuse", "--no-env",
                  "--init-shells", "bash", home=home)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert manifest.load(standin_prefix).made_by_us is False
    res = run_cli("--uninstall", "--silent", "--yes", "--prefix", str(standin_prefix), home=home)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "is kept" in res.stdout and (standin_prefix / "bin" / "conda").exists()
    assert (home / ".bashrc").read_text() == "# mine\n"


def test_windows_prefix_goes_through_its_own_uninstaller(tmp_path):
    prefix = tmp_path / "miniconda3"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "Uninstall-Miniconda3.exe").write_bytes(b"MZ")
    manifest.save(manifest.Manifest(str(prefix), made_by_us=True))
    assert uninstall.windows_uninstaller_argv(prefix) == [str(prefix / "Uninstall-Miniconda3.exe"), "/S",
                                                          f"_?={prefix}"]
    calls: list[list[str]] = []
    dry = uninstall.run(prefix, os_name="Windows", dry_run=True, run_uninstaller=lambda argv: calls.append(argv) or 0)
    assert calls == [] and dry.lines == [f"Would run {prefix / 'Uninstall-Miniconda3.exe'} /S _?={prefix}, then "
                                         f"remove what is left of {prefix}"]
    result = uninstall.run(prefix, os_name="Windows", run_uninstaller=lambda argv: calls.append(list(argv)) or 0)
    assert calls == [[str(prefix / "Uninstall-Miniconda3.exe"), "/S", f"_?={prefix}"]]
    assert result.prefix_removed and not prefix.exists()


def test_a_folder_that_no_longer_looks_like_ours_is_kept(tmp_path):
    prefix = tmp_path / "miniconda3"
    prefix.mkdir()
    (prefix / "thesis.tex").write_text("mine")
    manifest.save(manifest.Manifest(str(prefix), made_by_us=True))
    manifest.marker_path(prefix).unlink(missing_ok=True)
    with pytest.raises(UninstallError) as err:
        uninstall.run(prefix, os_name="Linux")
    assert "no longer looks like the installation the wizard made" in err.value.message
    assert err.value.exit_code == 14 and (prefix / "thesis.tex").read_text() == "mine"
