"""Issue 7: the first page's Miniconda / Miniforge choice (real widgets offscreen, a real local release folder)."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QLabel

from app.core import distributions, mirrors
from app.core.pipeline import RunState
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.gui.pages.package_page import PackagePage
from app.gui.widgets.distribution_choice import DistributionChoiceWidget
from tests.gui.helpers import TIMEOUT
from tests.support.http_server import LocalServer
from tests.support.mirror import build_release_folder, sha256_file
from tests.support.standin import MINIFORGE_FILENAME, MINIFORGE_NAME, build_standin_installer


def test_widget_says_what_each_means_and_emits_only_on_user_change(qtbot):
    w = DistributionChoiceWidget("miniconda")
    qtbot.addWidget(w)
    assert w.value() == "miniconda"
    lines = {lbl.objectName(): lbl.text() for lbl in w.findChildren(QLabel)}
    assert "no Terms of Service" in lines["distribution_miniforge_line"]
    assert "conda-forge" in lines["distribution_miniforge_line"] and "MB" in lines["distribution_miniforge_line"]
    assert "Terms of Service" in lines["distribution_miniconda_line"] and "200" in lines["distribution_miniconda_line"]
    with qtbot.assertNotEmitted(w.changed):
        w.set_value("miniforge")
    assert w.value() == "miniforge"
    with qtbot.waitSignal(w.changed) as sig:
        w.buttons["miniconda"].click()
    assert sig.args == ["miniconda"]


@pytest.fixture
def forge_table(tmp_path, monkeypatch):
    installer = build_standin_installer(tmp_path / "src", MINIFORGE_FILENAME, flavor=MINIFORGE_NAME)
    build_release_folder(tmp_path / "srv" / "forge", [installer])
    with LocalServer(tmp_path / "srv") as srv:
        table = tmp_path / "mirrors.toml"
        table.write_text(f'[mirrors.official]\ntitle = "official"\ninstaller = "{srv.base_url}miniconda/"\n'
                         f'miniforge = "{srv.base_url}forge/"\n', encoding="utf-8")
        monkeypatch.setenv(mirrors.TABLE_ENV, str(table))
        yield srv, sha256_file(installer)


def test_choosing_miniforge_on_the_page_lists_its_asset_with_the_published_hash(qtbot, isolated_home, forge_table):
    _srv, sha = forge_table
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    assert plan.resolved_prefix == isolated_home / "miniconda3"
    page = PackagePage(plan, RunState(), None)
    qtbot.addWidget(page)
    page.show()
    try:
        page.distribution_choice.buttons["miniforge"].click()
        assert plan.distribution == "miniforge" and plan.resolved_prefix == isolated_home / "miniforge3"
        qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
        assert page.state.choice.filename == MINIFORGE_FILENAME
        assert page.state.choice.sha256 == sha and page.state.choice.hash_source == "sha256-file"
        assert [page.table.topLevelItem(i).text(0) for i in range(page.table.topLevelItemCount())] == [MINIFORGE_FILENAME]
        assert "from the .sha256 file beside it" in page.status.plain
    finally:
        page.shutdown()


def test_every_distribution_has_a_button(qtbot):
    w = DistributionChoiceWidget("nonsense")
    qtbot.addWidget(w)
    assert set(w.buttons) == set(distributions.DISTRIBUTIONS) == {"miniconda", "miniforge"}
    assert w.value() == distributions.DEFAULT
