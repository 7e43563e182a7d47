"""Issue 8, "One mirror choice for the whole run" and "TLS, proxies and the user's own config".

Real parts: the stand-in conda (checked against real conda 26.7 recordings of ``conda config --file``),
the real command line in child processes, a real HTTP server and a real 407-answering proxy on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.core import condarc, mirrors, net, pip_config
from app.core.errors import Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import MIRRORS, InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import LocalServer
from tests.support.mirror import build_mirror
from tests.support.standin import CONDA_VERSION, _yaml_load, read_calls
from tests.support.wheels import tiny_wheel

DATA = Path(__file__).parent / "data"
REAL = DATA / "real-conda"
ROOT = Path(__file__).resolve().parent.parent
LINUX = PlatformInfo("Linux", "x86_64")


def conda(prefix: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUTF8="1", **extra_env)
    return subprocess.run([str(prefix / "bin" / "conda"), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def run_cli(*args: str, home: Path, extra_env: dict[str, str] | None = None, timeout: float = 240):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the stand-in's `conda config` against the real recordings ------------------------------------------------------

RIG_CONDARC = """# rig: local file:// channels only, so that conda never reaches the network
channels:
  - file://<CHANNELS>/rig-local
default_channels:
  - file://<CHANNELS>/rig-local
channel_alias: file://<CHANNELS>
offline: true
solver: classic
auto_update_conda: false
notify_outdated_conda: false
report_errors: false
"""


def test_standin_config_file_replays_the_real_recordings(standin_prefix, tmp_path):
    (standin_prefix / ".condarc").write_text(RIG_CONDARC)
    cfg = tmp_path / "config"
    cfg.mkdir()
    target = cfg / "condarc"

    def run(*args):
        return conda(standin_prefix, "config", "--file", str(target), *args)

    def real(name):
        return (REAL / name).read_text().replace("<CONFIG_DIR>", str(cfg))

    res = run("--set", "channel_priority", "strict")
    assert (res.returncode, res.stdout, res.stderr) == (0, real("conda-config--file-set-channel_priority.txt"), "")
    res = run("--add", "channels", "conda-forge")
    assert (res.returncode, res.stdout) == (0, real("conda-config--file-add-channels.txt"))
    res = run("--set", "auto_activate_base", "false")
    assert res.stdout == "" and res.stderr == real("conda-config--file-set-auto_activate_base.stderr.txt")
    res = run("--set", "show_channel_urls", "true", "--json")
    assert res.stdout == real("conda-config--file-set-json.json")
    res = run("--set", "no_such_key", "1", "--json")
    assert res.returncode == 1 and json.loads(res.stdout) == json.loads(real("conda-config--file-set-invalid-key--json.json"))
    assert res.stdout.endswith("}\n\n")
    # seeded from the prefix's .condarc, comment included, plus each change in order
    assert target.read_text() == real("conda-config--file-resulting-condarc.yml")
    res = run("--get", "--json")
    assert json.loads(res.stdout) == json.loads(real("conda-config--file-get--json.json"))

    existing = cfg / "existing-empty.condarc"
    existing.write_text("")
    for args, out_name, err_name in (
            (("--set", "channel_priority", "strict"), "conda-config--file-existing-set-channel_priority.txt", None),
            (("--add", "channels", "conda-forge"), "conda-config--file-existing-add-channels.txt", None),
            (("--add", "channels", "conda-forge"), "conda-config--file-existing-add-channels-again.txt",
             "conda-config--file-existing-add-channels-again.stderr.txt")):
        res = conda(standin_prefix, "config", "--file", str(existing), *args)
        assert res.stdout == real(out_name) and res.stderr == (real(err_name) if err_name else "")
    assert existing.read_text() == real("conda-config--file-existing-resulting-condarc.yml")


def test_standin_show_sources_has_the_recorded_shape(standin_prefix):
    (standin_prefix / ".condarc").write_text(RIG_CONDARC)
    res = conda(standin_prefix, "config", "--show-sources", "--json")
    recorded = json.loads((REAL / "conda-config--show-sources--json.json").read_text())
    doc = json.loads(res.stdout)
    assert doc == {str(standin_prefix / ".condarc"): recorded["<ROOT_PREFIX>/.condarc"], "cmd_line": {"json": True}}


def test_standin_resolves_custom_channels_and_logs_them(standin_prefix, tmp_path):
    (standin_prefix / ".condarc").write_text(
        "channels:\n  - conda-forge\ncustom_channels:\n  conda-forge: https://mirror.example.invalid/anaconda/cloud\n")
    log = tmp_path / "channels.jsonl"
    res = conda(standin_prefix, "create", "--yes", "--json", "-n", "x", "python=3.11",
                STANDIN_CONDA_CHANNEL_LOG=str(log))
    assert res.returncode == 0, res.stdout + res.stderr
    entry = json.loads(log.read_text().splitlines()[-1])
    # (a host other than 127.0.0.1: the stand-in really looks only at local channels, and one that does not
    # answer fails as real conda does, CondaHTTPError 000)
    assert entry["channels"] == ["https://mirror.example.invalid/anaconda/cloud/conda-forge"]


# ---- the table -------------------------------------------------------------------------------------------------------

def test_table_has_every_named_mirror_and_plan_mirrors_is_a_live_view(tmp_path, monkeypatch):
    assert list(MIRRORS) == ["official", "tuna", "bfsu", "ustc", "aliyun", "nju"]
    assert MIRRORS["nju"] == "https://mirror.nju.edu.cn/anaconda/miniconda/"
    table = tmp_path / "m.toml"
    table.write_text('[mirrors.local]\ntitle = "Local"\ninstaller = "http://127.0.0.1:1/mc"\n')
    monkeypatch.setenv(mirrors.TABLE_ENV, str(table))
    assert MIRRORS["local"] == "http://127.0.0.1:1/mc/" and "nju" in MIRRORS
    assert InstallPlan(platform=LINUX, mirror="local").mirror_url == "http://127.0.0.1:1/mc/"


@pytest.mark.parametrize("name,doc", [("tuna", "tuna_condarc.rendered_from_help_template.yaml"),
                                      ("bfsu", "bfsu_condarc.rendered_from_mirrorz_template.yaml"),
                                      ("ustc", "ustc_condarc.yaml")])
def test_table_conda_part_matches_the_mirrors_documented_condarc(name, doc):
    documented, _ = _yaml_load((DATA / "mirrors" / doc).read_text())
    ours = mirrors.load()[name].conda
    assert ours is not None
    assert dict(ours.custom_channels).items() <= documented["custom_channels"].items()
    assert {"conda-forge"} <= dict(ours.custom_channels).keys()
    assert list(ours.default_channels) == documented.get("default_channels", [])
    assert dict(ours.settings)["show_channel_urls"] is True


@pytest.mark.parametrize("mirror,conda,pip,torch", [
    ("official", None, None, ("https://download.pytorch.org/whl/cu126", "index-url")),
    ("tuna", "tuna", "https://pypi.tuna.tsinghua.edu.cn/simple", ("https://download.pytorch.org/whl/cu126", "index-url")),
    ("aliyun", "aliyun", "https://mirrors.aliyun.com/pypi/simple/",
     ("https://mirrors.aliyun.com/pytorch-wheels/cu126/", "find-links")),
    ("nju", "nju", "https://mirror.nju.edu.cn/pypi/web/simple", ("https://mirrors.nju.edu.cn/pytorch/whl/cu126", "index-url")),
    ("https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda", "tuna", "https://pypi.tuna.tsinghua.edu.cn/simple",
     ("https://download.pytorch.org/whl/cu126", "index-url")),
    ("https://example.org/miniconda/", None, None, ("https://download.pytorch.org/whl/cu126", "index-url")),
])
def test_one_mirror_choice_gives_every_part(mirror, conda, pip, torch):
    src = mirrors.sources(InstallPlan(platform=LINUX, mirror=mirror))
    assert (src.conda, src.pip_index, src.torch_index("cu126")) == (conda, pip, torch)
    assert src.torch_is_official("cu126") == torch[0].startswith("https://download.pytorch.org/")
    assert len(src.lines()) == 4


def test_overrides_change_one_part_each():
    src = mirrors.sources(InstallPlan(platform=LINUX, mirror="tuna", condarc_mirror="none",
                                      pip_index="https://pypi.example.org/simple"))
    assert src.installer == MIRRORS["tuna"] and src.conda is None and src.conda_channels is None
    assert src.pip_index == "https://pypi.example.org/simple"
    src = mirrors.sources(InstallPlan(platform=LINUX, mirror="official", condarc_mirror="https://m.example.org/anaconda/"))
    assert src.conda_channels.default_channels[0] == "https://m.example.org/anaconda/pkgs/main"
    assert dict(src.conda_channels.custom_channels)["conda-forge"] == "https://m.example.org/anaconda/cloud"
    src = mirrors.sources(InstallPlan(platform=LINUX, mirror="official", condarc_mirror="BFSU"))
    assert src.conda == "bfsu" and src.pip_index is None


@pytest.mark.parametrize("flags,words", [
    (["--condarc-mirror", "tsinghua"], "Unknown conda channels mirror 'tsinghua'"),
    (["--condarc-mirror", "ftp://m.example.org/anaconda"], "is not an http:// or https:// URL"),
    (["--pip-index", "pypi.tuna.tsinghua.edu.cn/simple"], "pip index (--pip-index / pip_index)"),
    (["--pip-index", "https://host:99999/simple"], "cannot be read"),
])
def test_bad_overrides_exit_2_before_anything(flags, words, tmp_path, isolated_home):
    res = run_cli("--silent", "--no-gpu-check", "--prefix", str(tmp_path / "mc"), *flags, home=isolated_home)
    assert res.returncode == 2, res.stderr
    assert words in res.stderr and not (tmp_path / "mc").exists()


def test_dry_run_prints_one_line_per_part(tmp_path, isolated_home, mirror):
    table = tmp_path / "m.toml"
    table.write_text(f'[mirrors.local]\ntitle = "Local"\ninstaller = "{mirror.base_url}"\n'
                     'pip_index = "https://pypi.local.example/simple"\n'
                     '[mirrors.local.conda]\nchannels = ["defaults"]\n'
                     'default_channels = ["https://c.local.example/anaconda/pkgs/main"]\n'
                     'custom_channels = { conda-forge = "https://c.local.example/anaconda/cloud" }\n')
    res = run_cli("--dry-run", "--mirror", "local", "--prefix", str(tmp_path / "mc"), "--accept-tos",
                  home=isolated_home, extra_env={mirrors.TABLE_ENV: str(table)})
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "conda channels:  Local (https://c.local.example/anaconda), written to the new install's .condarc" in out
    assert "pip packages:    Local (https://pypi.local.example/simple), in the env's own pip config" in out
    assert ("PyTorch wheels:  official PyTorch index (https://download.pytorch.org/whl/<variant>) "
            "(Local carries no PyTorch wheel index)") in out


def test_dry_run_of_an_env_file_and_of_no_env_prints_the_parts_that_apply(tmp_path, isolated_home, mirror):
    table = tmp_path / "m.toml"
    table.write_text(f'[mirrors.local]\ntitle = "Local"\ninstaller = "{mirror.base_url}"\n'
                     'pip_index = "https://pypi.local.example/simple"\n'
                     '[mirrors.local.conda]\nchannels = ["defaults"]\n'
                     'default_channels = ["https://c.local.example/anaconda/pkgs/main"]\n')
    yml = tmp_path / "environment.yml"
    yml.write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - einops\n")
    conda = "conda channels:  Local (https://c.local.example/anaconda/pkgs/main), written to the new install's .condarc"
    pip = "pip packages:    Local (https://pypi.local.example/simple), in the env's own pip config"
    res = run_cli("--dry-run", "--mirror", "local", "--prefix", str(tmp_path / "mc"), "--accept-tos",
                  "--env-file", str(yml), home=isolated_home, extra_env={mirrors.TABLE_ENV: str(table)})
    assert res.returncode == 0, res.stderr
    assert conda in res.stdout and pip in res.stdout and "PyTorch wheels:" not in res.stdout
    res = run_cli("--dry-run", "--mirror", "local", "--prefix", str(tmp_path / "mc"), "--no-env",
                  home=isolated_home, extra_env={mirrors.TABLE_ENV: str(table)})
    assert res.returncode == 0, res.stderr
    assert conda in res.stdout and "pip packages:" not in res.stdout and "PyTorch wheels:" not in res.stdout


# ---- .condarc of the new install ------------------------------------------------------------------------------------

@pytest.mark.parametrize("conda_version,python,expected", [
    ("23.7.4", (3, 11), False), ("23.9.0", (3, 11), True), ("23.9.0", (3, 9), False),
    (CONDA_VERSION, (3, 13), True), (CONDA_VERSION, None, True), ("4.14.0", (3, 10), False),
])
def test_truststore_needs_conda_23_9_and_python_3_10(conda_version, python, expected):
    assert condarc.truststore_supported(conda_version, python)[0] is expected


def test_configure_writes_the_mirror_with_conda_config_file(standin_prefix):
    original = (standin_prefix / ".condarc").read_text()
    rep = RecordingReporter()
    plan = InstallPlan(platform=LINUX, mirror="bfsu", prefix=standin_prefix)
    result = condarc.configure(plan, standin_prefix, standin_prefix / "bin" / "conda", rep, CancelToken())
    written, _ = _yaml_load((standin_prefix / ".condarc").read_text())
    documented, _ = _yaml_load((DATA / "mirrors" / "bfsu_condarc.rendered_from_mirrorz_template.yaml").read_text())
    assert written == {**documented, "ssl_verify": "truststore"}
    assert result.truststore and result.backup is not None and result.backup.read_text() == original
    argvs = [c["argv"] for c in read_calls(standin_prefix)]
    config_calls = [a for a in argvs if a[:1] == ["config"]]
    assert all(a[1:3] == ["--file", str(standin_prefix / ".condarc")] for a in config_calls[:-1])
    assert config_calls[-1] == ["config", "--show-sources", "--json"]
    # run again: nothing left to change, no second backup
    again = condarc.configure(plan, standin_prefix, standin_prefix / "bin" / "conda", rep, CancelToken())
    assert again.commands == [] and again.backup is None


def test_old_conda_gets_no_truststore_and_none_leaves_channels(standin_prefix, monkeypatch):
    monkeypatch.setenv("STANDIN_CONDA_VERSION", "23.7.4")
    before = (standin_prefix / ".condarc").read_text()
    plan = InstallPlan(platform=LINUX, mirror="tuna", condarc_mirror="none", prefix=standin_prefix)
    result = condarc.configure(plan, standin_prefix, standin_prefix / "bin" / "conda", RecordingReporter(), CancelToken())
    assert (standin_prefix / ".condarc").read_text() == before and result.commands == []
    assert not result.truststore and any("older than 23.9.0" in n for n in result.notes)


def test_user_condarc_with_dead_proxy_and_old_paths_is_reported(standin_prefix, isolated_home):
    port = free_port()
    (isolated_home / ".condarc").write_text(
        f"channels:\n  - https://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/free/\n"
        f"  - https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/pytorch/\n  - pytorch\n"
        f"proxy_servers:\n  http: http://127.0.0.1:{port}\n  https: http://127.0.0.1:{port}\n")
    rep = RecordingReporter()
    plan = InstallPlan(platform=LINUX, mirror="tuna", prefix=standin_prefix)
    result = condarc.configure(plan, standin_prefix, standin_prefix / "bin" / "conda", rep, CancelToken())
    text = "\n".join(result.warnings)
    home_rc = str(isolated_home / ".condarc")
    assert f"{home_rc} sends conda through the proxy http://127.0.0.1:{port} (https), and nothing answers there " \
           "(connection refused)" in text
    assert "pkgs/free/ in channels: that is Anaconda's old 'free' channel" in text
    assert "cloud/pytorch/ in channels: that is the pytorch conda channel, which stopped at PyTorch 2.5" in text
    assert f"{home_rc} names pytorch in channels: that is the pytorch conda channel" in text
    logged = [e[1] for e in rep.events if e[0] == "log" and e[1][2] == "warning"]
    assert len(logged) == 5 and all(e[0] is Stage.ENV for e in logged)


# ---- pip config -----------------------------------------------------------------------------------------------------

def test_pip_config_is_the_envs_own_and_pip_reads_it(tmp_path, isolated_home):
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(env)], check=True)
    user_conf = isolated_home / ".config" / "pip" / "pip.conf"
    user_conf.parent.mkdir(parents=True)
    user_conf.write_text("[global]\ntimeout = 5\n")
    plan = InstallPlan(platform=LINUX, mirror="official", pip_index="http://127.0.0.1:9/simple")
    path = pip_config.write(env, plan)
    assert path == env / "pip.conf"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    res = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "config", "--site", "list"], capture_output=True,
                         text=True, env=clean)
    assert res.stdout.replace('"', "'").splitlines() == [
        "global.index-url='http://127.0.0.1:9/simple'", "global.trusted-host='127.0.0.1'"], res.stdout + res.stderr
    assert user_conf.read_text() == "[global]\ntimeout = 5\n"
    assert pip_config.write(env, InstallPlan(platform=LINUX, mirror="official")) is None
    assert pip_config.config_path(env, "Windows").name == "pip.ini"


# ---- proxy 407 --------------------------------------------------------------------------------------------------------

class _AuthProxy(http.server.BaseHTTPRequestHandler):
    """A proxy that wants a password: 407 with Proxy-Authenticate to CONNECT and to plain requests."""

    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def log_message(self, *a):  # noqa: D102
        pass

    def _deny(self):
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("Proxy-Authenticate", 'Basic realm="corp"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_CONNECT = do_GET = do_HEAD = _deny  # noqa: N815


@pytest.fixture
def auth_proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthProxy)
    _AuthProxy.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", ["https://mirror.invalid/miniconda/", "http://mirror.invalid/miniconda/"])
def test_proxy_407_says_a_password_is_needed_and_how_to_give_it(url, auth_proxy, tmp_path, isolated_home):
    env = {"HTTPS_PROXY": auth_proxy, "HTTP_PROXY": auth_proxy, "NO_PROXY": "", "no_proxy": ""}
    res = run_cli("--silent", "--no-env", "--mirror", url, "--prefix", str(tmp_path / "mc"), home=isolated_home,
                  extra_env=env)
    assert res.returncode == 3, res.stderr
    assert "the proxy needs a user name and password (HTTP 407 Proxy Authentication Required)" in res.stderr
    assert "HTTPS_PROXY=http://USER:PASSWORD@proxy.example.com:8080" in res.stderr
    assert "could not be reached" not in res.stderr
    assert len(_AuthProxy.seen) == 1  # asked once: a password does not appear by retrying


def test_describe_error_of_a_tunnel_407():
    import requests

    exc = requests.exceptions.ProxyError("Unable to connect to proxy", OSError("Tunnel connection failed: 407 Proxy Authentication Required"))
    assert net.describe_error(exc) == net.PROXY_AUTH_REASON and net.is_proxy_auth(exc)
    refused = requests.exceptions.ProxyError("Unable to connect to proxy", OSError("[Errno 111] Connection refused"))
    assert net.describe_error(refused) == "the proxy could not be reached or refused the connection"


# ---- the whole silent run with a named mirror on the local server ----------------------------------------------------

def test_silent_install_with_a_named_mirror_uses_it_for_everything(tmp_path, isolated_home, standin_installer):
    mirror_root = build_mirror(tmp_path / "site" / "anaconda" / "miniconda", [standin_installer], layout="official")
    (tmp_path / "site" / "pypi" / "simple").mkdir(parents=True)
    with LocalServer(tmp_path / "site") as server:
        base = server.base_url.rstrip("/")
        assert mirror_root.is_dir()
        table = tmp_path / "mirrors.toml"
        table.write_text(
            f'[mirrors.campus]\ntitle = "Campus"\ninstaller = "{base}/anaconda/miniconda/"\n'
            f'pip_index = "{base}/pypi/simple"\n'
            f'[mirrors.campus.conda]\nchannels = ["defaults"]\nshow_channel_urls = true\n'
            f'default_channels = ["{base}/anaconda/pkgs/main", "{base}/anaconda/pkgs/r"]\n'
            f'custom_channels = {{ conda-forge = "{base}/anaconda/cloud", pytorch = "{base}/anaconda/cloud" }}\n'
            f'[mirrors.campus.torch]\nurl = "{base}/pytorch/whl/{{variant}}"\nstyle = "index-url"\n')
        channel_log = tmp_path / "channels.jsonl"
        prefix = tmp_path / "mc"
        res = run_cli("--silent", "--json", "--mirror", "campus", "--prefix", str(prefix), "--accept-tos",
                      "--no-gpu-check", "--packages", "numpy", "--channels", "conda-forge,defaults",
                      home=isolated_home,
                      extra_env={mirrors.TABLE_ENV: str(table), "STANDIN_CONDA_CHANNEL_LOG": str(channel_log)})
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        requested = [(m, p, h.get("Host", "")) for m, p, h in server.state.requests]
    # the installer came from the named mirror, and every request reached only the local server
    assert any(p.endswith(".sh") for _m, p, _h in requested)
    assert all(h.startswith("127.0.0.1") for _m, _p, h in requested)
    # .condarc of the new install: the mirror's channels, written by conda config --file, and truststore
    written, _ = _yaml_load((prefix / ".condarc").read_text())
    assert written == {"channels": ["defaults"], "show_channel_urls": True,
                       "default_channels": [f"{base}/anaconda/pkgs/main", f"{base}/anaconda/pkgs/r"],
                       "custom_channels": {"conda-forge": f"{base}/anaconda/cloud", "pytorch": f"{base}/anaconda/cloud"},
                       "ssl_verify": "truststore"}
    # the env's own pip config
    env_prefix = prefix / "envs" / "llm"
    assert (env_prefix / "pip.conf").read_text().splitlines()[1:4] == [
        "[global]", f"index-url = {base}/pypi/simple", "trusted-host = 127.0.0.1"]
    # the channels conda was asked to use: only the mirror's
    used = [u for line in channel_log.read_text().splitlines() for u in json.loads(line)["channels"]]
    assert used and all(u.startswith(base) for u in used), used
    assert f"{base}/anaconda/cloud/conda-forge" in used and f"{base}/anaconda/pkgs/main" in used
    assert "repo.anaconda.com" not in channel_log.read_text() and "pypi.org" not in (env_prefix / "pip.conf").read_text()
    # nothing in the run's own events names the official hosts (the catalog did not fall back to them either)
    assert "repo.anaconda.com" not in res.stdout and "pypi.org" not in res.stdout and "download.pytorch.org" not in res.stdout
    finished = [e for e in map(json.loads, res.stdout.splitlines()) if e.get("event") == "stage_finished"
                and e.get("stage") == "env"]
    assert finished and finished[0]["data"]["pip_config"] == str(env_prefix / "pip.conf")


def test_llm_preset_gets_pip_and_torch_from_the_named_mirror(tmp_path, isolated_home, standin_installer):
    """The LLM preset's pip steps follow the mirror too: torch with the mirror's wheel index, the rest through
    the env's own pip.conf (a real pip install of a tiny wheel that only the mirror's pip index has)."""
    site = tmp_path / "site"
    build_mirror(site / "anaconda" / "miniconda", [standin_installer], layout="official")
    tiny_wheel(site / "pypi", "tinyllmlib")
    (site / "pypi" / "simple" / "index.html").write_text("<html></html>", encoding="utf-8")
    presets_file = tmp_path / "presets.toml"
    presets_file.write_text((ROOT / "tests" / "data" / "presets" / "offline.toml").read_text(encoding="utf-8")
                            .replace('pip = ["packaging"]', 'pip = ["tinyllmlib"]'), encoding="utf-8")
    with LocalServer(site) as server:
        base = server.base_url.rstrip("/")
        table = tmp_path / "mirrors.toml"
        table.write_text(
            f'[mirrors.campus]\ntitle = "Campus"\ninstaller = "{base}/anaconda/miniconda/"\n'
            f'pip_index = "{base}/pypi/simple"\n'
            f'[mirrors.campus.conda]\nchannels = ["conda-forge"]\n'
            f'custom_channels = {{ conda-forge = "{base}/anaconda/cloud" }}\n'
            f'[mirrors.campus.torch]\nurl = "{base}/pytorch/whl/{{variant}}"\nstyle = "index-url"\n')
        prefix = tmp_path / "mc"
        res = run_cli("--silent", "--json", "--mirror", "campus", "--prefix", str(prefix), "--no-gpu-check",
                      "--preset", "llm-cpu", "--log-file", str(tmp_path / "run.log"), home=isolated_home,
                      extra_env={mirrors.TABLE_ENV: str(table), "MINICONDA_WIZARD_PRESETS": str(presets_file)})
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        asked = [p for _m, p, _h in server.state.requests]
    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    # torch: the mirror's wheel index for the chosen build (already installed in the stand-in env: no download)
    assert f"-m pip install --index-url {base}/pytorch/whl/cpu torch" in log
    # the rest: the env's own pip config points at the mirror, and pip really fetched from it
    env_prefix = prefix / "envs" / "llm"
    assert f"index-url = {base}/pypi/simple" in (env_prefix / "pip.conf").read_text()
    assert "/pypi/simple/tinyllmlib/" in asked and any(p.endswith(".whl") for p in asked)
    out = subprocess.run([str(env_prefix / "bin" / "python"), "-c", "import tinyllmlib; print(tinyllmlib.__file__)"],
                         capture_output=True, text=True, check=True).stdout
    assert str(env_prefix) in out
    assert "pypi.org" not in log and "download.pytorch.org" not in log and "repo.anaconda.com" not in log


def test_no_env_still_gets_the_mirrors_channels(tmp_path, isolated_home, mirror):
    table = tmp_path / "m.toml"
    table.write_text(f'[mirrors.local]\ntitle = "Local"\ninstaller = "{mirror.base_url}"\n'
                     '[mirrors.local.conda]\nchannels = ["conda-forge"]\n'
                     'custom_channels = { conda-forge = "https://c.local.example/anaconda/cloud" }\n')
    prefix = tmp_path / "mc"
    res = run_cli("--silent", "--no-env", "--mirror", "local", "--prefix", str(prefix), home=isolated_home,
                  extra_env={mirrors.TABLE_ENV: str(table)})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    written, _ = _yaml_load((prefix / ".condarc").read_text())
    assert written == {"channels": ["conda-forge"], "custom_channels": {"conda-forge": "https://c.local.example/anaconda/cloud"},
                       "ssl_verify": "truststore"}


def test_config_modifiers_are_batched_and_never_mixed(standin_prefix, tmp_path):
    rc = tmp_path / "x.condarc"
    cmds = condarc.plan_commands(rc, {"channels": ["conda-forge"]}, mirrors.load()["tuna"].conda, True)
    assert [c[3] for c in cmds] == ["--remove-key", "--append", "--set"]
    for c in cmds:
        assert {a for a in c if a.startswith("--") and a not in ("--file", "--json")} == {c[3]}
    mixed = conda(standin_prefix, "config", "--file", str(rc), "--set", "a", "1", "--append", "channels", "x")
    assert mixed.returncode == 2 and "argument --append: not allowed with argument --set" in mixed.stderr


def test_update_existing_warns_which_user_channels_the_mirror_replaces(standin_prefix):
    rc = standin_prefix / ".condarc"
    rc.write_text("channels:\n  - conda-forge\n  - bioconda\ncustom_channels:\n  conda-forge: https://old.example/cloud\n")
    rep = RecordingReporter()
    plan = InstallPlan(platform=LINUX, mirror="bfsu", prefix=standin_prefix, update_existing=True)
    result = condarc.configure(plan, standin_prefix, standin_prefix / "bin" / "conda", rep, CancelToken(),
                               new_install=False)
    warnings = [line for _s, line, level in rep.of("log") if level == "warning"]
    assert result.backup is not None
    assert (f"The existing {rc} set channels to [conda-forge, bioconda]; the mirror replaces it with [defaults] "
            f"(the old file is kept as {result.backup}).") in warnings
    assert any(w.startswith(f"The existing {rc} set custom_channels.conda-forge to https://old.example/cloud; the "
                            "mirror replaces it with https://mirrors.bfsu.edu.cn/anaconda/cloud") for w in warnings)


def test_a_condarc_mirror_url_is_named_as_the_anaconda_endpoint_url():
    plan = InstallPlan(platform=LINUX, mirror="official", condarc_mirror="https://mirror.example/anaconda")
    text = dict(mirrors.sources(plan).parts())["conda channels"]
    assert text.startswith("the anaconda endpoint URL given with --condarc-mirror (https://mirror.example/anaconda), "
                           "written to the new install's .condarc")


def test_a_mirror_url_is_said_once_to_give_only_the_installer():
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="https://example.org/miniconda/",
                       prefix=Path("/opt/mc"), accept_tos=True)
    src = mirrors.sources(plan)
    assert src.url_only and not src.notes  # no per-part note: one line in the summary says it
    lines = plan.summary().splitlines()
    assert sum("gives only the installer" in line for line in lines) == 1
    assert not any("names only an installer folder" in line for line in lines)
    named = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="tuna", prefix=Path("/opt/mc"))
    assert not mirrors.sources(named).url_only
    assert not any("gives only the installer" in line for line in named.summary().splitlines())
