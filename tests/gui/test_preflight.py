"""When the wizard's window cannot open, it says why and exits 2 (not a Qt abort, exit 134).

Real processes (``python -m app``, the console script under an ``env -i``-like environment, Xvfb),
real libraries and real sockets; the only injection is the list of library names to load
(a name that exists nowhere stands for a library that is not installed).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.gui import preflight
from app.gui.preflight import DisplayUnavailable, check_display

ROOT = Path(__file__).resolve().parents[2]
MISSING = "libwizard-not-installed.so.0"


def _free_x_display() -> str:
    """An X display number nobody serves (no socket, no lock file)."""
    for n in range(1987, 2100):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise AssertionError("no free display number")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment as over SSH or in a service: no display variables, no Qt platform."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"), PYTHONUTF8="1")
    env.update(extra)
    return env


def _run_app(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


# ---- the real program ----------------------------------------------------------------------------
def test_no_display_says_so_and_exits_2(tmp_path):
    log = tmp_path / "wizard.log"
    res = _run_app(["--log-file", str(log)], _env(tmp_path))
    assert res.returncode == 2, (res.returncode, res.stderr)  # not 134 (SIGABRT), not a signal
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in res.stderr
    assert "--silent works without a display" in res.stderr
    assert "xcb-cursor" not in res.stderr  # Qt's misleading guess never shows
    assert res.stdout == ""
    text = log.read_text()
    assert "The wizard cannot start: The wizard needs a display" in text
    assert "exit code 2" in text


def test_console_script_under_env_i(tmp_path):
    """``env -i PATH=... miniconda-wizard``: no HOME, no DISPLAY, nothing; the default log is written."""
    script = Path(sys.executable).parent / "miniconda-wizard"
    if not script.exists():
        pytest.skip("the console script is not installed in this environment")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    res = subprocess.run([str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "DISPLAY" in res.stderr and "--silent" in res.stderr
    logs = list((tmp_path / ".local" / "state" / "miniconda-wizard" / "log").glob("install-*.log"))
    assert len(logs) == 1 and "The wizard needs a display" in logs[0].read_text()


def test_json_without_silent_gets_a_failed_event(tmp_path):
    res = _run_app(["--json", "--log-file", str(tmp_path / "w.log")], _env(tmp_path))
    assert res.returncode == 2, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    # --json asks for an unattended run: refused before any window (or display check) is tried
    assert event["event"] == "failed" and event["exit_code"] == 2 and event["error"] == "UsageError"
    assert event["stage"] == "plan" and isinstance(event["time"], float)
    assert "--json needs --silent" in event["message"] and "--silent" in event["fix"]


def test_display_that_answers_nothing(tmp_path):
    display = _free_x_display()
    res = _run_app(["--log-file", str(tmp_path / "w.log")], _env(tmp_path, DISPLAY=display))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert f"The display DISPLAY={display} cannot be opened" in res.stderr
    assert "--silent works without a display" in res.stderr


def test_explicit_xcb_without_display(tmp_path):
    res = _run_app(["--log-file", str(tmp_path / "w.log")], _env(tmp_path, QT_QPA_PLATFORM="xcb"))
    assert res.returncode == 2, res.stderr
    assert "DISPLAY is not set" in res.stderr


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_wizard_opens_under_xvfb(tmp_path):
    """With a real X server the check passes, Qt uses xcb, and the wizard shows (then closes itself)."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtGui import QGuiApplication\n"
        "import app.gui.wizard as w\n"
        "def show_event(self, event):\n"
        "    print('shown on', QGuiApplication.platformName(), flush=True)\n"
        "    self.confirm_close = False\n"
        "    QTimer.singleShot(0, self.reject)\n"
        "w.InstallerWizard.showEvent = show_event\n"
        "from app.cli import main\n"
        f"sys.exit(main(['--mirror', 'http://127.0.0.1:9/', '--log-file', {str(tmp_path / 'w.log')!r}]))\n"
    )
    res = subprocess.run(["xvfb-run", "-a", sys.executable, "-c", code], env=_env(tmp_path), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert "shown on xcb" in res.stdout, (res.returncode, res.stdout, res.stderr)
    assert res.returncode == 1, res.stderr  # closed with Cancel: the documented "cancelled" code of run()
    text = (tmp_path / "w.log").read_text()
    assert "Wizard started" in text and "Wizard closed" in text


# ---- check_display, one platform at a time ----------------------------------------------------------
def test_no_display_variables():
    with pytest.raises(DisplayUnavailable) as info:
        check_display({}, "linux", plugin_dir=False)
    exc = info.value
    assert exc.exit_code == 2
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in exc.message
    assert "--silent" in exc.fix


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "vnc", "vnc:size=800x600", "eglfs"])
def test_user_choice_of_a_platform_without_display_is_respected(platform):
    assert check_display({"QT_QPA_PLATFORM": platform}, "linux", plugin_dir=False,
                         xcb_libraries=(MISSING,)) == platform.split(":")[0]


@pytest.mark.parametrize("os_name", ["win32", "darwin"])
def test_windows_and_macos_are_not_checked(os_name):
    assert check_display({}, os_name, plugin_dir=False) is None


def test_missing_library_is_named_with_its_package(monkeypatch):
    monkeypatch.setitem(preflight.DEBIAN_PACKAGES, MISSING, "libwizard-not-installed0")
    seen = []
    with pytest.raises(DisplayUnavailable) as info:
        check_display({"DISPLAY": ":0"}, "linux", plugin_dir=False, xcb_libraries=("libc.so.6", MISSING),
                      connect=lambda d: seen.append(d))
    exc = info.value
    assert "Qt's xcb platform plugin needs libraries that are not installed: " + MISSING + "." in exc.message
    assert "sudo apt install libwizard-not-installed0" in exc.fix
    assert "--silent" in exc.fix
    assert exc.missing == (MISSING,)
    assert seen == []  # the display is not the problem named


def test_every_missing_library_is_listed():
    other = "libwizard-other-missing.so.3"
    with pytest.raises(DisplayUnavailable) as info:
        check_display({"DISPLAY": ":0"}, "linux", plugin_dir=False, xcb_libraries=(MISSING, "libc.so.6", other),
                      connect=lambda d: None)
    assert info.value.missing == (MISSING, other)
    assert "install them with your package manager" in info.value.fix  # no Debian name known for these


def test_known_qt_libraries_map_to_debian_packages():
    assert preflight.packages_for(["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-icccm.so.4"]) == [
        "libxcb-cursor0", "libxcb-icccm4", "libxkbcommon-x11-0"]
    assert set(preflight.XCB_LIBRARIES) <= set(preflight.DEBIAN_PACKAGES)
    assert set(preflight.WAYLAND_LIBRARIES) <= set(preflight.DEBIAN_PACKAGES)


def test_unreachable_x_display_is_reported():
    display = _free_x_display()
    why = preflight.x_display_error(display)
    assert why is not None and "no X server answers" in why
    with pytest.raises(DisplayUnavailable) as info:
        check_display({"DISPLAY": display}, "linux", plugin_dir=False, xcb_libraries=())
    assert f"The display DISPLAY={display} cannot be opened" in info.value.message


def test_bad_display_name():
    assert preflight.x_display_error("not a display") == "it is not a valid display name"


def test_fallback_list_passes_when_one_platform_works():
    env = {"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":5"}
    assert check_display(env, "linux", plugin_dir=False, xcb_libraries=(), connect=lambda d: None) == "xcb"


def test_wayland_socket_that_answers(tmp_path):
    path = tmp_path / "wayland-0"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        env = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": str(tmp_path)}
        assert check_display(env, "linux", plugin_dir=False, wayland_libraries=()) == "wayland"


def test_wayland_socket_missing(tmp_path):
    env = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": str(tmp_path)}
    with pytest.raises(DisplayUnavailable) as info:
        check_display(env, "linux", plugin_dir=False, wayland_libraries=())
    assert "WAYLAND_DISPLAY=wayland-0 cannot be opened" in info.value.message
    assert str(tmp_path / "wayland-0") in info.value.message


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build a plugin stand-in")
def test_plugin_whose_dependency_is_missing(tmp_path):
    """A platform plugin file that links a library which is not installed: its name comes from the loader."""
    lib_dir, plugin_dir = tmp_path / "lib", tmp_path / "platforms"
    lib_dir.mkdir()
    plugin_dir.mkdir()
    (tmp_path / "dep.c").write_text("int wizard_dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int wizard_dep(void);\nint plugin(void) { return wizard_dep(); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib_dir / "libwizarddep.so"), str(tmp_path / "dep.c"),
                    "-Wl,-soname,libwizarddep.so.1"], check=True)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(plugin_dir / "libqxcb.so"), str(tmp_path / "plugin.c"),
                    "-L", str(lib_dir), "-lwizarddep"], check=True)
    with pytest.raises(DisplayUnavailable) as info:
        check_display({"DISPLAY": ":0"}, "linux", plugin_dir=plugin_dir, xcb_libraries=(), connect=lambda d: None)
    assert info.value.missing == ("libwizarddep.so.1",)
    assert "libwizarddep.so.1" in info.value.message


def test_plugin_file_missing(tmp_path):
    with pytest.raises(DisplayUnavailable) as info:
        check_display({"DISPLAY": ":0"}, "linux", plugin_dir=tmp_path, xcb_libraries=(), connect=lambda d: None)
    assert "no libqxcb.so in" in info.value.message and "Reinstall" in info.value.fix


def test_the_real_qt_plugin_folder_is_found():
    folder = preflight.qt_platform_plugin_dir()
    assert folder is not None and (folder / "libqoffscreen.so").is_file()


def test_importing_the_check_loads_no_qt():
    code = "import sys, app.gui.preflight; print([n for n in sys.modules if n.startswith('PySide6')])"
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def _real_plugin(name: str) -> Path:
    folder = preflight.qt_platform_plugin_dir()
    assert folder is not None
    return folder / f"libq{name}.so"


def test_a_plugin_that_loads_settles_the_library_question():
    """PySide6's own xcb plugin loads here, so a library list is not consulted (frozen builds bundle libraries)."""
    plugin = _real_plugin("xcb")
    if preflight.load_error(str(plugin)) is not None:
        pytest.skip("Qt's xcb plugin cannot load on this machine")
    assert check_display({"DISPLAY": ":0"}, "linux", xcb_libraries=(MISSING,), connect=lambda d: None) == "xcb"


def test_real_plugin_with_a_missing_system_library_names_it():
    """Where PySide6's wayland plugin cannot load (here: no libwayland-cursor0), the loader's missing name is given."""
    plugin = _real_plugin("wayland")
    error = preflight.load_error(str(plugin))
    if error is None or "cannot open shared object file" not in error:
        pytest.skip("Qt's wayland plugin loads on this machine")
    missing = error.split(":", 1)[0]
    env = {"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "/nonexistent/wayland-0"}
    with pytest.raises(DisplayUnavailable) as info:
        check_display(env, "linux", wayland_libraries=())
    assert info.value.missing == (missing,)
    assert missing in info.value.message


def test_unknown_platform_name_is_refused(tmp_path):
    """A typo in QT_QPA_PLATFORM made Qt abort too; now the plugins there are named."""
    res = _run_app(["--log-file", str(tmp_path / "w.log")], _env(tmp_path, QT_QPA_PLATFORM="ofscreen"))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "QT_QPA_PLATFORM=ofscreen names no Qt platform plugin" in res.stderr
    assert "offscreen" in res.stderr and "xcb" in res.stderr
