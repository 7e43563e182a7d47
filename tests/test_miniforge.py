"""Issue 7: Miniforge as a second distribution.

Real parts only: the CLI in a child process, a real HTTP server on 127.0.0.1 serving Miniforge-style release folders
(``<asset>`` + ``<asset>.sha256``, tests/support/mirror.py ``build_release_folder``), the stand-in installer built with
Miniforge's layout (``Miniforge3-Linux-x86_64.sh``: conda-forge ``.condarc``, ``mamba``), and a mirror table file
given with ``MINICONDA_WIZARD_MIRRORS`` (rows pointed at the local server).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import build_parser, plan_from_args, plan_from_values
from app.core import catalog, download, mirrors, net, tos
from app.core.errors import TermsOfServiceError, UnverifiedInstallerError, UsageError
from app.core.events import CancelToken, RecordingReporter
from app.core.installer import build_command
from app.core.plan import InstallPlan, default_prefix
from app.core.platform_info import PlatformInfo

from tests.support.http_server import Fault, LocalServer
from tests.support.mirror import build_release_folder, sha256_file
from tests.support.standin import MINIFORGE_FILENAME, MINIFORGE_NAME, build_standin_installer, read_calls
from tests.test_silent import events, run_cli

LINUX = PlatformInfo("Linux", "x86_64")
WIN = PlatformInfo("Windows", "x86_64")
MAC = PlatformInfo("MacOSX", "arm64")


@pytest.fixture(scope="module")
def forge_installer(tmp_path_factory) -> Path:
    return build_standin_installer(tmp_path_factory.mktemp("forge"), MINIFORGE_FILENAME, flavor=MINIFORGE_NAME)


@pytest.fixture(scope="module")
def release_server(tmp_path_factory, forge_installer):
    """One server, three folders: ``github/`` (with .sha256, stands for GitHub Releases), ``mirror/`` (a copy
    with .sha256, stands for TUNA's LatestRelease), ``bare/`` (a copy without .sha256)."""
    root = tmp_path_factory.mktemp("releases")
    build_release_folder(root / "github", [forge_installer])
    build_release_folder(root / "mirror", [forge_installer])
    build_release_folder(root / "bare", [forge_installer], with_sha256=False)
    (root / "cloud" / "conda-forge").mkdir(parents=True)
    with LocalServer(root) as server:
        yield server


@pytest.fixture
def table(tmp_path, release_server, monkeypatch) -> Path:
    """A mirror table whose official Miniforge folder is the local ``github/`` and with two test mirrors."""
    base = release_server.base_url
    path = tmp_path / "mirrors.toml"
    path.write_text(f'''
[mirrors.official]
title = "official"
installer = "{base}miniconda/"
miniforge = "{base}github/"

[mirrors.forgetest]
title = "ForgeTest"
installer = "{base}nothing/"
miniforge = "{base}mirror/"
[mirrors.forgetest.conda]
channels = ["defaults"]
default_channels = ["{base}pkgs/main"]
custom_channels = {{ conda-forge = "{base}cloud", pytorch = "{base}cloud" }}

[mirrors.barehash]
title = "BareHash"
installer = "{base}nothing/"
miniforge = "{base}bare/"
''', encoding="utf-8")
    monkeypatch.setenv(mirrors.TABLE_ENV, str(path))
    return path


def msgs(rep: RecordingReporter) -> list[str]:
    return [args[1] for args in rep.of("log")]


def forge_plan(**kw) -> InstallPlan:
    return InstallPlan(platform=kw.pop("platform", LINUX), distribution="miniforge", **kw)


# ---- the choice and what follows from it -------------------------------------------------------------

def test_flag_and_answer_file_key_choose_miniforge_and_its_prefix(isolated_home, tmp_path):
    plan = plan_from_args(build_parser().parse_args(["--distribution", "miniforge"]))
    assert plan.distribution == "miniforge"
    assert plan.resolved_prefix == isolated_home / "miniforge3"
    assert plan_from_args(build_parser().parse_args([])).resolved_prefix == isolated_home / "miniconda3"
    assert plan_from_values({"distribution": "Miniforge"}).resolved_prefix == isolated_home / "miniforge3"
    # a given prefix is kept, in either order
    assert plan_from_values({"prefix": "/opt/mc", "distribution": "miniforge"}).resolved_prefix == Path("/opt/mc")
    # the platform first, then the distribution: the Windows default follows both
    win = plan_from_values({"platform": "Windows-x86_64", "distribution": "miniforge"})
    assert win.distribution == "miniforge" and win.prefix.name == "miniforge3"
    cfg = tmp_path / "a.toml"
    cfg.write_text('distribution = "miniforge"\n', encoding="utf-8")
    assert plan_from_args(build_parser().parse_args(["--config", str(cfg)])).distribution == "miniforge"


def test_unknown_distribution_is_named_with_the_choices():
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--distribution", "anaconda"])
    assert exc.value.code == 2
    problems = plan_from_values({"distribution": "anaconda"}).problems()
    assert any("Unknown distribution 'anaconda'" in p and "miniconda, miniforge" in p for p in problems)


def test_windows_default_prefix_for_a_chinese_profile_is_the_safe_path():
    assert default_prefix(WIN, Path("C:/Users/张三"), "miniforge") == Path("C:\\miniforge3")
    assert default_prefix(WIN, Path("C:/Users/John Smith"), "miniforge") == Path("C:\\miniforge3")
    assert default_prefix(LINUX, Path("/home/ann"), "miniforge") == Path("/home/ann/miniforge3")
    assert default_prefix(LINUX, Path("/home/ann")) == Path("/home/ann/miniconda3")


def test_miniforge_folders_per_named_mirror_and_a_mirror_without_miniforge():
    assert forge_plan().mirror_url == "https://github.com/conda-forge/miniforge/releases/latest/download/"
    assert forge_plan().mirror_is_official
    assert forge_plan(mirror="tuna").mirror_url == \
        "https://mirrors.tuna.tsinghua.edu.cn/github-release/conda-forge/miniforge/LatestRelease/"
    assert forge_plan(mirror="ustc").mirror_url == \
        "https://mirrors.ustc.edu.cn/github-release/conda-forge/miniforge/LatestRelease/"
    assert not forge_plan(mirror="tuna").mirror_is_official
    assert InstallPlan(platform=LINUX, mirror="tuna").mirror_url == "https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/"
    problems = forge_plan(prefix="/opt/mf", mirror="bfsu").problems()
    assert problems == ["The mirror bfsu (--mirror / mirror) carries no Miniforge installers; for --distribution / "
                        "distribution miniforge choose one that does: official, tuna, ustc (or auto), or the URL of a "
                        "Miniforge release folder."]
    assert forge_plan(prefix="/opt/mf", mirror="https://example.org/miniforge/").problems() == []


def test_no_tos_gate_and_accept_tos_is_only_a_note():
    plan = forge_plan(prefix="/opt/mf")
    assert not plan.uses_defaults_channels
    assert tos.channels_with_terms(plan) == []
    tos.check_before_install(plan)  # no --accept-tos, no error
    text = forge_plan(prefix="/opt/mf", accept_tos=True).summary()
    assert ("Accept ToS:      not needed: Miniforge's conda-forge has no Terms of Service (--accept-tos has no effect)"
            in text.splitlines())
    assert forge_plan(prefix="/opt/mf", accept_tos=True).problems() == []
    # the defaults channels asked for by name still need their terms
    with pytest.raises(TermsOfServiceError):
        tos.check_before_install(forge_plan(prefix="/opt/mf", channels=("defaults",)))
    # Miniconda unchanged: the implicit defaults gate
    with pytest.raises(TermsOfServiceError):
        tos.check_before_install(InstallPlan(platform=LINUX, prefix="/opt/mc"))


def test_accept_tos_runs_no_conda_tos_for_miniforge(tmp_path):
    rep = RecordingReporter()
    result = tos.accept(forge_plan(prefix="/opt/mf", accept_tos=True), tmp_path / "no-conda", rep, CancelToken())
    assert result.accepted == [] and result.failed == []
    assert any("--accept-tos has no effect" in m for m in msgs(rep))


@pytest.mark.parametrize("name", ["tuna", "ustc", "aliyun"])
def test_a_mirror_maps_conda_forge_to_itself(name):
    src = mirrors.sources(forge_plan(mirror=name) if name != "aliyun" else
                          InstallPlan(platform=LINUX, distribution="miniforge", condarc_mirror="aliyun"))
    cc = src.conda_channels
    assert cc is not None and cc.channels == ("conda-forge",) and cc.default_channels == ()
    assert dict(cc.custom_channels) == {"conda-forge": mirrors.load()[name].conda.custom_channels[0][1]
                                        if name != "ustc" else "https://mirrors.ustc.edu.cn/anaconda/cloud"}
    official = mirrors.sources(forge_plan())
    assert official.conda_channels is None
    assert official.parts()[1] == ("conda channels", "conda-forge (conda.anaconda.org; the .condarc is left as the "
                                                     "Miniforge installer wrote it)")


def test_summary_shows_distribution_hash_source_and_channels_for_a_named_mirror():
    lines = forge_plan(mirror="tuna", prefix="/opt/mf").summary().splitlines()
    assert "Mirror:          https://mirrors.tuna.tsinghua.edu.cn/github-release/conda-forge/miniforge/LatestRelease/" in lines
    assert ("conda channels:  conda-forge from TUNA (https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/conda-forge), "
            "written to the new install's .condarc") in lines
    # Miniconda's summary has no distribution lines (unchanged)
    plain = InstallPlan(platform=LINUX, prefix="/opt/mc").summary()
    assert "Distribution:" not in plain and "Accept ToS:      no" in plain


def test_dry_run_shows_distribution_hash_source_and_channels(isolated_home, table, release_server, forge_installer):
    res = run_cli("--dry-run", "--distribution", "miniforge", "--mirror", "forgetest", "--accept-tos",
                  home=isolated_home, extra_env={mirrors.TABLE_ENV: str(table)})
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert f"Mirror:          {release_server.base_url}mirror/" in lines
    assert any(line.startswith("Distribution:    Miniforge (channels: conda-forge; BSD-3-Clause") for line in lines)
    assert any(line.startswith("SHA-256 from:    the <installer>.sha256 published beside each installer") for line in lines)
    assert (f"conda channels:  conda-forge from ForgeTest ({release_server.base_url}cloud/conda-forge), "
            "written to the new install's .condarc") in lines
    assert f"Install to:      {isolated_home / 'miniforge3'}" in lines
    assert any(MINIFORGE_FILENAME in line and sha256_file(forge_installer) in line
               and "the .sha256 file published beside it" in line for line in lines), res.stdout


def test_constructor_batch_command_lines_are_the_same(tmp_path):
    for os_name, ext in (("Linux", ".sh"), ("Windows", ".exe"), ("MacOSX", ".pkg")):
        forge = build_command(tmp_path / f"Miniforge3-{os_name}-x86_64{ext}", tmp_path / "p", os_name)
        conda = build_command(tmp_path / f"Miniconda3-latest-{os_name}-x86_64{ext}", tmp_path / "p", os_name)
        assert [a.replace("Miniforge3-", "Miniconda3-latest-") for a in map(str, forge)] == list(map(str, conda))
    assert [str(a) for a in build_command(tmp_path / MINIFORGE_FILENAME, tmp_path / "p", "Linux")][-3:] == \
        ["-b", "-p", str(tmp_path / "p")]


# ---- the catalog: release folder and .sha256 ------------------------------------------------------

@pytest.mark.parametrize("text, name, want", [
    ("ab" * 32 + "  Miniforge3-Linux-x86_64.sh\n", "Miniforge3-Linux-x86_64.sh", "ab" * 32),
    ("AB" * 32 + " *Miniforge3-Linux-x86_64.sh", "Miniforge3-Linux-x86_64.sh", "ab" * 32),
    ("cd" * 32 + "\n", "Miniforge3-Linux-x86_64.sh", "cd" * 32),
    ("ab" * 32 + "  Miniforge3-Windows-x86_64.exe\n", "Miniforge3-Linux-x86_64.sh", None),
    ("<html>Not Found</html>", "Miniforge3-Linux-x86_64.sh", None),
])
def test_parse_sha256_file(text, name, want):
    assert catalog.parse_sha256_file(text, name) == want


def _resolve(plan: InstallPlan) -> tuple[catalog.InstallerChoice, RecordingReporter]:
    rep = RecordingReporter()
    return catalog.resolve(plan, net.make_session(), rep, CancelToken()), rep


def test_mirror_with_sha256_files(table, release_server, forge_installer):
    choice, _rep = _resolve(forge_plan(mirror="forgetest", prefix="/opt/mf"))
    assert choice.filename == MINIFORGE_FILENAME
    assert choice.url == release_server.base_url + "mirror/" + MINIFORGE_FILENAME
    assert choice.sha256 == sha256_file(forge_installer) and choice.hash_source == "sha256-file"


def test_mirror_without_hashes_falls_back_to_githubs_sha256(table, release_server, forge_installer):
    choice, rep = _resolve(forge_plan(mirror="barehash", prefix="/opt/mf"))
    assert choice.url == release_server.base_url + "bare/" + MINIFORGE_FILENAME
    assert choice.sha256 == sha256_file(forge_installer) and choice.hash_source == "official-sha256-file"
    assert any(f"reading {MINIFORGE_FILENAME}.sha256 from {release_server.base_url}github/" in m for m in msgs(rep))


def test_no_hash_anywhere_means_no_install_unless_allowed(table, release_server, tmp_path):
    plan = forge_plan(mirror=release_server.base_url + "bare/", prefix="/opt/mf", download_dir=tmp_path / "dl")
    release_server.fault(f"github/{MINIFORGE_FILENAME}.sha256", Fault(status=404))
    try:
        choice, _rep = _resolve(plan)
        assert choice.sha256 is None and choice.hash_source is None
        with pytest.raises(UnverifiedInstallerError) as exc:
            download.fetch_installer(plan, choice, net.make_session(), RecordingReporter(), CancelToken())
        assert exc.value.exit_code == 5
        assert not (tmp_path / "dl" / MINIFORGE_FILENAME).exists()
        plan.allow_unverified = True
        path = download.fetch_installer(plan, choice, net.make_session(), RecordingReporter(), CancelToken())
        assert path.name == MINIFORGE_FILENAME
    finally:
        release_server.clear_faults()


def test_a_wrong_sha256_flag_is_refused_before_downloading(table, release_server):
    with pytest.raises(UsageError) as exc:
        _resolve(forge_plan(mirror="forgetest", prefix="/opt/mf", sha256="00" * 32))
    assert "is not the one published in Miniforge3-Linux-x86_64.sh.sha256" in exc.value.message


def test_local_release_folder_and_a_local_installer_with_its_sha256(tmp_path, forge_installer):
    folder = build_release_folder(tmp_path / "share", [forge_installer])
    choice, _rep = _resolve(forge_plan(mirror=str(folder), prefix="/opt/mf"))
    assert choice.url == (folder / MINIFORGE_FILENAME).as_uri() and choice.hash_source == "sha256-file"
    own, _rep = _resolve(forge_plan(installer_file=folder / MINIFORGE_FILENAME, prefix="/opt/mf"))
    assert own.sha256 == sha256_file(forge_installer) and own.hash_source == "sha256-file"
    with pytest.raises(Exception) as exc:
        _resolve(forge_plan(mirror=str(folder), prefix="/opt/mf", platform=MAC))
    assert "has no Miniforge3-MacOSX-arm64.sh" in str(exc.value) and MINIFORGE_FILENAME in str(exc.value)


# ---- end to end -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_silent_miniforge_end_to_end(tmp_path, isolated_home, table, release_server, forge_installer):
    prefix = tmp_path / "miniforge3"
    channel_log = tmp_path / "channels.jsonl"
    res = run_cli("--silent", "--json", "--distribution", "miniforge", "--mirror", "forgetest", "--prefix", str(prefix),
                  "--gpu-steps", "20", "--download-dir", str(tmp_path / "dl"), "--log-file", str(tmp_path / "run.log"),
                  home=isolated_home, extra_env={mirrors.TABLE_ENV: str(table),
                                                 "STANDIN_CONDA_CHANNEL_LOG": str(channel_log)})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    evs = events(res.stdout)
    assert [e["stage"] for e in evs if e["event"] == "stage_started"] == \
        ["catalog", "download", "install", "shell", "env", "gpu_check"]
    assert evs[-1]["event"] == "finished" and evs[-1]["exit_code"] == 0
    info = {e["key"]: e["value"] for e in evs if e["event"] == "info" and e["stage"] == "catalog"}
    assert info["installer"] == MINIFORGE_FILENAME and info["hash_source"] == "sha256-file"
    assert info["sha256"] == sha256_file(forge_installer)
    assert len([e for e in evs if e["event"] == "train_step"]) == 20
    assert (prefix / "bin" / "mamba").exists() and (prefix / "envs" / "llm" / "bin" / "python").exists()
    # conda-forge only, mapped to the mirror; no ToS step ran
    rc = (prefix / ".condarc").read_text(encoding="utf-8")
    assert "conda-forge" in rc and f"{release_server.base_url}cloud" in rc and "defaults" not in rc
    argvs = [c["argv"] for c in read_calls(prefix)]
    assert not any("tos" in a for a in argvs)
    create = [json.loads(line) for line in channel_log.read_text(encoding="utf-8").splitlines()]
    assert any(f"{release_server.base_url}cloud/conda-forge" in rec["channels"] for rec in create), create
    assert all("https://repo.anaconda.com/pkgs/main" not in rec["channels"] for rec in create)
