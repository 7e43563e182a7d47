"""app.i18n: language detection, --lang, and Chinese errors with fixes in silent mode (a 404 and a failed env)."""

from __future__ import annotations

import re

import pytest

from app import i18n
from app.core.events import error_text
from tests.test_silent import events, run_cli

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_language("en")


@pytest.mark.parametrize("tag, lang", [
    ("zh_CN.UTF-8", "zh_CN"), ("zh_CN", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_SG.utf8", "zh_CN"), ("zh", "zh_CN"),
    ("zh-Hans", "zh_CN"), ("zh_TW.UTF-8", None), ("zh_HK", None), ("zh-Hant-TW", None), ("en_US.UTF-8", "en"),
    ("en", "en"), ("C", "en"), ("C.UTF-8", "en"), ("POSIX", "en"), ("de_DE.UTF-8", None), ("", None), (None, None),
])
def test_normalize(tag, lang):
    assert i18n.normalize(tag) == lang


@pytest.mark.parametrize("env, lang", [
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),          # LC_ALL wins
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "C"}, "zh_CN"),
    ({"LANG": "zh_TW.UTF-8"}, "en"),                                   # Traditional: not zh_CN
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),       # GNU LANGUAGE list first
    ({"LANGUAGE": "zh_CN", "LANG": "C.UTF-8"}, "en"),                  # ... but ignored under the C locale
    ({"LANGUAGE": "de:zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),
])
def test_detect_posix(env, lang):
    assert i18n.detect(env, platform="linux") == lang


@pytest.mark.parametrize("ui, lang", [("zh_CN", "zh_CN"), ("en_US", "en"), ("zh_TW", "en"), (None, "zh_CN")])
def test_detect_windows_uses_the_ui_language_first(ui, lang):
    # with no UI language (adapter failed) the environment decides
    assert i18n.detect({"LANG": "zh_CN.UTF-8"}, windows_ui_language=lambda: ui, platform="win32") == lang


@pytest.mark.parametrize("langid, tag", [(0x0804, "zh_CN"), (0x0409, "en_US"), (0x0404, "zh_TW"), (0x1004, "zh_SG")])
def test_windows_langid(langid, tag):
    assert i18n.langid_to_tag(langid) == tag


def test_set_language_binds_gettext_and_core_messages():
    assert i18n.set_language("zh_CN") == "zh_CN" and i18n.language() == "zh_CN"
    text = error_text("download", "x", "")
    assert text.startswith("错误（下载）：x\n解决办法：") and HAN.search(text.split("\n")[1])
    assert i18n.set_language("en") == "en"
    assert error_text("download", "x", "").startswith("ERROR (download): x\nWhat to do: ")
    with pytest.raises(ValueError):
        i18n.set_language("xx")


def test_lang_flag_is_in_help_and_refuses_unknown_values(isolated_home):
    res = run_cli("--help", home=isolated_home)
    assert "--lang" in res.stdout and "zh_CN" in res.stdout
    res = run_cli("--silent", "--lang", "fr", home=isolated_home)
    assert res.returncode == 2 and "--lang" in res.stderr


def test_silent_404_in_chinese(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--lang", "zh_CN", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--installer", "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",  # a real row; no file behind it
                  "--download-dir", str(tmp_path / "dl"), "--accept-tos", home=isolated_home)
    assert res.returncode == 4, res.stdout + res.stderr
    assert "==> 下载安装程序" in res.stdout
    assert "错误（下载）：下载 " in res.stderr and "失败：服务器返回 HTTP 404 Not Found。" in res.stderr
    assert "解决办法：请选择其他安装程序或其他镜像（静默模式用 --mirror）。" in res.stderr
    assert "What to do" not in res.stderr


def test_silent_404_follows_the_system_locale_and_json_carries_chinese(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--installer", "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
                  "--download-dir", str(tmp_path / "dl"), "--accept-tos", home=isolated_home,
                  extra_env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""})
    assert res.returncode == 4, res.stdout + res.stderr
    last = events(res.stdout)[-1]
    assert last["event"] == "failed" and last["exit_code"] == 4
    assert "HTTP 404" in last["message"] and HAN.search(last["message"]) and HAN.search(last["fix"])


@pytest.mark.slow
def test_silent_failed_env_in_chinese(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--lang", "zh_CN", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--download-dir", str(tmp_path / "dl"), "--accept-tos", "--no-gpu-check", home=isolated_home,
                  extra_env={"STANDIN_CONDA_CREATE_FAIL": "CondaError: disk on fire"})
    assert res.returncode == 9, res.stdout + res.stderr
    assert "==> 创建 conda 环境" in res.stdout
    assert "错误（环境）：conda create 失败：CondaError：disk on fire。未完成的环境 " in res.stderr
    assert "未完成的环境 " in res.stderr and "已删除（它是本次运行创建的），因此没有留下任何内容。" in res.stderr
    assert "解决办法：请阅读上面 conda 的消息和日志。" in res.stderr


def test_phase2_core_messages_speak_chinese():
    """Disk, installer-location and preset messages (phase 2) are gettext ids with named placeholders."""
    from app import i18n
    from app.core import disk_errors

    try:
        i18n.set_language("zh_CN")
        what, fix = disk_errors.advice(disk_errors.FULL, "/data", "--prefix")
        assert what == "/data 所在的磁盘已满（No space left on device）。"
        assert "释放" in fix and "df -h /data" in fix and "--prefix" in fix
        what, _fix = disk_errors.advice(disk_errors.QUOTA, "/home/u", "--prefix")
        assert "配额" in what and "/home/u" in what
        assert i18n.ngettext("The installation in {prefix} is incomplete: {missing} is missing, although the "
                             "installer reported success.",
                             "The installation in {prefix} is incomplete: {missing} are missing, although the "
                             "installer reported success.", 2).format(prefix="/p", missing="a, b") == \
            "/p 中的安装不完整：缺少 a, b，尽管安装程序报告成功。"
    finally:
        i18n.set_language("en")
    assert disk_errors.advice(disk_errors.FULL, "/data", "--prefix")[0].startswith("The disk holding /data is full")
