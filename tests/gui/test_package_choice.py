"""Package page (issue 5): only installers that run are listed, why, what is hidden; the --mirror auto table."""

from __future__ import annotations

import pytest

from app.core.pipeline import RunState
from app.core.platform_info import PlatformInfo
from app.gui.pages.package_page import PackagePage
from tests.gui.helpers import TIMEOUT, local_plan
from tests.support.http_server import LocalServer
from tests.support.mirror import build_mirror
from tests.test_mirror_probe import NAME, six_mirrors  # noqa: F401 - the fixture

CENTOS7 = PlatformInfo("Linux", "x86_64", glibc="2.17")


@pytest.fixture
def make_page(qtbot):
    pages = []

    def make(plan):
        page = PackagePage(plan, RunState(), None)
        qtbot.addWidget(page)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


@pytest.fixture
def glibc_mirror(tmp_path):
    files = []
    for name in ("Miniconda3-latest-Linux-x86_64.sh", "Miniconda3-py313_25.9.1-3-Linux-x86_64.sh",
                 "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"):
        f = tmp_path / "src" / name
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(name.encode() * 100)
        files.append(f)
    with LocalServer(build_mirror(tmp_path / "mirror", files)) as srv:
        yield srv


def test_old_glibc_lists_only_what_runs_and_says_why(make_page, qtbot, tmp_path, glibc_mirror):
    plan = local_plan(tmp_path, glibc_mirror.base_url, platform=CENTOS7)
    page = make_page(plan)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.state.choice.filename == "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"
    names = [page.table.topLevelItem(i).text(0) for i in range(page.table.topLevelItemCount())]
    assert "Miniconda3-latest-Linux-x86_64.sh" not in names
    assert "Miniconda3-py313_25.9.1-3-Linux-x86_64.sh" not in names
    assert names[0] == "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"
    assert page.platform_label.text() == "<b>Linux x86_64, glibc 2.17</b>"
    assert page.why_label.isVisible()
    assert page.why_label.text().startswith("The newest installers for Linux-x86_64 need glibc ≥ 2.28 and this "
                                            "machine has glibc 2.17; chosen: the newest that runs here")
    assert page.hidden_button.isVisible() and not page.hidden_label.isVisible()
    page.hidden_button.click()
    assert page.hidden_label.isVisible()
    assert ("Hidden: 2 installers for Linux-x86_64 need glibc ≥ 2.28 (this machine has glibc 2.17), among them "
            "Miniconda3-latest-Linux-x86_64.sh.") in page.hidden_label.text()
    assert "for other architectures" in page.hidden_label.text()


def test_mirror_auto_shows_the_probe_table_and_the_user_can_override(make_page, qtbot, tmp_path, six_mirrors):
    plan = local_plan(tmp_path, "auto")
    page = make_page(plan)
    assert page.mirror_text() == "auto"
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.probe_table.isVisible() and page.probe_table.rowCount() == 6
    assert page.probe_table.item(0, 0).text() == "tuna" and page.probe_table.item(0, 1).text() == "yes"
    rows = {page.probe_table.item(r, 0).text(): r for r in range(6)}
    assert page.probe_table.item(rows["bfsu"], 1).text() == "no"
    assert "HTTP 404" in page.probe_table.item(rows["bfsu"], 4).text()
    assert plan.mirror == "tuna" and page.mirror_text() == "tuna"
    assert page.state.choice.filename == NAME and page.state.choice.url.startswith(six_mirrors["tuna"].base_url)
    # the user picks another mirror from the table: its index is read and the choice follows it
    page._probe_row_clicked(rows["official"], 0)
    assert not page.isComplete()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert plan.mirror == "official"
    assert page.state.choice.url.startswith(six_mirrors["official"].base_url)
    assert page.validatePage() and plan.mirror == "official"
