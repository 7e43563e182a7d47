"""The start-up check names missing fonts and Qt's system libraries (issue 9: "A bare Debian 12 cannot open the
GUI"), with a real fontconfig pointed at font folders made here (``FONTCONFIG_FILE``)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from app.gui import preflight
from app.gui.preflight import DisplayUnavailable, check_fonts, font_count

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fontconfig and sonames: Linux")


def _fontconfig(tmp_path: Path, fonts: list[Path], monkeypatch) -> None:
    folder = tmp_path / "fonts"
    folder.mkdir()
    for f in fonts:
        shutil.copy(f, folder / f.name)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    f"<dir>{folder}</dir>\n<cachedir>{tmp_path / 'cache'}</cachedir>\n</fontconfig>\n")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))


def _a_system_font() -> Path:
    for root in ("/usr/share/fonts", "/usr/local/share/fonts"):
        for f in sorted(Path(root).rglob("*.ttf")) if Path(root).is_dir() else []:
            return f
    pytest.skip("no .ttf font on this machine (build_scripts/install_system_deps.sh installs fonts-dejavu-core)")


def test_no_font_at_all_stops_with_the_package_to_install(tmp_path, monkeypatch):
    _fontconfig(tmp_path, [], monkeypatch)
    assert font_count(":") == 0
    with pytest.raises(DisplayUnavailable) as info:
        check_fonts({"LANG": "en_US.UTF-8"})
    exc = info.value
    assert exc.exit_code == 2
    assert "no font is installed" in exc.message
    assert "sudo apt install fonts-dejavu-core" in exc.fix and "sudo dnf install dejavu-sans-fonts" in exc.fix
    assert "--silent" in exc.fix


def test_a_chinese_interface_without_a_cjk_font_is_told_which_package(tmp_path, monkeypatch):
    _fontconfig(tmp_path, [_a_system_font()], monkeypatch)  # a Latin font only
    assert font_count(":") >= 1 and font_count(":lang=zh-cn") == 0
    warning = check_fonts({"LANG": "zh_CN.UTF-8"})
    assert warning and "sudo apt install fonts-noto-cjk" in warning and "google-noto-sans-cjk-fonts" in warning
    assert check_fonts({"LANG": "en_US.UTF-8"}) is None  # English needs no CJK font
    assert check_fonts({"LANG": "en_US.UTF-8"}, ["--lang", "zh_CN"]) == warning
    assert check_fonts({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}) is None  # LC_ALL wins


def test_a_cjk_font_satisfies_the_check():
    counts = {":": 3, ":lang=zh-cn": 1}
    assert check_fonts({"LANG": "zh_CN.UTF-8"}, count=counts.get) is None
    assert check_fonts({"LANG": "zh_CN.UTF-8"}, count=lambda p: None) is None  # no fontconfig: libraries say so


def test_offscreen_lists_every_missing_qt_gui_library(tmp_path, monkeypatch):
    """QT_QPA_PLATFORM=offscreen needs no display, but Qt's GUI library still needs libGL/libEGL: all missing ones
    are named (not only the first the loader met), with Debian and Fedora packages."""
    plugins = tmp_path / "platforms"
    plugins.mkdir()
    (plugins / "libqoffscreen.so").write_bytes(b"not an ELF file")  # a plugin that cannot load
    monkeypatch.setattr(preflight, "QTGUI_LIBRARIES", ("libGL-missing-here.so.1", "libc.so.6"))
    monkeypatch.setitem(preflight.DEBIAN_PACKAGES, "libGL-missing-here.so.1", "libgl1")
    monkeypatch.setitem(preflight.FEDORA_PACKAGES, "libGL-missing-here.so.1", "libglvnd-glx")
    with pytest.raises(DisplayUnavailable) as info:
        preflight.check_display({"QT_QPA_PLATFORM": "offscreen"}, "linux", plugin_dir=plugins)
    assert info.value.missing == ("libGL-missing-here.so.1",)
    assert "sudo apt install libgl1" in info.value.fix and "sudo dnf install libglvnd-glx" in info.value.fix
