"""The proxy: registry value forms parsed as urllib does, env vars winning, handed to children, and a set proxy that
does not answer (Clash not running) refused before any download with its own message."""

from __future__ import annotations

import ast
import io
import json
import re
import socket
import sys
import types
import urllib.request
from pathlib import Path

import pytest

from app import silent
from app.core import proxy
from app.core.errors import DownloadError
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.proxy import ProxySettings, RegistryValues
from app.core.system import child_env, run_streaming

# Clash for Windows' "System Proxy" switch writes these (ProxyServer without a scheme; its default bypass list).
CLASH_SERVER = "127.0.0.1:7890"
CLASH_OVERRIDE = ("localhost;127.*;10.*;172.16.*;172.17.*;172.18.*;172.19.*;172.20.*;172.21.*;172.22.*;172.23.*;"
                  "172.24.*;172.25.*;172.26.*;172.27.*;172.28.*;172.29.*;172.30.*;172.31.*;192.168.*;<local>")

#: ProxyServer forms: Clash/v2rayN (host:port), per-protocol (Internet Options "Advanced"), with a scheme,
#: SOCKS only, and a trailing ';'.
REGISTRY_FORMS = [
    "127.0.0.1:7890",
    "127.0.0.1:10809",
    "http=127.0.0.1:7890;https=127.0.0.1:7890",
    "http=proxy.corp.example:8080;https=proxy.corp.example:8080;ftp=proxy.corp.example:8080;socks=proxy.corp.example:1080",
    "http://127.0.0.1:7890",
    "socks=127.0.0.1:7891",
    "https=127.0.0.1:7890;socks=127.0.0.1:7891",
    "http=127.0.0.1:7890;https=127.0.0.1:7890;",
    "HTTP=proxy:80;https=https://secure-proxy:443",
]


def _cpython_getproxies_registry(server: str, enable: int = 1):
    """CPython's own ``urllib.request.getproxies_registry`` (Windows-only code, read from this Python's source) run
    against a fake ``winreg`` holding ``server``: the reference our parser copies."""
    source = Path(urllib.request.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "getproxies_registry")
    fake = types.ModuleType("winreg")
    fake.HKEY_CURRENT_USER = 1

    class Key:
        def Close(self):  # noqa: N802
            pass

    values = {"ProxyEnable": enable, "ProxyServer": server}
    fake.OpenKey = lambda *a: Key()
    fake.QueryValueEx = lambda key, name: (values[name], 1)
    ns = {"re": re}
    exec(compile(ast.Module([fn], []), "urllib_request_copy", "exec"), ns)  # noqa: S102
    saved = sys.modules.get("winreg")
    sys.modules["winreg"] = fake
    try:
        return ns["getproxies_registry"]()
    finally:
        if saved is None:
            sys.modules.pop("winreg", None)
        else:
            sys.modules["winreg"] = saved


class FakeReader:
    def __init__(self, enable=1, server=CLASH_SERVER, override=CLASH_OVERRIDE):
        self.values = RegistryValues(enable, server, override)

    def read(self) -> RegistryValues:
        return self.values


@pytest.fixture
def clash(monkeypatch):
    """This machine as a Chinese Windows PC with Clash set as the system proxy (no proxy variables)."""
    for name in [n for n in __import__("os").environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    reader = FakeReader()
    monkeypatch.setattr(proxy, "registry_reader", reader)
    return reader


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("server", REGISTRY_FORMS)
def test_registry_forms_parse_exactly_as_cpython_does(server):
    expected = _cpython_getproxies_registry(server)
    assert expected  # the reference itself read something
    assert proxy.registry_proxies(RegistryValues(1, server, None)) == expected


def test_clash_form_without_scheme_is_an_http_proxy_for_https_too():
    got = proxy.registry_proxies(RegistryValues(1, CLASH_SERVER, CLASH_OVERRIDE))
    assert got == {"http": "http://127.0.0.1:7890", "https": "http://127.0.0.1:7890", "ftp": "http://127.0.0.1:7890"}


def test_socks_only_serves_http_and_https_as_socks4():
    got = proxy.registry_proxies(RegistryValues(1, "socks=127.0.0.1:7891", None))
    assert got["http"] == got["https"] == "socks4://127.0.0.1:7891"


@pytest.mark.parametrize("values", [RegistryValues(0, CLASH_SERVER, CLASH_OVERRIDE), RegistryValues(None, CLASH_SERVER),
                                    RegistryValues(1, "", None), RegistryValues(1, None, None), RegistryValues()])
def test_proxy_off_or_empty_is_no_proxy(values):
    assert proxy.registry_proxies(values) == {}
    assert not proxy.resolve({}, values).active


def test_override_and_local_bypass_match_as_proxy_bypass_registry():
    s = proxy.resolve({}, RegistryValues(1, CLASH_SERVER, CLASH_OVERRIDE))
    assert s.source == proxy.SOURCE_WINDOWS and s.bypass[-1] == "<local>"
    assert proxy.bypassed(s, "http://intranet/")                 # <local>: no dot
    assert proxy.bypassed(s, "http://192.168.1.10:8000/x")       # 192.168.*
    assert proxy.bypassed(s, "http://localhost:9000/")
    assert proxy.bypassed(s, "http://127.0.0.1:9000/")
    assert not proxy.bypassed(s, "https://repo.anaconda.com/miniconda/")
    assert proxy.proxy_for(s, "https://repo.anaconda.com/miniconda/") == "http://127.0.0.1:7890"
    assert proxy.proxy_for(s, "http://10.1.2.3/") is None


def test_environment_wins_over_the_registry_lowercase_over_uppercase():
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2", "NO_PROXY": "localhost,.corp"}
    s = proxy.resolve(env, RegistryValues(1, CLASH_SERVER, CLASH_OVERRIDE))
    assert s.source == proxy.SOURCE_ENV
    assert s.proxies == {"https": "http://lower:2"} and s.bypass == ("localhost", ".corp")
    assert s.names["https"] == "https_proxy"
    assert proxy.child_env_vars(s) == {}  # children inherit the environment as it is


def test_children_get_the_system_proxy_as_variables():
    s = proxy.resolve({}, RegistryValues(1, CLASH_SERVER, CLASH_OVERRIDE))
    got = proxy.child_env_vars(s)
    assert got["HTTP_PROXY"] == got["HTTPS_PROXY"] == "http://127.0.0.1:7890"
    no = got["NO_PROXY"].split(",")
    assert no[:2] == ["localhost", "127.0.0.0/8"]
    assert "10.0.0.0/8" in no and "172.16.0.0/16" in no and "192.168.0.0/16" in no
    assert no[-2:] == ["127.0.0.1", "::1"]  # <local>; its "localhost" is already in the list
    assert proxy.no_proxy_value(ProxySettings({"http": "http://p:1"}, proxy.SOURCE_WINDOWS,
                                              ("*.corp.example", "a*b.example", "intranet"))) == ".corp.example,intranet"


def test_a_real_python_child_sees_the_system_proxy(clash):
    env = child_env()
    assert env["HTTPS_PROXY"] == "http://127.0.0.1:7890"
    lines: list[str] = []
    # what requests (the HTTP library of conda and pip) decides in that child's environment
    code = ("import json, urllib.request, requests.utils as u; print(json.dumps([urllib.request.getproxies(), "
            "u.get_environ_proxies('https://pypi.org/simple'), u.get_environ_proxies('http://192.168.1.5/')]))")
    run_streaming([sys.executable, "-c", code], on_stdout=lines.append)
    seen, pypi, lan = json.loads(lines[0])
    assert seen["https"] == seen["http"] == "http://127.0.0.1:7890"
    assert "192.168.0.0/16" in seen["no"]
    assert pypi["https"] == "http://127.0.0.1:7890"
    assert lan == {}  # 192.168.* of ProxyOverride still goes direct


def test_child_env_never_overrides_a_proxy_variable_already_set(clash, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://corp:3128")
    env = child_env()
    assert env["HTTPS_PROXY"] == "http://corp:3128" and "HTTP_PROXY" not in env


@pytest.mark.parametrize(("url", "ep"), [("http://127.0.0.1:7890", ("127.0.0.1", 7890)),
                                         ("127.0.0.1:7890", ("127.0.0.1", 7890)),
                                         ("http://proxy.corp", ("proxy.corp", 80)),
                                         ("socks5://127.0.0.1", ("127.0.0.1", 1080)),
                                         ("http://user:pw@[::1]:3128", ("::1", 3128)),
                                         ("http://host:notaport", None)])
def test_endpoint(url, ep):
    assert proxy.endpoint(url) == ep


def test_a_system_proxy_that_is_not_listening_gets_its_own_message():
    port = closed_port()
    s = proxy.resolve({}, RegistryValues(1, f"127.0.0.1:{port}", CLASH_OVERRIDE))
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="https://repo.anaconda.com/miniconda/")
    rec = RecordingReporter()
    with pytest.raises(DownloadError) as info:
        proxy.check_before_download(plan, rec, s)
    exc = info.value
    assert exc.exit_code == 4
    assert f"the system proxy 127.0.0.1:{port} is not answering (" in exc.message.lower()
    assert "start it" not in exc.message and "Start the proxy program" in exc.fix
    assert "refused" in exc.message
    assert "Clash" in exc.fix and "Use a proxy server" in exc.fix and "系统代理" in exc.fix
    logs = [line for _st, line, _lv in rec.of("log")]
    assert logs[0] == f"Proxy: http://127.0.0.1:{port} (from the Windows system proxy setting; not for: localhost, " \
                      f"127.*, 10.*, 172.16.*, 172.17.*, 172.18.* and 15 more)."


def test_a_listening_proxy_passes_and_is_logged():
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        s = proxy.resolve({}, RegistryValues(1, f"127.0.0.1:{port}", "<local>"))
        plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="https://repo.anaconda.com/miniconda/")
        rec = RecordingReporter()
        assert proxy.check_before_download(plan, rec, s) is s
    logs = [line for _st, line, _lv in rec.of("log")]
    assert logs[0] == f"Proxy: http://127.0.0.1:{port} (from the Windows system proxy setting; not for: <local>)."
    assert logs[1].startswith(f"conda and pip get it as HTTP_PROXY=http://127.0.0.1:{port}, HTTPS_PROXY=")


def test_a_dead_proxy_the_run_does_not_use_is_not_checked():
    s = proxy.resolve({}, RegistryValues(1, f"127.0.0.1:{closed_port()}", "127.*;<local>"))
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="http://127.0.0.1:8000/miniconda/",
                       create_env=False)
    proxy.check_before_download(plan, RecordingReporter(), s)  # the mirror is bypassed: nothing to check
    plan.create_env = True  # but PyPI, for the env, goes through it
    with pytest.raises(DownloadError, match="is not answering"):
        proxy.check_before_download(plan, RecordingReporter(), s)


def test_env_proxy_not_listening_names_the_variable():
    port = closed_port()
    s = proxy.resolve({"HTTPS_PROXY": f"http://127.0.0.1:{port}"})
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="https://repo.anaconda.com/miniconda/")
    with pytest.raises(DownloadError, match=rf"The proxy 127\.0\.0\.1:{port} set in HTTPS_PROXY is not answering "
                                            r"\(.*\)\.\nStart the proxy program"):
        proxy.check_before_download(plan, RecordingReporter(), s)


def test_silent_dry_run_exits_4_when_the_system_proxy_is_not_answering(clash, tmp_path):
    port = closed_port()
    clash.values = RegistryValues(1, f"127.0.0.1:{port}", CLASH_OVERRIDE)
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc",
                       mirror="https://repo.anaconda.com/miniconda/", download_dir=tmp_path / "dl", accept_tos=True,
                       log_file=tmp_path / "log.txt")
    out = io.StringIO()
    assert silent.run(plan, json_events=True, dry_run=True, out=out) == 4
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last["exit_code"] == 4 and last["stage"] == "download"
    assert f"The system proxy 127.0.0.1:{port} is not answering (" in last["message"]
    assert not (tmp_path / "dl").exists()


def test_silent_cli_exits_4_when_the_env_proxy_is_not_answering(tmp_path, isolated_home, mirror):
    from tests.test_silent import events, run_cli  # noqa: PLC0415

    port = closed_port()
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--download-dir", str(tmp_path / "dl"), "--accept-tos", home=isolated_home,
                  extra_env={"HTTP_PROXY": f"http://127.0.0.1:{port}", "NO_PROXY": ""})
    assert res.returncode == 4, res.stdout + res.stderr
    last = events(res.stdout)[-1]
    assert last["event"] == "failed" and last["exit_code"] == 4
    assert f"The proxy 127.0.0.1:{port} set in HTTP_PROXY is not answering (" \
        in last["message"] and "unset HTTP_PROXY" in last["fix"]
    assert not mirror.state.requests  # nothing was asked of the mirror


def test_a_proxy_password_is_never_shown():
    s = proxy.resolve({"HTTPS_PROXY": "http://bob:hunter2@127.0.0.1:9", "HTTP_PROXY": "http://bob:hunter2@p:8"})
    assert "hunter2" not in s.describe() and "http://bob:****@127.0.0.1:9" in s.describe()
    w = proxy.resolve({}, RegistryValues(1, "http://bob:hunter2@127.0.0.1:9", None))
    rec = RecordingReporter()
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="https://repo.anaconda.com/miniconda/")
    with pytest.raises(DownloadError) as info:
        proxy.check_before_download(plan, rec, w, connect=lambda h, p, t: (_ for _ in ()).throw(ConnectionRefusedError()))
    logs = "\n".join(line for _st, line, _lv in rec.of("log"))
    assert "hunter2" not in logs + info.value.message + info.value.fix and "bob:****@" in logs


def test_the_system_proxy_fix_in_chinese_says_the_hint_once():
    from app import i18n

    port = closed_port()
    s = proxy.resolve({}, RegistryValues(1, f"127.0.0.1:{port}", CLASH_OVERRIDE))
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="https://repo.anaconda.com/miniconda/")
    i18n.set_language("zh_CN")
    try:
        with pytest.raises(DownloadError) as info:
            proxy.check_before_download(plan, RecordingReporter(), s)
    finally:
        i18n.set_language("en")
    fix = info.value.fix
    assert "Clash" in fix and "Start the proxy program" not in fix
    assert fix.count("系统代理") == 1 or "系统代理 127.0.0.1" not in fix  # the English-only hint is not appended
    assert f"系统代理 127.0.0.1:{port} 没有响应" not in fix
