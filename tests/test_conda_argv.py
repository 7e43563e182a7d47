"""conda is started from an argument list, never through a shell (issue 11, "Never run conda through cmd.exe").

The Windows command lines are built on Linux from a :class:`PureWindowsPath` prefix and checked exactly; the
Linux ones run for real against the stand-in conda, which records the argv it received.
"""

from __future__ import annotations

import ast
import json
import re
import stat
import sys
from pathlib import Path, PureWindowsPath

import pytest

from app.core import conda_cmd, conda_env, installer
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.system import run_streaming
from tests.support.standin import read_calls

WINDOWS = PlatformInfo("Windows", "x86_64")
LINUX = PlatformInfo("Linux", "x86_64")
ROOT = Path(__file__).resolve().parent.parent
WIN_PREFIX = PureWindowsPath(r"C:\miniconda3")
PY = r"C:\miniconda3\python.exe"

#: The issue's inputs: each goes to conda as one argument, byte for byte.
TRICKY_PACKAGES = ("numpy>=1.26", "numpy<2", "numpy 1.26|1.27", "scipy>=1.11,<2|>=2.1")
TRICKY_CHANNELS = ("https://mirror.example/conda?token=a&b=1", "https://mirror.example/x^y/conda-forge")


def everything_exists(_path) -> bool:
    return True


def windows_plan(**kw) -> InstallPlan:
    return InstallPlan(platform=WINDOWS, prefix=Path(str(WIN_PREFIX)), preset="minimal", gpu_check=False, **kw)


# ---- the entry point -------------------------------------------------------------------------------------------

def test_windows_runs_python_m_conda_not_conda_bat():
    assert conda_cmd.conda_argv(WIN_PREFIX, "Windows", "--version", exists=everything_exists) == [
        PY, "-m", "conda", "--version"]


def test_windows_falls_back_to_scripts_conda_exe_only_without_python():
    seen = {PureWindowsPath(r"C:\miniconda3\Scripts\conda.exe")}
    assert conda_cmd.conda_argv(WIN_PREFIX, "Windows", "info", exists=lambda p: p in seen) == [
        r"C:\miniconda3\Scripts\conda.exe", "info"]


def test_linux_and_macos_exec_bin_conda_directly():
    for os_name in ("Linux", "MacOSX"):
        assert conda_cmd.conda_argv(Path("/opt/mc"), os_name, "--version") == ["/opt/mc/bin/conda", "--version"]


def test_conda_executable_on_windows_prefers_python_exe_and_never_conda_bat(tmp_path):
    (tmp_path / "condabin").mkdir()
    (tmp_path / "condabin" / "conda.bat").write_text("@echo off\n")
    (tmp_path / "Scripts").mkdir()
    (tmp_path / "Scripts" / "conda.exe").write_bytes(b"MZ")
    assert installer.conda_executable(tmp_path, "Windows") == tmp_path / "Scripts" / "conda.exe"
    (tmp_path / "python.exe").write_bytes(b"MZ")
    exe = installer.conda_executable(tmp_path, "Windows")
    assert exe == tmp_path / "python.exe"
    assert conda_cmd.argv_for(exe) == [str(tmp_path / "python.exe"), "-m", "conda"]
    assert conda_cmd.root_of(exe) == tmp_path
    assert conda_cmd.root_of(tmp_path / "Scripts" / "conda.exe") == tmp_path
    assert conda_cmd.root_of(tmp_path / "bin" / "conda") == tmp_path


def test_a_batch_file_is_refused():
    for bat in (r"C:\mc\condabin\conda.bat", r"C:\mc\condabin\conda.CMD"):
        with pytest.raises(ValueError, match="cmd.exe"):
            conda_cmd.argv_for(bat)


# ---- the exact command lines the plan produces on Windows --------------------------------------------------------

def test_windows_create_argv_keeps_every_metacharacter():
    plan = windows_plan(packages=TRICKY_PACKAGES, channels=TRICKY_CHANNELS)
    plan.validate()
    exe = conda_cmd.entry_point(WIN_PREFIX, "Windows", exists=everything_exists)
    assert conda_env.create_argv(plan, exe) == [
        PY, "-m", "conda", "create", "--yes", "--json", "-n", "llm", "python=3.11", "pip",
        "numpy>=1.26", "numpy<2", "numpy 1.26|1.27", "scipy>=1.11,<2|>=2.1",
        "--override-channels",
        "-c", "https://mirror.example/conda?token=a&b=1",
        "-c", "https://mirror.example/x^y/conda-forge",
    ]


@pytest.mark.parametrize("spec", TRICKY_PACKAGES)
def test_each_windows_input_is_one_argument(spec):
    exe = conda_cmd.entry_point(WIN_PREFIX, "Windows", exists=everything_exists)
    argv = conda_env.create_argv(windows_plan(packages=(spec,)), exe)
    assert argv[:3] == [PY, "-m", "conda"]
    assert argv[-1] == spec
    assert not any(a.lower().endswith((".bat", ".cmd")) or a.lower() in ("cmd", "cmd.exe", "/c") for a in argv)


def test_argv_reaches_a_windows_style_entry_point_unchanged(tmp_path):
    """A ``python.exe`` that records its argv (a real program; no shell in between) gets every argument as given."""
    log = tmp_path / "argv.json"
    fake = tmp_path / "python.exe"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nopen({str(log)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    plan = windows_plan(packages=TRICKY_PACKAGES, channels=TRICKY_CHANNELS)
    argv = conda_env.create_argv(plan, installer.conda_executable(tmp_path, "Windows"))
    assert run_streaming(argv, timeout=60).returncode == 0
    assert json.loads(log.read_text()) == argv[1:]


def test_linux_conda_create_gets_the_specs_unchanged(standin_prefix):
    plan = InstallPlan(platform=LINUX, prefix=standin_prefix, preset="minimal", gpu_check=False,
                       packages=("numpy>=1.26", "numpy<2"), accept_tos=True)
    conda_env.create(plan, installer.conda_executable(standin_prefix, "Linux"), RecordingReporter(), CancelToken())
    creates = [c["argv"] for c in read_calls(standin_prefix) if "create" in c["argv"]]
    assert creates and "numpy>=1.26" in creates[-1] and "numpy<2" in creates[-1]


# ---- nothing starts conda through a shell -------------------------------------------------------------------------

def _shell_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Lines of ``tree`` that start a program through a shell: ``shell=True``, ``os.system``/``os.popen``,
    a command list or string starting with ``cmd``/``cmd.exe``/``COMSPEC``, or a ``conda.bat``/``.cmd`` in code
    (strings that are not docstrings)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f"{getattr(f.value, 'id', '')}.{f.attr}" if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("os.system", "os.popen", "os.startfile"):
                hits.append((node.lineno, name))
            for kw in node.keywords:
                if kw.arg == "shell" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                    hits.append((node.lineno, "shell="))
        elif isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) >= 2 and isinstance(node.elts[0], ast.Constant) \
                and str(node.elts[0].value).lower() in ("cmd", "cmd.exe", "%comspec%"):
            hits.append((node.lineno, "cmd list"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                and re.search(r"conda\.(bat|cmd)\b|^cmd(\.exe)?\s+/[ck]", node.value, re.IGNORECASE):
            hits.append((node.lineno, node.value[:60]))
    return hits


def test_the_shell_check_finds_each_kind():
    """The check below can fail: each way of starting conda through a shell is found."""
    for code in ("subprocess.run(argv, shell=True)", "os.system('conda info')", "run([\"cmd.exe\", \"/c\", x])",
                 "exe = prefix / 'condabin' / 'conda.bat'", "run('cmd /c conda create')"):
        assert _shell_uses(ast.parse(code)), code
    assert _shell_uses(ast.parse('"""Never run condabin\\\\conda.bat."""\nrun(argv, shell=False)')) == []


def test_no_code_path_starts_conda_through_a_shell():
    hits = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for line, what in _shell_uses(ast.parse(path.read_text(encoding="utf-8"))):
            hits.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert hits == []


def test_every_conda_call_site_uses_conda_cmd():
    """Each module that runs conda builds the command with app.core.conda_cmd (``argv_for``)."""
    for name in ("conda_env", "condarc", "env_verify", "tos", "installer"):
        text = (ROOT / "app" / "core" / f"{name}.py").read_text(encoding="utf-8")
        assert "conda_cmd.argv_for(" in text, name
        assert not re.search(r"run_streaming\(\[\s*(str\()?conda_exe\b", text), name
