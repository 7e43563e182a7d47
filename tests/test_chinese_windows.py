"""A Chinese Windows PC: a Chinese user name (profile and TEMP), and a proposed Chinese mirror when the official host is
slow. The Windows facts are pure functions, tested here with real inputs (a profile path in Chinese characters)."""

from __future__ import annotations

import socket
from pathlib import Path, PureWindowsPath

import pytest

from app.core import mirror_probe, mirrors, pipeline, plan_checks, system
from app.core.errors import Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.mirror_probe import ProbeResult
from app.core.plan import InstallPlan, default_prefix
from app.core.platform_info import PlatformInfo
from tests.support.http_server import Fault, LocalServer
from tests.support.mirror import build_mirror

ZH_HOME = PureWindowsPath("C:\\Users\\张三")
ZH_TEMP = "C:\\Users\\张三\\AppData\\Local\\Temp"
WINDOWS = PlatformInfo("Windows", "x86_64")


def test_default_prefix_leaves_a_chinese_profile():
    assert str(default_prefix(WINDOWS, Path(str(ZH_HOME)))) == "C:\\miniconda3"
    assert str(default_prefix(WINDOWS, Path("C:\\Users\\John Smith"))) == "C:\\miniconda3"


@pytest.mark.parametrize(("environ", "found"), [
    ({"TEMP": ZH_TEMP, "TMP": ZH_TEMP}, ZH_TEMP),
    ({"TMP": "C:\\Temp", "TEMP": ZH_TEMP}, ZH_TEMP),
    ({"TMP": "C:\\Users\\ZHANGS~1\\AppData\\Local\\Temp", "TEMP": "C:\\Users\\ZHANGS~1\\AppData\\Local\\Temp"}, None),
    ({}, None),
])
def test_non_ascii_temp(environ, found):
    assert system.non_ascii_temp(environ) == found


@pytest.mark.parametrize(("prefix", "expected"), [
    ("C:\\miniconda3", "C:\\.miniconda-wizard-tmp"),
    ("D:\\tools\\miniconda3", "D:\\tools\\.miniconda-wizard-tmp"),
    ("D:\\张三的文件\\miniconda3", "D:\\.miniconda-wizard-tmp"),   # a parent in Chinese: the drive's root
    ("E:\\my tools\\miniconda3", "E:\\.miniconda-wizard-tmp"),     # a parent with a space
])
def test_installer_temp_moves_to_an_ascii_folder_when_temp_is_chinese(prefix, expected):
    got = system.ascii_temp_dir(PureWindowsPath(prefix), {"TEMP": ZH_TEMP, "TMP": ZH_TEMP})
    assert got == PureWindowsPath(expected)
    assert str(got).isascii()


def test_installer_temp_is_left_alone_for_an_ascii_temp():
    assert system.ascii_temp_dir(PureWindowsPath("C:\\miniconda3"), {"TEMP": "C:\\Temp", "TMP": "C:\\Temp"}) is None


def test_temp_env_for_the_windows_installer_makes_the_folder(tmp_path):
    env = system.temp_env(tmp_path / "miniconda3", {"TEMP": ZH_TEMP, "TMP": ZH_TEMP}, windows=True)
    side = tmp_path / system.SIDE_TEMP_NAME
    assert env == {"TMPDIR": str(side), "TMP": str(side), "TEMP": str(side)}
    assert side.is_dir()
    assert system.temp_env(tmp_path / "miniconda3", {"TEMP": "C:\\Temp"}, windows=True) == {}


def test_profile_note_explains_the_move_in_chinese_and_english():
    note = plan_checks.profile_note("Windows", ZH_HOME, PureWindowsPath("C:\\miniconda3"), {"TEMP": ZH_TEMP})
    assert note.startswith("你的用户名含中文字符（C:\\Users\\张三），conda 在这样的路径下会出错，所以安装到 C:\\miniconda3。")
    assert "Your user folder C:\\Users\\张三 contains non-ASCII characters" in note
    assert "C:\\.miniconda-wizard-tmp" in note and "临时文件夹" in note
    spaced = plan_checks.profile_note("Windows", "C:\\Users\\John Smith", "C:\\miniconda3", {})
    assert spaced.startswith("你的用户文件夹路径含空格") and "contains a space" in spaced and "临时" not in spaced


@pytest.mark.parametrize(("os_name", "home", "prefix"), [
    ("Windows", "C:\\Users\\zhang", "C:\\Users\\zhang\\miniconda3"),   # nothing to explain
    ("Windows", ZH_HOME, "C:\\Users\\张三\\miniconda3"),                # the user chose it: the plan check speaks
    ("Linux", "/home/张三", "/home/张三/miniconda3"),
])
def test_no_profile_note(os_name, home, prefix):
    assert plan_checks.profile_note(os_name, home, prefix, {}) is None


# ---- a Chinese mirror proposed by locale -------------------------------------------------------------------------

NAME = "Miniconda3-latest-Linux-x86_64.sh"
SIZE = 256 * 5300  # bigger than mirror_probe.MIN_INSTALLER_BYTES


@pytest.mark.parametrize(("name", "chinese"), [("zh_CN.UTF-8", True), ("zh_TW", True), ("zh-Hans-CN", True),
                                               ("zh-CN", True), ("Chinese (Simplified)_China", True), ("zh", True),
                                               ("en_US.UTF-8", False), ("C.UTF-8", False), ("", False), (None, False),
                                               ("zu_ZA", False)])
def test_is_chinese_locale(name, chinese):
    assert mirrors.is_chinese_locale(name) is chinese


def _r(name, ok, seconds=None, error=None):
    return ProbeResult(name, name.upper(), f"http://x/{name}", ok, 206 if ok else None, seconds,
                       mirror_probe.PROBE_BYTES if ok else 0, SIZE if ok else None, error)


def test_locale_suggestion_pure():
    down = _r("official", False, error="no answer (the connection timed out)")
    slow = _r("official", True, 3.5)
    fast = _r("official", True, 0.2)
    tuna, ustc = _r("tuna", True, 0.3), _r("ustc", True, 0.1)
    got = mirrors.locale_suggestion("zh_CN.UTF-8", [tuna, ustc, down])
    assert (got.name, got.title) == ("ustc", "USTC")
    assert got.line().startswith("The official host is slow or unreachable (official: no answer (the connection "
                                 "timed out)); the USTC mirror answered faster: use it with --mirror ustc")
    assert "建议使用 USTC 镜像（--mirror ustc）" in got.line()
    assert mirrors.locale_suggestion("zh_CN", [slow, tuna]).why == "The official host took 3.5 s for the first 64 KiB"
    assert mirrors.locale_suggestion("zh_CN", [fast, tuna]) is None          # the official host is fine
    assert mirrors.locale_suggestion("en_US.UTF-8", [down, tuna]) is None    # not a Chinese system
    assert mirrors.locale_suggestion("zh_CN", [down, _r("tuna", False, error="x")]) is None  # nothing better


@pytest.fixture
def official_and_tuna(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    good = src / NAME
    good.write_bytes(bytes(range(256)) * (SIZE // 256))
    official = LocalServer(build_mirror(tmp_path / "official", [good]))
    tuna = LocalServer(build_mirror(tmp_path / "tuna", [good]))
    for srv in (official, tuna):
        srv.start()

    def table(official_url: str) -> None:
        path = tmp_path / "mirrors.toml"
        path.write_text(f'schema = 1\n[mirrors.official]\ntitle = "official"\ninstaller = "{official_url}"\n'
                        f'[mirrors.tuna]\ntitle = "TUNA"\ninstaller = "{tuna.base_url}"\n', encoding="utf-8")
        monkeypatch.setenv(mirrors.TABLE_ENV, str(path))

    try:
        yield official, tuna, table
    finally:
        for srv in (official, tuna):
            srv.stop()


def _plan(tmp_path, mirror="official"):
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror=mirror, prefix=tmp_path / "mc")


def test_unreachable_official_host_proposes_tuna_and_never_switches(official_and_tuna, tmp_path):
    official, tuna, table = official_and_tuna
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    table(f"http://127.0.0.1:{port}/miniconda/")  # nothing listens: the official host is unreachable
    plan = _plan(tmp_path)
    rec = RecordingReporter()
    got = mirrors.propose_for_locale(plan, rec, CancelToken(), locale_name="zh_CN.UTF-8")
    assert got is not None and got.name == "tuna"
    assert plan.mirror == "official"  # proposed, not switched
    warnings = [line for _st, line, level in rec.of("log") if level == "warning"]
    assert len(warnings) == 1 and warnings[0].startswith("The official host is slow or unreachable (official: no answer")
    assert "--mirror tuna" in warnings[0] and "TUNA 镜像" in warnings[0]


def test_slow_official_host_proposes_tuna(official_and_tuna, tmp_path):
    official, tuna, table = official_and_tuna
    table(official.base_url)
    official.fault("/" + NAME, Fault(delay_before=0.8))
    rec = RecordingReporter()
    got = mirrors.propose_for_locale(_plan(tmp_path), rec, CancelToken(), locale_name="zh_CN.UTF-8",
                                     slow_seconds=0.5)
    assert got is not None and got.name == "tuna" and got.why.startswith("The official host took 0.")


def test_nothing_is_probed_off_a_chinese_system_or_with_a_chosen_mirror(official_and_tuna, tmp_path):
    official, tuna, table = official_and_tuna
    table(official.base_url)
    rec = RecordingReporter()
    assert mirrors.propose_for_locale(_plan(tmp_path), rec, CancelToken(), locale_name="en_US.UTF-8") is None
    assert mirrors.propose_for_locale(_plan(tmp_path, "tuna"), rec, CancelToken(), locale_name="zh_CN") is None
    assert not official.state.requests and not tuna.state.requests


def test_silent_run_logs_the_proposal_as_a_warning(official_and_tuna, tmp_path, monkeypatch):
    official, tuna, table = official_and_tuna
    table(official.base_url)
    official.fault("/" + NAME, Fault(delay_before=0.8))
    monkeypatch.setattr(mirrors, "SLOW_PROBE_SECONDS", 0.5)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    plan = _plan(tmp_path)
    rec = RecordingReporter()
    state = pipeline.RunState()
    pipeline.run_step(Stage.CATALOG, plan, state, rec, CancelToken())
    assert state.choice.filename.startswith("Miniconda3-")
    warnings = [line for _st, line, level in rec.of("log") if level == "warning"]
    assert any("--mirror tuna" in w and w.startswith("The official host took") for w in warnings)
    assert plan.mirror == "official"
