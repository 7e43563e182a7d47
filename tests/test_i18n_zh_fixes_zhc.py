"""Chinese findings of issue 9 (helper h-zhc): run lines, GPU texts, joins, message vs fix, brackets."""
from __future__ import annotations

import pytest

from app import i18n


@pytest.fixture
def zh():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_probe_cpu_reason_is_translated_by_pattern(zh):
    from app.core.gpu_check import probe_text

    assert probe_text("this PyTorch is a CPU-only build (torch 2.13.0+cpu has no CUDA support)") == \
        "此 PyTorch 是仅 CPU 的构建变体（torch 2.13.0+cpu 不支持 CUDA）"
    assert probe_text("cannot import torch in /e/bin/python: No module named 'torch'") == \
        "无法在 /e/bin/python 中导入 torch：No module named 'torch'"
    assert probe_text("something new") == "something new"


def test_probe_text_english_unchanged():
    from app.core.gpu_check import probe_text

    text = "this PyTorch is a CPU-only build (torch 2.13.0+cpu has no CUDA support)"
    assert probe_text(text) == text


def test_hash_mismatch_has_no_stray_spaces(zh):
    from app.core import download

    class C:
        hash_source = "index"

    err = download._mismatch(C(), "000", "111", "x.sh", local=False)
    assert "但索引中的值为 000。" in err.message


def test_quote_in_prefix_is_named_and_hint_joined(zh):
    from app.core import plan_checks

    assert plan_checks.shown_chars(["'", "$"]) == "单引号 '、美元符号 $"
    assert i18n.join_sentences("甲。", " 请改用 /x。") == "甲。请改用 /x。"


def test_quote_in_prefix_english_unchanged():
    from app.core import plan_checks

    assert plan_checks.shown_chars(["'", "$"]) == "' $"


def test_catalogue_entries(zh):
    _ = i18n._
    assert _("{text} ({inner})").format(text="bash", inner="~/.bashrc") == "bash（~/.bashrc）"
    assert _("env {name} at {prefix}").format(name="llm", prefix="/p") == "环境 llm，位于 /p"
    assert _("latest for {tag}").format(tag="Linux-x86_64") == "Linux-x86_64 的最新版本"
    assert _("LLM libraries") == "LLM 库"
    assert _("{title}: {message}\nTrained {trained}{figures}.").format(
        title="仅 CPU", message="m。", trained="在 CPU（x）上训练了 20 步", figures="") == "仅 CPU：m。\n在 CPU（x）上训练了 20 步。"
    assert "词元/秒" in _("{count} steps on {device} ({name}) at {rate:.1f} steps/s, {tokens:,.0f} tokens/s (loss "
                          "{loss_first:.2f} -> {loss_last:.2f})")
    assert _("Leave out one flag of each pair named above.") == "请去掉上面每对参数中的一个。"


def test_headline_has_one_stop(zh):
    from app.core.gpu_check import GpuCheckResult
    import dataclasses

    fields = {f.name: None for f in dataclasses.fields(GpuCheckResult) if f.default is dataclasses.MISSING}
    r = GpuCheckResult(**fields)
    r.verdict_text = "仅 CPU：环境中的 PyTorch 是仅 CPU 构建，这在这里是正确的。\n在 CPU 上训练了 20 步。"
    assert r.headline == "仅 CPU：环境中的 PyTorch 是仅 CPU 构建，这在这里是正确的。"


def test_silent_console_labels_warnings_and_errors_in_the_chosen_language():
    """A Chinese-reading tester saw "warning: 正在删除未完成的环境 ..." (an English label before a Chinese line)."""
    import io

    from app import i18n
    from app.core.errors import Stage
    from app.silent import ConsoleReporter

    out = io.StringIO()
    i18n.set_language("zh_CN")
    try:
        reporter = ConsoleReporter(out)
        reporter.log(Stage.ENV, "正在删除未完成的环境", "warning")
        reporter.log(Stage.ENV, "conda create 失败", "error")
    finally:
        i18n.set_language("en")
    assert "    警告：正在删除未完成的环境\n" in out.getvalue() and "    错误：conda create 失败\n" in out.getvalue()


def test_the_saved_gpu_report_is_in_the_chosen_language():
    """Save report (Markdown) from the Chinese GPU page had English headings and field names."""
    from app import i18n
    from app.core.gpu_check import report_markdown

    doc = {"verdict": {"title": "仅 CPU", "headline": "训练在 CPU 上运行。", "fix": "无需修复。"},
           "hardware": {"description": "没有 GPU", "devices": []}, "python": "/x/bin/python",
           "result": {"python_version": "3.11.7", "torch_version": "2.13.0+cpu", "cuda_version": None, "device": "cpu",
                      "device_name": "AMD EPYC", "model": "torch.nn", "precision": "fp32", "steps": 5,
                      "loss_first": 4.2, "loss_last": 3.1, "steps_per_second": 8.0, "tokens_per_second": 1000.0}}
    i18n.set_language("zh_CN")
    try:
        text = report_markdown(doc)
    finally:
        i18n.set_language("en")
    assert "## 硬件" in text and "## 训练" in text and "**解决办法：** 无需修复。" in text
    assert "- Python：`/x/bin/python`（3.11.7），torch 2.13.0+cpu（CUDA 无）" in text
    assert "## Hardware" in report_markdown(doc)  # English stays English
