"""Child processes of the frozen wizard get the user's own environment (issue 9, "Found in the first frozen build").

The frozen state is simulated the way PyInstaller 6 leaves it (``sys.frozen``, ``sys._MEIPASS``, the bootloader's
``LD_LIBRARY_PATH`` / ``LD_LIBRARY_PATH_ORIG`` / ``_PYI_*`` and the PySide6 runtime hook's ``QT_PLUGIN_PATH`` /
``QML2_IMPORT_PATH``), and a REAL child prints the environment it got. The real frozen bundle is checked by
``build_scripts/frozen_check.py`` in ``.ci/run``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from app.core import child_env
from app.core.system import child_env as system_child_env, run_streaming

PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


@pytest.fixture
def frozen(tmp_path, monkeypatch):
    """A simulated onedir bundle at tmp_path/dist/miniconda-wizard, with the variables its start-up sets."""
    internal = tmp_path / "dist" / "miniconda-wizard" / "_internal"
    (internal / "PySide6" / "Qt" / "plugins").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    user = {"LD_LIBRARY_PATH": "/opt/user/lib", "QT_PLUGIN_PATH": "/usr/lib/user-qt-plugins",
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "zh_CN.UTF-8"}
    child_env.remember(user)  # what the bundle's first runtime hook sees
    bundle = dict(user)
    bundle.update({
        # bootloader
        "LD_LIBRARY_PATH": f"{internal}{os.pathsep}/opt/user/lib", "LD_LIBRARY_PATH_ORIG": "/opt/user/lib",
        "_PYI_APPLICATION_HOME_DIR": str(internal), "_PYI_ARCHIVE_FILE": str(internal.parent / "miniconda-wizard"),
        "_PYI_PARENT_PROCESS_LEVEL": "0", "_PYI_LINUX_PROCESS_NAME": "miniconda-wizard",
        # PySide6 runtime hook, PySide6 itself, and the wizard's display check
        "QT_PLUGIN_PATH": str(internal / "PySide6" / "Qt" / "plugins"),
        "QML2_IMPORT_PATH": str(internal / "PySide6" / "Qt" / "qml"),
        "PYSIDE6_OPTION_PYTHON_ENUM": "1", "QT_QPA_PLATFORM": "xcb",
        # a hook that prepends the bundle to a search list (Windows PATH, macOS DYLD_LIBRARY_PATH, GIO...)
        "PATH": f"{internal}{os.pathsep}{os.environ['PATH']}",
        "GIO_MODULE_DIR": str(internal / "gio_modules"),
    })
    yield bundle, user, internal
    child_env.forget()


def _child_sees(env: dict[str, str]) -> dict[str, str]:
    res = run_streaming([sys.executable, "-c", PRINT_ENV], env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_a_real_child_of_the_frozen_app_gets_the_users_environment(frozen):
    bundle, user, internal = frozen
    seen = _child_sees(system_child_env(base=bundle))
    assert seen["LD_LIBRARY_PATH"] == "/opt/user/lib"
    assert seen["QT_PLUGIN_PATH"] == "/usr/lib/user-qt-plugins"  # the user's own value, not the bundle's
    assert seen["PATH"] == user["PATH"]
    for gone in ("QML2_IMPORT_PATH", "PYSIDE6_OPTION_PYTHON_ENUM", "QT_QPA_PLATFORM", "GIO_MODULE_DIR",
                 "LD_LIBRARY_PATH_ORIG"):
        assert gone not in seen, gone
    assert not [k for k in seen if k.startswith("_PYI_")]
    assert not [k for k, v in seen.items() if str(internal) in v], "a value still points into the bundle"
    assert seen["LANG"] == "zh_CN.UTF-8" and seen["PYTHONUTF8"] == "1"


def test_without_a_snapshot_the_frozen_app_drops_what_the_bundle_set(frozen):
    bundle, _user, _internal = frozen
    child_env.forget()
    bundle = {k: v for k, v in bundle.items() if k != "LD_LIBRARY_PATH_ORIG"}  # the user had none
    env = child_env.user_environ(bundle)
    for gone in ("LD_LIBRARY_PATH", "QT_PLUGIN_PATH", "QML2_IMPORT_PATH", "PYSIDE6_OPTION_PYTHON_ENUM",
                 "QT_QPA_PLATFORM"):
        assert gone not in env, gone


def test_from_source_only_leftovers_of_a_frozen_parent_are_removed(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    child_env.forget()
    base = {"QT_PLUGIN_PATH": "/mine", "QT_QPA_PLATFORM": "wayland", "PATH": "/usr/bin", "_PYI_ARCHIVE_FILE": "/x",
            "LD_LIBRARY_PATH": "/tmp/_MEI1:/usr/local/lib", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib"}
    env = child_env.user_environ(base)
    assert env == {"QT_PLUGIN_PATH": "/mine", "QT_QPA_PLATFORM": "wayland", "PATH": "/usr/bin",
                   "LD_LIBRARY_PATH": "/usr/local/lib"}
    assert base["_PYI_ARCHIVE_FILE"] == "/x"  # the input is not changed


@pytest.mark.parametrize("value, expected", [
    ("{b}:/usr/bin", "/usr/bin"),
    ("/usr/bin:{b}/x:/bin", "/usr/bin:/bin"),
    ("{b}", None),
    ("{b}/plugins:{b}/qml", None),
    ("/usr/bin:/bin", "/usr/bin:/bin"),
    ("{b}-other/lib", "{b}-other/lib"),  # a sibling folder whose name starts the same is not inside
    ("", ""),
])
def test_strip_bundle_paths(tmp_path, value, expected):
    b = str(tmp_path / "_internal")
    value = value.replace(":", os.pathsep).format(b=b)
    want = None if expected is None else expected.replace(":", os.pathsep).format(b=b)
    assert child_env.strip_bundle_paths(value, b) == want


def test_the_bundle_runtime_hook_takes_the_snapshot(monkeypatch):
    """build_scripts/rthook_user_env.py is the bundle's first runtime hook: it must call remember()."""
    child_env.forget()
    hook = Path(__file__).resolve().parent.parent / "build_scripts" / "rthook_user_env.py"
    monkeypatch.setenv("QT_PLUGIN_PATH", "/before/the/hooks")
    try:
        exec(compile(hook.read_text(encoding="utf-8"), str(hook), "exec"), {"__name__": "__main__"})
        assert child_env.remembered()["QT_PLUGIN_PATH"] == "/before/the/hooks"
    finally:
        child_env.forget()


# ---- links (app.gui.open_url) -------------------------------------------------------------------------------
FAKE_OPENER = """#!/bin/sh
# a stand-in xdg-open: records its arguments and environment
env > "$RECORD.env"
printf '%s\\n' "$@" > "$RECORD.args"
"""


@pytest.fixture
def fake_xdg_open(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text(FAKE_OPENER)
    opener.chmod(0o755)
    return bin_dir, tmp_path / "record"


def _wait_for(path: Path, qtbot) -> str:
    qtbot.waitUntil(lambda: path.exists() and path.stat().st_size > 0, timeout=10_000)
    qtbot.wait(50)  # the opener writes .env first, then .args
    return path.read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="xdg-open is the Linux opener")
def test_a_link_in_the_frozen_app_opens_with_the_users_environment(frozen, fake_xdg_open, qtbot, monkeypatch):
    """The ToS link of the env page, clicked in the frozen build: xdg-open gets the user's environment."""
    from PySide6.QtWidgets import QLabel

    from app.gui.open_url import open_url

    bundle, _user, internal = frozen
    bin_dir, record = fake_xdg_open
    bundle["PATH"] = f"{internal}{os.pathsep}{bin_dir}{os.pathsep}{os.environ['PATH']}"
    bundle["RECORD"] = str(record)
    for k in list(os.environ):
        monkeypatch.delenv(k)
    for k, v in bundle.items():
        monkeypatch.setenv(k, v)
    label = QLabel('<a href="https://www.anaconda.com/legal/terms/terms-of-service?a=1&b=2">Read</a>')
    qtbot.addWidget(label)
    label.linkActivated.connect(open_url)
    label.linkActivated.emit("https://www.anaconda.com/legal/terms/terms-of-service?a=1&b=2")
    env_text = _wait_for(record.with_suffix(".env"), qtbot)
    args = _wait_for(record.with_suffix(".args"), qtbot).splitlines()
    assert args == ["https://www.anaconda.com/legal/terms/terms-of-service?a=1&b=2"]
    seen = dict(line.split("=", 1) for line in env_text.splitlines() if "=" in line)
    assert seen["LD_LIBRARY_PATH"] == "/opt/user/lib"
    assert seen["QT_PLUGIN_PATH"] == "/usr/lib/user-qt-plugins"
    for gone in ("QML2_IMPORT_PATH", "PYSIDE6_OPTION_PYTHON_ENUM", "LD_LIBRARY_PATH_ORIG", "QT_QPA_PLATFORM"):
        assert gone not in seen, gone
    assert not [k for k in seen if k.startswith("_PYI_")]
    assert str(internal) not in env_text


def test_links_open_only_web_and_mail_addresses(qtbot):
    from app.gui.open_url import open_url, opener_argv

    assert open_url("file:///bin/sh", frozen=True) is False
    assert open_url("javascript:alert(1)", frozen=True) is False
    assert opener_argv("https://x.org/", "win32") == ["rundll32", "url.dll,FileProtocolHandler", "https://x.org/"]
    assert opener_argv("https://x.org/", "darwin") == ["open", "https://x.org/"]
    assert opener_argv("https://x.org/", "linux") == ["xdg-open", "https://x.org/"]


def test_every_gui_link_goes_through_open_url():
    """No label opens links through QDesktopServices itself (setOpenExternalLinks), and nothing else calls
    QDesktopServices.openUrl: in the frozen build that starts the browser with the bundle's libraries."""
    root = Path(__file__).resolve().parent.parent / "app"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "open_url.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("setOpenExternalLinks(True)", "QDesktopServices"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []
