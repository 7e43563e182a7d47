"""The first page's proxy line (issue 7): the proxy in use, a red line when it does not answer, and the one-click
Chinese mirror proposal when the official host is unreachable on a Chinese system."""

from __future__ import annotations

import os
import socket

import pytest

from app.core import mirrors, proxy
from app.core.pipeline import RunState
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.proxy import RegistryValues
from app.gui.pages.package_page import PackagePage
from app.gui.widgets.proxy_status import ProxyStatusWidget
from tests.gui.helpers import TIMEOUT
from tests.support.http_server import LocalServer
from tests.support.mirror import build_mirror
from tests.test_chinese_windows import NAME, SIZE

LINUX = PlatformInfo("Linux", "x86_64")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeReader:
    def __init__(self, server: str) -> None:
        self.server = server

    def read(self) -> RegistryValues:
        return RegistryValues(1, self.server, "localhost;127.*;<local>")


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)


def _widget(qtbot, plan) -> ProxyStatusWidget:
    w = ProxyStatusWidget(plan, check=False)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.checked, timeout=TIMEOUT):
        w.start_check()
    return w


def test_system_proxy_not_answering_is_a_red_line(qtbot, monkeypatch, no_proxy_env):
    port = _closed_port()
    monkeypatch.setattr(proxy, "registry_reader", FakeReader(f"127.0.0.1:{port}"))
    w = _widget(qtbot, InstallPlan(platform=LINUX, mirror="https://repo.anaconda.com/miniconda/"))
    assert w.status.kind == "error"
    # the problem on the first line, the action (start it or turn it off) in the fix under it
    message, _, fix = w.status.plain.partition("\n")
    assert message.startswith(f"The system proxy 127.0.0.1:{port} is not answering")
    assert fix.startswith("Start the proxy program") and "turn the system proxy off" in fix
    assert "Clash" in w.status.plain


def test_env_proxy_that_answers_is_shown(qtbot, monkeypatch, no_proxy_env):
    monkeypatch.setattr(proxy, "registry_reader", None)
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        w = _widget(qtbot, InstallPlan(platform=LINUX, mirror="https://repo.anaconda.com/miniconda/"))
    assert w.status.kind == "ok"
    assert w.status.plain == f"http://127.0.0.1:{port} (from HTTPS_PROXY); it answers."
    assert w.suggest_button.isHidden()


def test_no_proxy_says_direct(qtbot, monkeypatch, no_proxy_env):
    monkeypatch.setattr(proxy, "registry_reader", None)
    w = _widget(qtbot, InstallPlan(platform=LINUX, mirror="https://repo.anaconda.com/miniconda/"))
    assert w.status.plain == "none (direct connection)"


def test_chinese_system_with_unreachable_official_host_offers_tuna_in_one_click(qtbot, tmp_path, monkeypatch,
                                                                                 no_proxy_env):
    monkeypatch.setattr(proxy, "registry_reader", None)
    good = tmp_path / "src" / NAME
    good.parent.mkdir()
    good.write_bytes(bytes(range(256)) * (SIZE // 256))
    with LocalServer(build_mirror(tmp_path / "tuna", [good])) as tuna:
        table = tmp_path / "mirrors.toml"
        table.write_text(f'schema = 1\n[mirrors.official]\ntitle = "official"\n'
                         f'installer = "http://127.0.0.1:{_closed_port()}/miniconda/"\n'
                         f'[mirrors.tuna]\ntitle = "TUNA"\ninstaller = "{tuna.base_url}"\n', encoding="utf-8")
        monkeypatch.setenv(mirrors.TABLE_ENV, str(table))
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        monkeypatch.delenv("LC_ALL", raising=False)
        monkeypatch.delenv("LC_MESSAGES", raising=False)
        plan = InstallPlan(platform=LINUX, mirror="official", prefix=tmp_path / "mc")
        page = PackagePage(plan, RunState(), None)
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda: page.proxy_status.suggestion is not None, timeout=TIMEOUT)
        ps = page.proxy_status
        assert plan.mirror == "official"  # proposed, not switched
        assert ps.suggest_button.text() == "Use TUNA" and not ps.suggest_button.isHidden()
        assert "建议使用 TUNA 镜像" in ps.suggest_label.plain
        qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
        ps.suggest_button.click()
        assert page.mirror_combo.currentText() == "tuna"
        qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
        page.shutdown()
