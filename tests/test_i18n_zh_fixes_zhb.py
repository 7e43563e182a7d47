"""Issue 9, the Chinese fix-up (brief h-zhb): the environment.yml problems, --help, the dry-run plan's
columns, the terms and the punctuation of the zh_CN catalogue. Each assertion fails on the code before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import i18n
from app.core import env_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def zh():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "environment.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_env_file_marker_problem_in_chinese(zh, tmp_path):
    path = _write(tmp_path, "name: x\ndependencies:\n  - python=3.11\n  - \"torch==2.0.1; sys_platform == 'linux'\"\n")
    assert env_file.problems(path) == [
        f"环境文件 {path}（--env-file / env_file），第 4 行：\"torch==2.0.1; sys_platform == 'linux'\" 是带环境标记"
        "（';'）的 pip 依赖声明，conda 无法读取；请把它移到 '- pip:' 下（dependencies 中的一个列表），由 pip 读取。"]


def test_env_file_other_problems_in_chinese(zh, tmp_path):
    assert env_file.problems(tmp_path / "nope.yml") == [
        f"环境文件 {tmp_path / 'nope.yml'}（--env-file / env_file）不存在。请给出一个 environment.yml 的路径。"]
    path = _write(tmp_path, "")
    assert env_file.problems(path) == [
        f"环境文件 {path}（--env-file / env_file）：文件为空。请给出含有 'dependencies:' 的文件（例如项目的 environment.yml）。"]
    path = _write(tmp_path, "dependecies:\n  - python=3.11\n")
    assert env_file.problems(path)[0] == (
        f"环境文件 {path}（--env-file / env_file），第 1 行：有键 'dependecies'；是不是想写 'dependencies'？conda 会忽略"
        "未知的键，所以它会被漏掉。请把它改名为 'dependencies'。")
    path = _write(tmp_path, "dependencies:\n\t- python\n")
    assert env_file.problems(path)[0].startswith(f"环境文件 {path}（--env-file / env_file），第 2 行第 1 列：不是有效的 YAML：")
    assert env_file.problems(path)[0].endswith("YAML 不允许用制表符缩进：请用空格缩进。")
    path = _write(tmp_path, "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --bogus\n")
    assert env_file.problems(path) == [
        f"环境文件 {path}（--env-file / env_file），第 5 行：'--bogus' 不是 requirements 文件接受的 pip 选项。请删除它，"
        "或按 pip 文档的写法书写（例如 --extra-index-url URL）。"]
    loaded = env_file.load(_write(tmp_path, "prefix: /old\ndependencies: [python=3.11]\n"))
    assert loaded.warnings == [f"环境文件 {loaded.path}（--env-file / env_file），第 1 行：含有 'prefix: /old'，这是它在"
                               "另一台机器上导出时所在的文件夹；此项将被忽略，环境按名称创建。"]


def test_env_file_problems_stay_english_by_default(tmp_path):
    path = _write(tmp_path, "dependencies:\n  - python=3.11\n  - \"torch; python_version > '3'\"\n")
    assert env_file.problems(path)[0].startswith(f"The environment file {path} (--env-file / env_file), line 3, ")


def test_silent_dry_run_names_the_env_file_problem_in_chinese(tmp_path):
    path = _write(tmp_path, "dependencies:\n  - python=3.11\n  - \"torch==2.0.1; sys_platform == 'linux'\"\n")
    env = dict(os.environ, HOME=str(tmp_path), PYTHONUTF8="1")
    env.pop("QT_QPA_PLATFORM", None)
    out = subprocess.run([sys.executable, "-m", "app", "--lang", "zh_CN", "--silent", "--dry-run", "--env-file",
                          str(path)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 2
    assert f"- 环境文件 {path}（--env-file / env_file），第 3 行：\"torch==2.0.1; sys_platform == 'linux'\" 是带环境标记" \
        in out.stdout + out.stderr


def _help(lang: str, columns: int = 100) -> str:
    env = dict(os.environ, COLUMNS=str(columns), PYTHONUTF8="1")
    return subprocess.run([sys.executable, "-m", "app", "--lang", lang, "--help"], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120).stdout


def test_help_headings_translated_with_full_width_colons():
    lines = _help("zh_CN").splitlines()
    for heading in ("选项：", "安装程序：", "安装：", "PATH 和 shell：", "环境：", "GPU 检查："):
        assert heading in lines
    assert not [line for line in lines if line and not line.startswith(" ") and line.endswith(":")]
    english = _help("en").splitlines()
    assert {"options:", "installer:", "install:", "env:", "GPU check:"} <= set(english)


def test_help_option_values_stay_literal_and_flags_never_break():
    text = _help("zh_CN")
    flat = " ".join(line.strip() for line in text.splitlines())
    assert "fail（默认，失败即停止）、reuse（复用，" in flat
    assert "fail（静默模式的默认，失败即停止）、reuse（复用）或 replace（替换）" in flat
    assert "（默认：latest，即最新）" in flat
    assert "PyTorch 构建变体：auto" in flat
    for columns in (60, 70, 80, 90):
        for line in _help("zh_CN", columns).splitlines() + _help("en", columns).splitlines():
            assert not line.rstrip().endswith(("--env-", "-", "--if-", "--installer-")) or line.strip() == "-"


def test_terms_in_the_catalogues():
    po = (ROOT / "resources/translations/zh_CN.po").read_text(encoding="utf-8")
    ts = (ROOT / "resources/translations/app_zh_CN.ts").read_text(encoding="utf-8")
    for text in (po, ts):
        assert "安装包" not in text and "PyTorch 版本" not in text and "静默模式下为" not in text
        assert "由镜像公布" not in text
    assert "个软件包都在环境中" in po
    assert "<translation>选择安装程序</translation>" in ts
    assert "<translation>PyTorch 构建变体</translation>" in ts


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_summary_values_in_one_column_by_display_width(lang):
    from app.core.plan import InstallPlan, SUMMARY_COLUMN, display_width
    from app.core.platform_info import PlatformInfo

    i18n.set_language(lang)
    try:
        text = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), accept_tos=True).summary()
    finally:
        i18n.set_language("en")
    labelled = [line for line in text.splitlines() if line[:1].strip() and ("：" in line or ":" in line)]
    assert len(labelled) > 5
    for line in labelled:
        colon = min(i for i in (line.find("："), line.find(":")) if i >= 0)
        if colon < 20 and line[colon + 1:colon + 2] == " ":
            head, rest = line[:colon + 1], line[colon + 1:]
            assert display_width(head) + len(rest) - len(rest.lstrip(" ")) == SUMMARY_COLUMN or \
                display_width(head) >= SUMMARY_COLUMN - 1, line
            if lang == "zh_CN" and display_width(head) != len(head):
                assert head.endswith("："), line
