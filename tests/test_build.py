"""The build (issue 9, "Builds" and "CI that installs for real"): the spec, the console program without Qt, the
glibc floor check, the desktop file, the icons, and the GitHub workflow against the GitHub Actions schema.

The frozen bundle itself is built and exercised by ``.ci/run`` (build_scripts/frozen_check.py): a build takes
~35 s, too long for a unit test.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build_scripts"))

import check_glibc  # noqa: E402


# ---- the console program -------------------------------------------------------------------------------------
def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", "import sys; from app.cli_main import entry; sys.exit(entry())",
                           *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_console_program_never_imports_qt_even_when_a_path_would():
    """--uninstall without --silent would open a dialog in the GUI program; the console program implies --silent
    (needs --yes) and PySide6 cannot be imported in it."""
    code = ("import sys; from app.cli_main import QtBlocker; sys.meta_path.insert(0, QtBlocker())\n"
            "try:\n    import PySide6.QtWidgets\nexcept ImportError as e:\n    print('blocked', e)\n"
            "from app import cli_main; print(cli_main.console_argv(['--uninstall']))\n"
            "print(cli_main.console_argv(['/S', '--json']))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "blocked PySide6 is not available in miniconda-wizard-cli" in res.stdout, res.stderr
    assert "['--silent', '--uninstall']" in res.stdout and "['/S', '--json']" in res.stdout


def test_console_program_runs_silent_mode_and_loads_no_qt(tmp_path, mirror):
    code = ("import sys; from app.cli_main import entry\nrc = entry()\n"
            "print('QT', sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'app.gui'))))\n"
            "sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, "--dry-run", "--prefix", str(tmp_path / "mc"),
                          "--channels", "conda-forge", "--mirror", mirror.base_url], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("QT_")},
                              "HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert "QT []" in res.stdout and "Dry run" in res.stdout + res.stderr


def test_console_program_is_a_script_of_the_package():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["miniconda-wizard-cli"] == "app.cli_main:entry"


# ---- the spec ----------------------------------------------------------------------------------------------------
def test_one_spec_used_by_every_build_script():
    spec = ROOT / "build_scripts" / "miniconda-wizard.spec"
    ast.parse(spec.read_text(encoding="utf-8"))
    assert "miniconda-wizard.spec" in (ROOT / "build_scripts" / "build_pyinstaller.py").read_text()
    for script in ("build_linux.sh", "build_macos.sh", "build_windows.ps1"):
        assert "build_pyinstaller.py" in (ROOT / "build_scripts" / script).read_text(), script
    text = spec.read_text()
    assert 'console=False' in text and 'console=True' in text  # the GUI one windowed, the CLI one a console
    assert 'CLI_BLOCKED = ["PySide6", "shiboken6", "app.gui"]' in text
    from app.cli_main import BLOCKED

    assert list(BLOCKED) == ["PySide6", "shiboken6", "app.gui"]
    assert "upx=False" in text and "uac_admin=False" in text and "info_plist" in text
    manifest = (ROOT / "build_scripts" / "windows" / "miniconda-wizard.manifest").read_text()
    assert 'level="asInvoker"' in manifest


def test_the_runtime_hook_is_first():
    text = (ROOT / "build_scripts" / "miniconda-wizard.spec").read_text()
    assert 'rthooks = [str(ROOT / "build_scripts" / "rthook_user_env.py")]' in text
    assert text.count("runtime_hooks=rthooks") == 2


# ---- glibc floor -------------------------------------------------------------------------------------------------
OBJDUMP_SAMPLE = """
/x/libstdc++.so.6:     file format elf64-x86-64

DYNAMIC SYMBOL TABLE:
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.36) arc4random
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.2.5) free
0000000000000000      DF *UND*  0000000000000000  GLIBC_2.34  __libc_start_main
0000000000000000      DF *UND*  0000000000000000 (GLIBC_PRIVATE) _dl_find_object
00000000000a1b20 g    DF .text  0000000000000011  GLIBCXX_3.4 _ZNSt9exceptionD2Ev
00000000000a1b20 g    DF .text  0000000000000011 (GLIBC_2.99) defined_here_not_needed
"""


def test_objdump_parser_takes_the_highest_needed_version():
    versions = check_glibc.parse_objdump(OBJDUMP_SAMPLE)
    assert versions == {(2, 36), (2, 2, 5), (2, 34)}
    assert max(versions) == (2, 36)


@pytest.mark.skipif(not shutil.which("objdump") or not sys.platform.startswith("linux"), reason="needs binutils")
def test_glibc_check_reads_real_elf_files(tmp_path, capsys):
    """A real ELF file (this Python's executable) copied into a fake bundle: the floor is found and --max works."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(os.path.realpath(sys.executable), bundle / "python")
    (bundle / "notes.txt").write_text("not ELF")
    assert check_glibc.main([str(bundle)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("glibc floor: 2.") and "python" in out
    floor = out.split()[2]
    assert check_glibc.main([str(bundle), "--max", floor]) == 0
    assert check_glibc.main([str(bundle), "--max", "2.0"]) == 1
    assert "more than the allowed 2.0" in capsys.readouterr().err


# ---- desktop file and icons ---------------------------------------------------------------------------------------
@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils (install_system_deps.sh)")
def test_desktop_file_is_valid():
    res = subprocess.run(["desktop-file-validate", str(ROOT / "resources" / "miniconda-wizard.desktop")],
                         capture_output=True, text=True)
    assert res.returncode == 0 and not res.stdout.strip(), res.stdout + res.stderr


def test_install_desktop_entry_writes_an_absolute_exec(tmp_path):
    folder = tmp_path / "dir with space" / "miniconda-wizard"
    (folder / "icons").mkdir(parents=True)
    for s in (16, 24, 32, 48, 64, 128, 256):
        shutil.copy(ROOT / "resources" / "icons" / f"miniconda-wizard-{s}.png", folder / "icons")
    shutil.copy(ROOT / "resources" / "miniconda-wizard.desktop", folder)
    shutil.copy(ROOT / "build_scripts" / "linux" / "install-desktop-entry.sh", folder)
    data = tmp_path / "data"
    res = subprocess.run(["sh", str(folder / "install-desktop-entry.sh")], capture_output=True, text=True,
                         env={**os.environ, "XDG_DATA_HOME": str(data)})
    assert res.returncode == 0, res.stderr
    entry = (data / "applications" / "miniconda-wizard.desktop").read_text()
    assert f'Exec="{folder}/miniconda-wizard"' in entry and "Icon=miniconda-wizard" in entry
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "miniconda-wizard.png").exists()
    if shutil.which("desktop-file-validate"):
        v = subprocess.run(["desktop-file-validate", str(data / "applications" / "miniconda-wizard.desktop")],
                           capture_output=True, text=True)
        assert v.returncode == 0, v.stdout
    assert subprocess.run(["sh", str(folder / "install-desktop-entry.sh"), "--remove"],
                          env={**os.environ, "XDG_DATA_HOME": str(data)}).returncode == 0
    assert not (data / "applications" / "miniconda-wizard.desktop").exists()


def test_the_window_gets_the_icon(qtbot):
    from PySide6.QtWidgets import QApplication

    from app.gui.icon import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} >= {16, 32, 48, 256}
    assert QApplication.instance() is not None


# ---- the GitHub workflow ------------------------------------------------------------------------------------------
WORKFLOW = ROOT / ".github" / "workflows" / "build.yml"


def test_workflow_passes_the_github_actions_schema():
    exe = Path(sys.executable).parent / "check-jsonschema"
    res = subprocess.run([str(exe) if exe.exists() else "check-jsonschema", "--builtin-schema",
                          "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_workflow_installs_for_real_on_three_oses():
    import yaml

    doc = yaml.safe_load(WORKFLOW.read_text())
    job = doc["jobs"]["build"]
    oses = [m["os"] for m in job["strategy"]["matrix"]["include"]]
    assert oses == ["ubuntu-22.04", "windows-latest", "macos-14"]  # 22.04: the glibc floor
    runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert "--max-glibc 2.35" in runs and "real_install_check.py" in runs
    check = (ROOT / "build_scripts" / "real_install_check.py").read_text()
    assert '"--channels", "conda-forge"' in check and '"--gpu-check-only"' in check and '"--uninstall", "--yes"' in check
    assert any("upload-artifact" in str(s.get("uses", "")) for s in job["steps"])
