"""Issue 9, the leftovers: texts built outside error calls speak 简体中文 too (presets and torch-variant titles
from the TOML tables, the reasons, env progress, env checks, condarc notes, the start-up checks, the early
cancel, child-process timeouts). Each assertion fails on the English-only code."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app import i18n
from app.core import condarc, env_progress, presets, torch_variant
from app.core.gpu_info import GpuDevice, GpuInfo
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build_scripts"))
import i18n_common as ic  # noqa: E402

LINUX = PlatformInfo("Linux", "x86_64")


@pytest.fixture
def zh():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture
def real_presets(monkeypatch):
    monkeypatch.delenv(presets.PRESETS_ENV, raising=False)


def test_toml_titles_are_catalogue_ids():
    where = {w: t for t, w in ic.table_texts()}
    assert where["resources/presets.toml preset.llm-gpu.title"] == "LLM on an NVIDIA GPU"
    assert where["resources/torch_variants.toml variant.cpu.on.MacOSX-x86_64.title"] == \
        "CPU only, the last Intel-Mac build (torch 2.2.2)"
    # the conda_errors rows keep their old "row-id.key" comments
    assert any(w.startswith("resources/conda_errors.toml ") and w.count(" ") == 1 for w in where)


def test_preset_titles_and_reasons_in_chinese(zh, real_presets):
    table = presets.load()
    assert table["llm-gpu"].title == "NVIDIA GPU 上的 LLM"
    assert table["minimal"].title == "最简 Python"
    choice = presets.resolve(InstallPlan(platform=LINUX, preset="llm-cpu"), gpu=None)
    assert choice.title == "CPU 上的 LLM"
    assert choice.reason == "由 --preset llm-cpu 选定：选择了 CPU 预设方案：CPU 版的 torch（无需下载 CUDA 库）。"
    choice = presets.resolve(InstallPlan(platform=LINUX, preset="minimal"), gpu=None)
    assert choice.reason == "由 --preset 选定。"
    auto = presets.resolve(InstallPlan(platform=LINUX, packages=["numpy"]), gpu=None)
    assert auto.reason.startswith("自动选择：") and auto.title == "自定义软件包"
    problems = presets.problems(InstallPlan(platform=LINUX, preset="nope"))
    assert problems[0].startswith("未知的预设方案 'nope'")


def test_preset_titles_stay_english_by_default(real_presets):
    assert presets.load()["llm-gpu"].title == "LLM on an NVIDIA GPU"


def test_torch_variant_reasons_and_titles_in_chinese(zh):
    cpu = torch_variant.choose(LINUX, None)
    assert cpu.title == "仅 CPU"
    assert cpu.reason == "未找到 NVIDIA GPU 驱动（nvidia-ml-py 和 nvidia-smi），因此安装 CPU 版的 torch。"
    mac = torch_variant.choose(PlatformInfo("MacOSX", "x86_64"), None)
    assert mac.title == "仅 CPU，最后一个 Intel Mac 版本（torch 2.2.2）" and mac.reason.startswith("Intel Mac：")
    old = GpuInfo("470.86", (GpuDevice("NVIDIA GeForce RTX 3090", "8.6"),), "nvidia-smi")
    choice = torch_variant.choose(LINUX, old)
    assert choice.reason.startswith("NVIDIA 驱动 470.86 对当前所有 PyTorch CUDA 版本都太旧：请将驱动更新到 >= 525.60.13")
    new = GpuInfo("590.44.01", (GpuDevice("NVIDIA GeForce GTX 1080", "6.1"),), "nvidia-smi")
    reason = torch_variant.choose(LINUX, new).reason
    assert "：CUDA 12.6 版本 cu126 适用（驱动 >= 525.60.13，计算能力 5.0 到 9.0）；cu130" in reason
    assert torch_variant.choose(LINUX, None, override="cu130").title == "CUDA 13.0"


def test_env_progress_in_chinese(zh):
    tracker = env_progress.StageTracker(clock=lambda: 0.0)
    tracker.feed("Collecting transformers==4.30.2")
    assert tracker.text().startswith("pip：正在收集 transformers==4.30.2")
    tracker.feed("Successfully installed a-1 b-2 c-3")
    assert tracker.text().startswith("pip：已安装 3 个包")
    tracker.feed("Solving environment: done")
    assert tracker.text().startswith("求解中 (")


def test_condarc_old_channel_warning_in_chinese(zh, tmp_path):
    lines = condarc.other_config({"/etc/conda/.condarc": {"channels": ["https://example.org/anaconda/pkgs/free"]}},
                                 tmp_path / ".condarc")
    warnings = [line for level, line in lines if level == "warning"]
    assert "Anaconda 旧的 'free' 渠道" in warnings[0] and "conda config --file /etc/conda/.condarc --remove channels" \
        in warnings[0]


def test_preflight_no_display_in_chinese(zh):
    from app.gui.preflight import DisplayUnavailable, check_display

    with pytest.raises(DisplayUnavailable) as info:
        check_display({}, "linux", plugin_dir=False)
    assert info.value.message.startswith("向导需要显示器，但这里没有")
    assert "--silent 无需显示器即可运行" in info.value.fix
    with pytest.raises(DisplayUnavailable) as info:
        check_display({"DISPLAY": ":0"}, "linux", plugin_dir=False, xcb_libraries=("libwizard-not-installed.so.0",))
    assert "需要以下未安装的库：libwizard-not-installed.so.0" in info.value.message


def test_preflight_report_of_the_real_program_in_chinese(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"), PYTHONUTF8="1")
    res = subprocess.run([sys.executable, "-m", "app", "--lang", "zh_CN", "--log-file", str(tmp_path / "w.log")],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "错误（" in res.stderr and "向导需要显示器" in res.stderr
    assert "解决办法：--silent 无需显示器即可运行" in res.stderr
    assert "日志文件：" in res.stderr


def test_early_cancel_in_chinese(monkeypatch, capsys):
    from app import __main__ as main_module
    from app.core.termination import handled_signals

    saved = {sig: signal.getsignal(sig) for sig in handled_signals()}
    monkeypatch.setattr(sys, "argv", ["miniconda-wizard", "--lang", "zh_CN", "--silent"])
    try:
        assert main_module._cancelled("SIGTERM", False) == 143
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        i18n.set_language("en")
    assert capsys.readouterr().err.strip() == "向导启动时被 SIGTERM 取消；没有做任何更改（尚未写入日志文件）。"


def test_child_timeout_in_chinese(zh):
    from app.core.system import run_streaming

    with pytest.raises(TimeoutError) as info:
        run_streaming([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert str(info.value).endswith("秒内完成") and "python" in str(info.value)


@pytest.mark.parametrize("seconds, en, zh_text", [(42, "42 s", "42 秒"), (185, "3 min 5 s", "3 分 5 秒"),
                                                  (180, "3 min", "3 分钟"), (3725, "1 h 2 min", "1 小时 2 分"),
                                                  (7200, "2 h", "2 小时")])
def test_times_left_are_in_the_chosen_language(zh, seconds, en, zh_text):
    """The download page's and silent mode's time left (a new user saw "3 min 5 s" inside Chinese text)."""
    from app.core.units import format_duration

    assert format_duration(seconds) == zh_text
    i18n.set_language("en")
    assert format_duration(seconds) == en
