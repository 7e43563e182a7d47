"""Issue 9 fix-up (h-zha): blocking install-location errors, error headers, cancel and failed-env joins in 简体中文.
Each assertion fails on the English-only code."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import i18n
from app.core import installer
from app.core.errors import PrefixError
from app.core.events import error_text
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

LINUX = PlatformInfo("Linux", "x86_64")


@pytest.fixture
def zh():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_join_sentences_in_both_languages(zh):
    assert i18n.join_sentences("conda create 失败：CondaError：disk on fire", "未完成的环境 /x 已删除。") == \
        "conda create 失败：CondaError：disk on fire。未完成的环境 /x 已删除。"
    assert i18n.join_sentences("这在这里是正确的。.") == "这在这里是正确的。"
    assert i18n.join_sentences("（conda：PackagesNotFoundError）", "未完成的环境") == \
        "（conda：PackagesNotFoundError）。未完成的环境。"
    i18n.set_language("en")
    assert i18n.join_sentences("a failed", None, "", "B.") == "a failed. B."


def test_error_header_names_the_stage_in_chinese(zh):
    assert error_text("download", "x", "y") == "错误（下载）：x\n解决办法：y"
    assert error_text("gpu_check", "x", "y").startswith("错误（GPU 检查）：")
    i18n.set_language("en")
    assert error_text("download", "x", "y").startswith("ERROR (download): x")


def test_non_empty_prefix_in_chinese(zh, tmp_path):
    target = tmp_path / "ne"
    target.mkdir()
    (target / "f").write_text("x")
    with pytest.raises(PrefixError) as err:
        installer.check_prefix(InstallPlan(platform=LINUX, prefix=target))
    assert err.value.message == f"{target} 是一个非空文件夹。"


def test_prefix_that_is_a_file_in_chinese(zh, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(PrefixError) as err:
        installer.check_prefix(InstallPlan(platform=LINUX, prefix=target))
    assert err.value.fix == "请选择其他安装位置。"


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_proc_prefix_in_chinese(zh):
    with pytest.raises(PrefixError) as err:
        installer.check_prefix(InstallPlan(platform=LINUX, prefix=Path("/proc/mc")))
    assert "an installation" not in err.value.message and "因此无法存放安装" in err.value.message
    assert err.value.fix.startswith("请选择其他安装位置")


def test_existing_install_is_named(zh, tmp_path):
    meta = tmp_path / "anaconda3" / "conda-meta"
    meta.mkdir(parents=True)
    (meta / "anaconda-2024.10-py312_0.json").write_text("{}")
    assert installer.existing_install_words(tmp_path / "anaconda3") == \
        f"{tmp_path / 'anaconda3'} 中已有一个 Anaconda Distribution 安装。"
    other = tmp_path / "x"
    (other / "conda-meta").mkdir(parents=True)
    assert installer.existing_install_words(other) == f"{other} 中已有一个 conda 安装。"
