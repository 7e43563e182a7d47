"""An existing empty folder (Browse -> "New Folder", or one IT made) is a valid install location."""

from __future__ import annotations

import pytest

from app.core.pipeline import RunState
from app.gui.pages.install_page import InstallPage
from tests.gui.helpers import TIMEOUT, local_plan


@pytest.fixture
def page_for(qtbot, tmp_path, standin_installer):
    pages = []

    def make(prefix):
        plan = local_plan(tmp_path, "official", prefix=prefix)
        state = RunState()
        state.installer_path = standin_installer
        page = InstallPage(plan, state)
        qtbot.addWidget(page)
        page.show()
        page.initializePage()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


def test_existing_empty_folder_is_accepted(page_for, tmp_path):
    folder = tmp_path / "NewFolder"
    folder.mkdir()
    page = page_for(folder)
    assert page.check_status.kind == "ok"
    assert page.check_status.plain == f"The folder {folder} exists and is empty; Miniconda will be installed into it."
    assert page.install_button.isEnabled()
    page.prefix_edit.setText(str(tmp_path / "new"))  # a folder that does not exist yet: the plain message
    assert page.check_status.plain == f"Miniconda will be installed in {tmp_path / 'new'}."


def test_install_into_existing_empty_folder_keeps_it(qtbot, page_for, tmp_path):
    folder = tmp_path / "NewFolder"
    folder.mkdir()
    page = page_for(folder)
    page.start_install()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert folder.is_dir()  # today the installer refuses and the folder is deleted
    assert page.result.kind == "ok", page.result.plain
    assert page.state.install is not None and page.state.install.prefix == folder
