"""Fix-up h-fix1 #5: every proxy the run's URLs will use is checked before anything is downloaded, the env step's
too: its conda channels, pip index and PyTorch wheel index (all https), so an unreachable HTTPS_PROXY is caught
even when the installer mirror is http:// and its pip index is http:// too (app.core.proxy.plan_urls)."""

from __future__ import annotations

import socket

import pytest

from app.core import mirrors, proxy
from app.core.errors import DownloadError
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.test_silent import events, run_cli

LINUX = PlatformInfo("Linux", "x86_64")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_table(tmp_path, monkeypatch, mirror):
    """A mirror table whose ``local`` row serves installer, conda channels and pip over http:// (as a local test
    mirror does); PyTorch stays official (https)."""
    base = mirror.base_url
    path = tmp_path / "mirrors.toml"
    path.write_text(f'''
[mirrors.official]
title = "official"
installer = "https://repo.anaconda.com/miniconda/"

[mirrors.local]
title = "Local"
installer = "{base}"
pip_index = "{base}pypi/simple"
[mirrors.local.conda]
channels = ["defaults"]
default_channels = ["{base}pkgs/main"]
custom_channels = {{ conda-forge = "{base}cloud" }}
''', encoding="utf-8")
    monkeypatch.setenv(mirrors.TABLE_ENV, str(path))
    return path


def test_env_urls_name_channels_pip_and_torch():
    plan = InstallPlan(platform=LINUX, mirror="http://127.0.0.1:8765/miniconda/")
    assert proxy.plan_urls(plan) == ["http://127.0.0.1:8765/miniconda/", "https://repo.anaconda.com/pkgs/main",
                                     "https://pypi.org/simple", "https://download.pytorch.org/whl/cpu"]
    forge = InstallPlan(platform=LINUX, prefix="/opt/mf", distribution="miniforge", channels=("pytorch", "conda-forge"))
    assert proxy.env_urls(forge, mirrors.sources(forge))[:2] == ["https://conda.anaconda.org/pytorch",
                                                                 "https://conda.anaconda.org/conda-forge"]
    assert proxy.env_urls(InstallPlan(platform=LINUX, create_env=False)) == []


def test_mirror_channels_are_resolved(http_table, mirror):
    plan = InstallPlan(platform=LINUX, mirror="local")
    base = mirror.base_url
    assert proxy.plan_urls(plan) == [base, f"{base}pkgs/main", f"{base}pypi/simple",
                                     "https://download.pytorch.org/whl/cpu"]
    named = InstallPlan(platform=LINUX, mirror="local", channels=("conda-forge", "http://x.example/ch"))
    assert proxy.plan_urls(named)[1:3] == [f"{base}cloud/conda-forge", "http://x.example/ch"]


def test_https_proxy_for_the_env_step_alone_is_checked(http_table):
    port = closed_port()
    s = proxy.resolve({"HTTPS_PROXY": f"http://127.0.0.1:{port}"})
    plan = InstallPlan(platform=LINUX, mirror="local")  # installer, conda and pip all http://
    with pytest.raises(DownloadError, match=rf"The proxy 127\.0\.0\.1:{port} set in HTTPS_PROXY is not answering"):
        proxy.check_before_download(plan, RecordingReporter(), s)
    plan.create_env = False  # then nothing the run reaches goes through it
    proxy.check_before_download(plan, RecordingReporter(), s)


def test_dry_run_exits_4_for_an_unreachable_https_proxy_with_an_http_mirror(tmp_path, isolated_home, http_table,
                                                                           mirror):
    port = closed_port()
    for mode in ("--dry-run", "--silent"):
        res = run_cli(mode, "--json", "--mirror", "local", "--prefix", str(tmp_path / "mc"), "--accept-tos",
                      "--download-dir", str(tmp_path / "dl"), "--log-file", str(tmp_path / "r.log"),
                      home=isolated_home,
                      extra_env={"HTTPS_PROXY": f"http://127.0.0.1:{port}", "NO_PROXY": "",
                                 mirrors.TABLE_ENV: str(http_table)})
        assert res.returncode == 4, (mode, res.stdout[-2000:], res.stderr[-2000:])
        last = events(res.stdout)[-1]
        assert f"The proxy 127.0.0.1:{port} set in HTTPS_PROXY is not answering" in last["message"]
    assert not (tmp_path / "mc").exists()
