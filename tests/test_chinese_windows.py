"""A Chinese Windows PC: a Chinese user name (profile and TEMP), and a proposed Chinese mirror when the official host is
slow. The Windows facts are pure functions, tested here with real inputs (a profile path in Chinese characters)."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pytest

from app.core import plan_checks, system
from app.core.plan import default_prefix
from app.core.platform_info import PlatformInfo

ZH_HOME = PureWindowsPath("C:\\Users\\张三")
ZH_TEMP = "C:\\Users\\张三\\AppData\\Local\\Temp"
WINDOWS = PlatformInfo("Windows", "x86_64")


def test_default_prefix_leaves_a_chinese_profile():
    assert str(default_prefix(WINDOWS, Path(str(ZH_HOME)))) == "C:\\miniconda3"
    assert str(default_prefix(WINDOWS, Path("C:\\Users\\John Smith"))) == "C:\\miniconda3"


@pytest.mark.parametrize(("environ", "found"), [
    ({"TEMP": ZH_TEMP, "TMP": ZH_TEMP}, ZH_TEMP),
    ({"TMP": "C:\\Temp", "TEMP": ZH_TEMP}, ZH_TEMP),
    ({"TMP": "C:\\Users\\ZHANGS~1\\AppData\\Local\\Temp", "TEMP": "C:\\Users\\ZHANGS~1\\AppData\\Local\\Temp"}, None),
    ({}, None),
])
def test_non_ascii_temp(environ, found):
    assert system.non_ascii_temp(environ) == found


@pytest.mark.parametrize(("prefix", "expected"), [
    ("C:\\miniconda3", "C:\\.miniconda-wizard-tmp"),
    ("D:\\tools\\miniconda3", "D:\\tools\\.miniconda-wizard-tmp"),
    ("D:\\张三的文件\\miniconda3", "D:\\.miniconda-wizard-tmp"),   # a parent in Chinese: the drive's root
    ("E:\\my tools\\miniconda3", "E:\\.miniconda-wizard-tmp"),     # a parent with a space
])
def test_installer_temp_moves_to_an_ascii_folder_when_temp_is_chinese(prefix, expected):
    got = system.ascii_temp_dir(PureWindowsPath(prefix), {"TEMP": ZH_TEMP, "TMP": ZH_TEMP})
    assert got == PureWindowsPath(expected)
    assert str(got).isascii()


def test_installer_temp_is_left_alone_for_an_ascii_temp():
    assert system.ascii_temp_dir(PureWindowsPath("C:\\miniconda3"), {"TEMP": "C:\\Temp", "TMP": "C:\\Temp"}) is None


def test_temp_env_for_the_windows_installer_makes_the_folder(tmp_path):
    env = system.temp_env(tmp_path / "miniconda3", {"TEMP": ZH_TEMP, "TMP": ZH_TEMP}, windows=True)
    side = tmp_path / system.SIDE_TEMP_NAME
    assert env == {"TMPDIR": str(side), "TMP": str(side), "TEMP": str(side)}
    assert side.is_dir()
    assert system.temp_env(tmp_path / "miniconda3", {"TEMP": "C:\\Temp"}, windows=True) == {}


def test_profile_note_explains_the_move_in_chinese_and_english():
    note = plan_checks.profile_note("Windows", ZH_HOME, PureWindowsPath("C:\\miniconda3"), {"TEMP": ZH_TEMP})
    assert note.startswith("你的用户名含中文字符（C:\\Users\\张三），conda 在这样的路径下会出错，所以安装到 C:\\miniconda3。")
    assert "Your user folder C:\\Users\\张三 contains non-ASCII characters" in note
    assert "C:\\.miniconda-wizard-tmp" in note and "临时文件夹" in note
    spaced = plan_checks.profile_note("Windows", "C:\\Users\\John Smith", "C:\\miniconda3", {})
    assert spaced.startswith("你的用户文件夹路径含空格") and "contains a space" in spaced and "临时" not in spaced


@pytest.mark.parametrize(("os_name", "home", "prefix"), [
    ("Windows", "C:\\Users\\zhang", "C:\\Users\\zhang\\miniconda3"),   # nothing to explain
    ("Windows", ZH_HOME, "C:\\Users\\张三\\miniconda3"),                # the user chose it: the plan check speaks
    ("Linux", "/home/张三", "/home/张三/miniconda3"),
])
def test_no_profile_note(os_name, home, prefix):
    assert plan_checks.profile_note(os_name, home, prefix, {}) is None
