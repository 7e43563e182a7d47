"""The wizard in 简体中文: every page, Qt's own buttons, and the language switch on the first page (app.i18n)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QAbstractButton, QWizard

from app import i18n
from app.core.events import RecordingReporter
from app.gui.wizard import InstallerWizard, PageId
from tests.gui.helpers import local_plan

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def english_after(qapp):
    yield
    i18n.set_language("en")
    i18n.install_qt_translators(qapp, "en")


#: Product names and commands, which stay as they are in every language.
PRODUCT_NAMES = {"Miniconda", "Miniforge", "conda", "PowerShell", "pip", "PyTorch", "CUDA", "init", "powershell",
                 "bash", "zsh", "fish", "cmd", "mamba", "Anaconda"}


def _only_names(text: str) -> bool:
    """Whether ``text`` holds no words but :data:`PRODUCT_NAMES` (and punctuation / digits)."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9.+-]*", text.replace("&", ""))
    return bool(words) and all(w in PRODUCT_NAMES for w in words)


def test_only_names_accepts_product_names_and_refuses_english_words():
    assert _only_names("Miniconda") and _only_names("&Miniforge") and _only_names("PowerShell  (conda init powershell)")
    assert not _only_names("Install Miniconda") and not _only_names("Next") and not _only_names("Use conda-forge")


def _wizard(qtbot, tmp_path):
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")  # never answers: the first page shows its error
    w = InstallerWizard(plan, log=RecordingReporter(), confirm_close=False)
    qtbot.addWidget(w)
    return w


def test_every_page_title_and_subtitle_is_chinese(qtbot, qapp, tmp_path, english_after):
    i18n.set_language("zh_CN")
    assert i18n.install_qt_translators(qapp, "zh_CN")
    w = _wizard(qtbot, tmp_path)
    try:
        assert w.windowTitle() == "Miniconda 安装向导"
        for pid in PageId:
            page = w.page(pid)
            assert HAN.search(page.title()), (pid, page.title())
            assert HAN.search(page.subTitle()), (pid, page.subTitle())
            # every non-empty button text on the page is translated (not one English word left)
            # (a control whose text is only product names and commands, such as "Miniconda", may stay as it is)
            for b in page.findChildren(QAbstractButton):
                if b.text() and re.search(r"[A-Za-z]{3,}", b.text()):
                    assert HAN.search(b.text()) or _only_names(b.text()), (pid, b.text())
        assert all(HAN.search(t) for t in w.steps.texts())
        # Qt's own wizard buttons (qtbase_zh_CN.qm)
        assert w.buttonText(QWizard.WizardButton.CancelButton) == "取消"
        assert HAN.search(w.buttonText(QWizard.WizardButton.NextButton))
    finally:
        w.shutdown()


def test_switching_language_on_the_first_page_rebuilds_the_pages_and_keeps_the_plan(qtbot, qapp, tmp_path,
                                                                                       english_after):
    i18n.set_language("en")
    w = _wizard(qtbot, tmp_path)
    try:
        w.show()
        w.plan.env_name = "kept-by-the-switch"
        first = w.page(PageId.PACKAGE)
        assert first.title() == "Choose the Miniconda installer"
        combo = first.language_choice.combo
        assert combo.currentData() == "en"
        combo.setCurrentIndex(combo.findData("zh_CN"))
        qtbot.waitUntil(lambda: w.page(PageId.PACKAGE) is not first, timeout=5000)
        assert i18n.language() == "zh_CN"
        assert w.page(PageId.PACKAGE).title() == "选择 Miniconda 安装程序"
        assert w.page(PageId.ENV).title() == "为大语言模型（LLM）工作创建 conda 环境"
        assert w.windowTitle() == "Miniconda 安装向导"
        assert w.steps.texts()[0].endswith("选择安装程序")
        assert w.currentId() == PageId.PACKAGE
        assert w.plan.env_name == "kept-by-the-switch" and w.page(PageId.ENV).plan is w.plan
        assert w.page(PageId.PACKAGE).language_choice.combo.currentData() == "zh_CN"
        assert HAN.search(w.buttonText(QWizard.WizardButton.NextButton))
        # and back
        combo = w.page(PageId.PACKAGE).language_choice.combo
        second = w.page(PageId.PACKAGE)
        combo.setCurrentIndex(combo.findData("en"))
        qtbot.waitUntil(lambda: w.page(PageId.PACKAGE) is not second, timeout=5000)
        assert w.page(PageId.PACKAGE).title() == "Choose the Miniconda installer"
        assert QCoreApplication.translate("QWizard", "Cancel") == "Cancel"
    finally:
        w.shutdown()



def test_about_dialog_is_chinese_table_headings_roles_and_terms(qtbot, qapp, english_after):
    from app.gui import about

    i18n.set_language("zh_CN")
    i18n.install_qt_translators(qapp, "zh_CN")
    dialog = about.AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert dialog.windowTitle() == "关于 Miniconda 安装向导"
    for zh in ("第三方组件", "用途", "HTTP 下载", "读取 environment.yml 文件", "Anaconda 服务条款", "宽通用公共许可证"):
        assert zh in text, zh
    for en in ("Used for", "HTTP downloads", "Third-party parts", "Terms of Service", "shared libraries"):
        assert en not in text, en
    assert about.TOS_URL in dialog.text.toHtml()  # the links survive the translation


def test_uninstall_progress_dialog_texts_are_ids(qapp, english_after):
    """The uninstall runner's busy dialog speaks through tr (found by lupdate, translated in app_zh_CN.ts)."""
    import inspect

    from app.gui.widgets import existing_install

    src = inspect.getsource(existing_install.UninstallRunner)
    assert 'self.tr("Uninstalling {prefix}…")' in src and 'self.tr("Uninstall")' in src
    i18n.install_qt_translators(qapp, "zh_CN")
    assert QCoreApplication.translate("UninstallRunner", "Uninstalling {prefix}…") == "正在卸载 {prefix}…"
