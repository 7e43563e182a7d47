"""app.core.plan: the exact texts users read (dry-run summary, problems and their fixes) and the boundaries of
the input rules. Gaps found by mutation testing (docs/testing.md)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from app.core.errors import UsageError
from app.core.plan import (
    InstallPlan,
    _coerce,
    channel_problem,
    channels_use_defaults,
    env_name_problem,
    installer_file_problem,
    mirror_problem,
    setting,
)
from app.core.platform_info import PlatformInfo

WIN = PlatformInfo("Windows", "x86_64")
LINUX = PlatformInfo("Linux", "x86_64")
MAC = PlatformInfo("MacOSX", "arm64")


# ---- the dry-run summary ------------------------------------------------------------------------

#: The per-part source lines of the official "mirror" (issue 8: one line per part in the summary).
SOURCES_OFFICIAL = [
    "conda channels:  conda's own (defaults: repo.anaconda.com; the .condarc is left as the installer wrote it)",
    "pip packages:    PyPI (https://pypi.org/simple)",
    "PyTorch wheels:  official PyTorch index (https://download.pytorch.org/whl/<variant>)",
]

def test_summary_windows_with_everything_on():
    plan = InstallPlan(platform=WIN, prefix="C:\\mc", update_existing=True, add_to_path=True, register_python=True,
                       install_type="AllUsers", accept_tos=True, packages=(), gpu_steps=200, preset="minimal")
    assert plan.summary() == "\n".join([
        "Platform:        Windows x86_64",
        "Installer:       latest for Windows-x86_64",
        "Mirror:          https://repo.anaconda.com/miniconda/",
        "Install to:      C:\\mc  (update existing)",
        "Install type:    AllUsers",
        "Add to PATH:     yes",
        "Register Python: yes",
        "Create env:      llm (python=3.11; pip)",
        "Preset:          Minimal Python",
        "                 Chosen with --preset.",
        "Accept ToS:      yes",
        *SOURCES_OFFICIAL,
        "GPU check:       200 training steps",
    ])


def test_summary_windows_named_installer_hash_channels_and_log():
    plan = InstallPlan(platform=WIN, prefix="C:\\mc", installer="M.exe", sha256="AB" * 32,
                       channels=("conda-forge", "nvidia"), packages=("numpy", "scipy"), log_file=Path("/tmp/l.log"))
    assert plan.summary() == "\n".join([
        "Platform:        Windows x86_64",
        "Installer:       M.exe",
        "Mirror:          https://repo.anaconda.com/miniconda/",
        "Expected SHA-256: " + "ab" * 32,
        "Install to:      C:\\mc",
        "Install type:    JustMe",
        "Add to PATH:     no",
        "Register Python: no",
        "Create env:      llm (python=3.11; numpy scipy)",
        "Channels:        conda-forge, nvidia",
        "Preset:          Custom packages",
        "                 Chosen automatically: packages were given (--packages), so conda installs just those.",
        "Accept ToS:      no",
        *SOURCES_OFFICIAL,
        "GPU check:       60 training steps",
        "Log file:        /tmp/l.log",
    ])


def test_summary_unix_local_file_no_env(monkeypatch):
    monkeypatch.delenv("ZDOTDIR", raising=False)
    plan = InstallPlan(platform=LINUX, prefix="/opt/mc", init_shells=("bash",), create_env=False, gpu_check=False,
                       installer_file="/srv/M.sh")
    assert plan.summary() == "\n".join([
        "Platform:        Linux x86_64",
        "Installer:       local file /srv/M.sh",
        "Install to:      /opt/mc",
        "conda init:      bash (~/.bashrc)",
        "Create env:      no",
        SOURCES_OFFICIAL[0],  # the .condarc is still set up from the mirror without an env
        "GPU check:       no",
    ])
    mac = InstallPlan(platform=MAC, prefix="/opt/mc", init_shells=("bash", "zsh"), mirror="tuna")
    assert mac.summary().splitlines()[:4] == [
        "Platform:        macOS arm64",
        "Installer:       latest for MacOSX-arm64",
        "Mirror:          https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/",
        "Install to:      /opt/mc",
    ]
    assert "conda init:      bash (~/.bash_profile), zsh (~/.zshrc)" in mac.summary().splitlines()


# ---- validate, setting, channels ---------------------------------------------------------------

def test_validate_lists_every_problem_with_the_fix():
    plan = InstallPlan(platform=LINUX, prefix="/opt/mc", env_name="base", gpu_steps=3)
    problems = plan.problems()
    assert len(problems) == 2
    with pytest.raises(UsageError) as exc:
        plan.validate()
    assert exc.value.message == "The install plan is not valid:\n- " + "\n- ".join(problems)
    assert exc.value.fix == "Fix the problems listed above, then run again."
    ok = InstallPlan(platform=LINUX, prefix="/opt/mc")
    assert ok.validate() is ok


def test_setting_names_flag_and_key_or_just_the_key():
    assert setting("env_name") == "--env-name / env_name"
    assert setting("preset") == "--preset / preset"
    assert setting("no_such_key") == "no_such_key"


@pytest.mark.parametrize("channels, expected", [
    ((), True), (("defaults",), True), (("https://repo.anaconda.com/pkgs/main",), True),
    (("conda-forge",), False), (("conda-forge", "defaults"), True), (("DEFAULTS",), False),
])
def test_which_channels_reach_the_anaconda_defaults(channels, expected):
    assert channels_use_defaults(channels) is expected


def test_channel_problem_text_and_url_case():
    assert channel_problem("HTTPS://conda.anaconda.org/conda-forge") is None
    assert channel_problem("File:///srv/channel") is None
    assert channel_problem("conda forge") == (
        "The channel 'conda forge' (--channels / channels) is not a channel name or URL "
        "(for example conda-forge, defaults, or https://conda.anaconda.org/conda-forge).")


# ---- env names ----------------------------------------------------------------------------------

def _env_text(name: str, why: str) -> str:
    return (f"The env name {name!r} (--env-name / env_name) {why}: use ASCII letters, digits, '_', '.', '+' or '-', "
            "starting with a letter, digit or '_' (for example 'llm' or 'llm-3.11').")


@pytest.mark.parametrize("name, windows, why", [
    ("-n", False, "starts with '-', which conda reads as an option"),
    (".", False, "is not a new folder name"),
    ("..", False, "is not a new folder name"),
    ("con.txt", True, "is a name Windows reserves"),
    ("LPT1", True, "is a name Windows reserves"),
    ("a b", False, "has characters conda or the shell cannot take"),
    ("a;b", True, "has characters conda or the shell cannot take"),
])
def test_env_name_refusals_say_why(name, windows, why):
    assert env_name_problem(name, windows=windows) == _env_text(name, why)


def test_env_name_edges():
    assert env_name_problem("con") is None  # reserved only on Windows
    assert env_name_problem("con.d", windows=False) is None
    assert env_name_problem("llm-3.11", windows=True) is None
    assert env_name_problem("x" * 64) is None
    long = "y" * 65
    assert env_name_problem(long) == (f"The env name {'y' * 20!r}... (--env-name / env_name) is 65 characters long; "
                                      "keep it to 64 or fewer (for example 'llm').")


# ---- mirrors ------------------------------------------------------------------------------------

def test_empty_mirror_names_the_choices():
    assert mirror_problem("  ") == (
        "The mirror (--mirror / mirror) is empty; give one of official, tuna, bfsu, ustc, aliyun, nju, a URL or a local "
        "folder (for example --mirror tuna, or --mirror https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/, "
        "or a local folder such as /srv/miniconda).")


def test_file_url_with_a_space_in_any_case(tmp_path):
    folder = tmp_path / "my mirror"
    folder.mkdir()
    for scheme in ("file", "FILE"):
        text = f"{scheme}://{folder}"
        assert mirror_problem(text) == (f"The mirror URL {text!r} (--mirror / mirror) contains a space; write it as %20 "
                                        "or give the folder as a plain path.")


# ---- installer files ----------------------------------------------------------------------------

KEY = "--installer-file / installer_file"


def test_installer_file_control_characters_but_not_spaces(tmp_path):
    bad = Path(str(tmp_path / "a") + "\x1f.sh")
    assert installer_file_problem(bad) == (f"The installer file {str(bad)!r} ({KEY}) contains control characters; "
                                           "give a plain path.")
    spaced = tmp_path / "my installer.sh"
    spaced.write_bytes(b"#!/bin/sh\n")
    assert installer_file_problem(spaced) is None


def test_installer_file_texts(tmp_path):
    folder = tmp_path / "dl"
    folder.mkdir()
    assert installer_file_problem(folder) == (
        f"The installer {folder} ({KEY}) is a folder, not a file. Give the installer file itself, for example "
        f"{folder / 'Miniconda3-latest-Linux-x86_64.sh'}.")
    zip_ = tmp_path / "M.zip"
    zip_.write_bytes(b"PK")
    assert installer_file_problem(zip_) == (
        f"The installer file {zip_} ({KEY}) is not a Miniconda installer: expected a .sh, .exe or .pkg file "
        "(for example Miniconda3-latest-Linux-x86_64.sh).")
    exe = tmp_path / "M.exe"
    exe.write_bytes(b"MZ")
    assert installer_file_problem(exe, MAC) == (
        f"The installer file {exe} ({KEY}) is a .exe installer, which does not run on macOS arm64; "
        "use the .sh or .pkg installer for it.")
    empty = tmp_path / "M.sh"
    empty.write_bytes(b"")
    assert installer_file_problem(empty) == (
        f"The installer file {empty} ({KEY}) is empty (0 bytes); download it again (for example "
        "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh).")


@pytest.mark.parametrize("head, hint", [
    (b"<!DOCTYPE html><HTML><body>Not Found</body></HTML>", True),
    (b"\n\n  <?xml version='1.0'?><Error>AccessDenied</Error>", True),
    (b"PK\x03\x04 a zip", False),
    (b"\xef\xbb\xbf<html><body>Server Error</body></html>", True),  # a BOM first: "<html" anywhere counts
    (b"x" * 508 + b"<html>", False),  # only the first 512 bytes are looked at
])
def test_wrong_content_says_what_it_starts_with(tmp_path, head, hint):
    path = tmp_path / "Miniconda3-latest-Linux-x86_64.sh"
    path.write_bytes(head)
    extra = " It looks like a web page (a failed download?)." if hint else ""
    assert installer_file_problem(path) == (
        f"The installer file {path} ({KEY}) is not a shell script: a .sh installer starts with '#!', "
        f"this file with {head[:2]!r}.{extra} Download the installer again (for example from "
        "https://repo.anaconda.com/miniconda/).")


# ---- answer-file types --------------------------------------------------------------------------

@pytest.mark.parametrize("value, described", [
    (False, "false"), (True, "true"), ([1], "a list"), ({"a": 1}, "a table"), (None, "a NoneType"),
    (datetime.date(2024, 1, 1), "a date"),  # TOML has dates: env_name = 2024-01-01
])
def test_wrong_types_are_named(value, described):
    with pytest.raises(UsageError) as exc:
        _coerce("env_name", value)
    assert exc.value.message == f'env_name must be a string such as "llm", not {described}.'


def test_to_mapping_writes_paths_as_text():
    mapping = InstallPlan(platform=LINUX, prefix=Path("/opt/mc")).to_mapping()
    assert mapping["prefix"] == "/opt/mc" and mapping["platform"] == "Linux-x86_64"
    assert isinstance(mapping["init_shells"], list)


EXAMPLE = ("(for example --mirror tuna, or --mirror https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/, "
           "or a local folder such as /srv/miniconda)")
PORTS = "has an invalid port: ports are 1 to 65535 (for example https://mirror.example.org:8443/miniconda/)."


@pytest.mark.parametrize("mirror, text", [
    ("nosuch", f"Unknown mirror 'nosuch' (--mirror / mirror): use one of official, tuna, bfsu, ustc, aliyun, nju, a URL or "
               f"a local folder {EXAMPLE}."),
    ("file:relative/x", f"The mirror folder file:relative/x (--mirror / mirror) does not exist: no such folder (looked "
                        f"for in the current folder {Path.cwd()}); check the path {EXAMPLE}."),
    ("/nonexistent/x", f"The mirror folder /nonexistent/x (--mirror / mirror) does not exist: no such folder; check the "
                       f"path {EXAMPLE}."),
    ("http://[::1", f"The mirror URL 'http://[::1' (--mirror / mirror) cannot be read: Invalid IPv6 URL {EXAMPLE}."),
    ("file://host/x", "The mirror URL 'file://host/x' (--mirror / mirror) names another host; a file:// URL must name "
                      "a local folder, with three slashes: file:///srv/miniconda/."),
    ("ftp://x/y", f"The mirror URL 'ftp://x/y' (--mirror / mirror) uses ftp://; only http://, https:// and file:// "
                  f"(a local folder) work {EXAMPLE}."),
    ("://x", f"The mirror URL '://x' (--mirror / mirror) uses no://; only http://, https:// and file:// "
             f"(a local folder) work {EXAMPLE}."),
    ("http://a b/", f"The mirror URL 'http://a b/' (--mirror / mirror) contains a space; write it as %20 {EXAMPLE}."),
    ("http:///x", f"The mirror URL 'http:///x' (--mirror / mirror) has no host name {EXAMPLE}."),
    ("http://h:0/", f"The mirror URL 'http://h:0/' (--mirror / mirror) {PORTS}"),
    ("http://h:65536/", f"The mirror URL 'http://h:65536/' (--mirror / mirror) {PORTS}"),
    ("http://h:x/", f"The mirror URL 'http://h:x/' (--mirror / mirror) {PORTS}"),
    ("http://h:1/", None), ("http://h:2/", None), ("http://h:65535/", None), ("TUNA", None),
])
def test_mirror_problem_texts_and_port_bounds(mirror, text):
    assert mirror_problem(mirror) == text


def test_mirror_that_is_a_file(tmp_path):
    path = tmp_path / "Miniconda3-latest-Linux-x86_64.sh"
    path.write_bytes(b"#!/bin/sh\n")
    assert mirror_problem(str(path)) == (
        f"The mirror {path} (--mirror / mirror) is a file, not a folder; give the folder that holds "
        "the Miniconda installers, or use --installer-file for one installer.")


def test_plan_problem_texts():
    plan = InstallPlan(platform=LINUX, prefix="/opt/mc", installer=" ", sha256="abc", if_env_exists="ask")
    assert plan.problems() == [
        "The installer name (--installer / installer) is empty; give an installer file name from the index, for "
        "example Miniconda3-latest-Linux-x86_64.sh, or leave it out for the latest.",
        "The SHA-256 (--sha256 / sha256) must be 64 hexadecimal characters, as published next to the installer "
        f"(for example {'634d76df' * 8}), not 'abc'.",
        "The setting --if-env-exists / if_env_exists must be one of fail, reuse, replace, not 'ask'.",
    ]
    odd = InstallPlan(platform=PlatformInfo("Linux", "ppc"), prefix="/opt/mc")
    assert odd.problems() == [
        "There is no Miniconda installer for Linux ppc. Supported: Linux-x86_64, Linux-aarch64, Linux-ppc64le, "
        "Linux-s390x, MacOSX-x86_64, MacOSX-arm64, Windows-x86_64, Windows-arm64. Use --installer-file with an "
        "installer you have."]


def test_channel_url_scheme_in_upper_case():
    assert channel_problem("HTTPS://conda.anaconda.org/conda-forge") is None
    assert channel_problem("FILE:///srv/channel") is None
    assert channel_problem("FTP://x/y") is not None and channel_problem("ftp://x/y") is not None


def test_more_plan_problem_texts_and_bounds():
    plan = InstallPlan(platform=LINUX, prefix="/opt/mc", install_type="Me", create_env=False, gpu_check=True,
                       gpu_steps=4, download_dir=Path("."), log_file=Path("/tmp/a\x01b"))
    assert plan.problems() == [
        "The install type (--install-type / install_type) must be JustMe or AllUsers, not 'Me'.",
        "The GPU check (gpu_check, --gpu-check) runs in the new env: create an env, or turn the GPU check off "
        "(--no-gpu-check).",
        "The GPU-check steps (--gpu-steps / gpu_steps) must be a whole number from 5 to 100000 (for example 60), not 4.",
        "The path given as --download-dir / download_dir is empty; give one, or leave it out for the default.",
        "The path '/tmp/a\\x01b' given as --log-file / log_file contains control characters; give a plain path.",
    ]
    assert InstallPlan(platform=LINUX, prefix="/opt/mc", env_python="3").problems() == [
        "The Python version '3' (--env-python / env_python) should look like 3.11 or 3.11.9."]
    for steps in (5, 100000):
        assert InstallPlan(platform=LINUX, prefix="/opt/mc", gpu_steps=steps).problems() == []
    for steps in (100001, True):
        assert InstallPlan(platform=LINUX, prefix="/opt/mc", gpu_steps=steps).problems() == [
            "The GPU-check steps (--gpu-steps / gpu_steps) must be a whole number from 5 to 100000 (for example 60), "
            f"not {steps!r}."]
    for ok in (Path("/tmp/a b.log"), Path("/tmp/x"), None):
        assert InstallPlan(platform=LINUX, prefix="/opt/mc", log_file=ok, download_dir=ok).problems() == []


KNOWN = ("accept_tos, add_to_path, allow_unverified, channels, condarc_mirror, connections, create_env, distribution, "
         "download_dir, download_only, env_file, env_name, env_python, gpu_check, gpu_steps, if_env_exists, "
         "if_exists, init_shells, install_type, installer, installer_file, installer_stall, installer_timeout, log_file, "
         "mirror, packages, pip_index, platform, prefix, preset, register_python, require_gpu, sha256, skip_space_check, "
         "stall_timeout, torch_variant, update_existing, use_cache")
SETTINGS_FIX = "Fix the settings named above (in the answer file or on the command line), then run again."


@pytest.mark.parametrize("values, message", [
    ({"env-nmae": "x"}, f"Unknown setting 'env-nmae' (did you mean 'env_name'?). Known settings: {KNOWN}."),
    ({"zzzz": 1}, f"Unknown setting 'zzzz'. Known settings: {KNOWN}."),
    ({"env_name": 1, "gpu-steps": "x"}, "The settings are not valid:\n- env_name must be a string such as \"llm\", "
                                         "not the number 1.\n- gpu_steps must be a whole number such as 60, not the text 'x'."),
])
def test_apply_refuses_with_every_problem_and_sets_nothing(values, message):
    plan = InstallPlan(platform=LINUX)
    before = plan.to_mapping()
    with pytest.raises(UsageError) as exc:
        plan.apply({**values, "mirror": "tuna"})
    assert exc.value.message == message
    assert exc.value.fix == SETTINGS_FIX
    assert plan.to_mapping() == before


def test_apply_takes_dashes_or_underscores():
    plan = InstallPlan(platform=LINUX).apply({"env-name": "abc", "gpu_steps": 7, "if-env-exists": "reuse"})
    assert (plan.env_name, plan.gpu_steps, plan.if_env_exists) == ("abc", 7, "reuse")


@pytest.mark.parametrize("value", ["Linux-", "Plan9-x86_64", "Linux"])
def test_unknown_platform_text(value):
    with pytest.raises(UsageError) as exc:
        _coerce("platform", value)
    assert exc.value.message == (f"Unknown platform {value!r} (--platform / platform): write it like Linux-x86_64, "
                                 "MacOSX-arm64 or Windows-x86_64.")
    assert exc.value.fix == "Write it like Linux-x86_64, MacOSX-arm64 or Windows-x86_64."


def test_platform_splits_at_the_first_dash():
    assert _coerce("platform", "Windows-x86-64") == PlatformInfo("Windows", "x86-64")  # then refused as unsupported
