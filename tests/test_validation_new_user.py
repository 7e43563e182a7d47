"""Bad input a new user found after issue 10's first round: each kind gets exit 2 (or the code the real run
gives) and a message that names the setting and the fix, through the real command line (:func:`app.cli.main`,
or ``python -m app`` as a child where a traceback could show). Files, folders, links and servers are real.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.core import download, plan_checks
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo, detect
from tests.support.locks import locked_folder
from tests.support.standin import DEFAULT_FILENAME

ROOT = Path(__file__).resolve().parent.parent
LINUX = PlatformInfo("Linux", "x86_64")
LONG = "a" * 300


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def child(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=120)


@pytest.fixture
def folder_mirror(tmp_path, standin_installer) -> Path:
    """A local-folder mirror: the stand-in installer and its SHA256SUMS (exact size and hash known)."""
    folder = tmp_path / "relm"
    folder.mkdir()
    shutil.copy(standin_installer, folder / DEFAULT_FILENAME)
    digest = hashlib.sha256((folder / DEFAULT_FILENAME).read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(f"{digest}  {DEFAULT_FILENAME}\n")
    return folder


def dry(capsys, tmp_path, mirror: Path, *extra: str) -> tuple[int, str, str]:
    args = ["--dry-run", "--no-env", "--mirror", str(mirror), *extra]
    if "--prefix" not in extra:
        args += ["--prefix", str(tmp_path / "mc")]
    if "--download-dir" not in extra:
        args += ["--download-dir", str(tmp_path / "dl")]
    return cli(capsys, *args)


# ---- 1. ~nosuchuser and no home ----------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--prefix", "--download-dir", "--log-file", "--installer-file", "--mirror",
                                  "--env-file", "--config", "--write-config"])
def test_tilde_of_an_unknown_user_names_the_flag(flag, capsys, tmp_path):
    no_env = [] if flag == "--env-file" else ["--no-env"]  # --env-file and --no-env contradict each other
    args = ["--dry-run", *no_env, "--prefix", str(tmp_path / "mc"), flag, "~nosuchuser/thing.sh"]
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert "~nosuchuser: there is no user nosuchuser; write the full path" in err
    assert flag in err and "Traceback" not in err


@pytest.mark.parametrize("key", ["prefix", "download_dir", "log_file", "installer_file", "mirror", "env_file"])
def test_tilde_of_an_unknown_user_in_the_answer_file_names_the_key(key, capsys, tmp_path):
    cfg = tmp_path / "fleet.toml"
    no_env = "" if key == "env_file" else "create_env = false\ngpu_check = false\n"  # env_file needs an env
    cfg.write_text(f'{key} = "~nosuchuser/x"\n{no_env}', encoding="utf-8")
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and "there is no user nosuchuser" in err and key in err


def test_tilde_of_an_unknown_user_in_a_child_has_no_traceback(tmp_path):
    res = child("--silent", "--no-env", "--prefix", "~nosuchuser/mc")
    assert res.returncode == 2 and "Traceback" not in res.stderr and "RuntimeError" not in res.stderr
    assert "there is no user nosuchuser" in res.stderr


def test_without_any_home_tilde_is_a_usage_error(monkeypatch, capsys, tmp_path):
    # A container user with no HOME and no passwd entry (env -i under an unknown uid): ~ cannot be expanded.
    import pwd

    monkeypatch.delenv("HOME", raising=False)
    for var in ("XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: (_ for _ in ()).throw(KeyError(uid)))
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", "~/mc")
    assert code == 2 and "the home folder is not known" in err and "--prefix" in err
    code, _, err = cli(capsys, "--dry-run", "--no-env")  # the default prefix, download and log folders
    assert code == 2 and "home folder" in err and "--download-dir" in err and "--log-file" in err
    assert "Traceback" not in err


# ---- 2. too-long names and OS errors while looking -------------------------------------------------------

@pytest.mark.parametrize("flag", ["--prefix", "--download-dir", "--log-file", "--installer-file"])
def test_a_name_over_255_bytes_is_a_usage_error(flag, capsys, tmp_path):
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", str(tmp_path / "mc"), flag,
                       str(tmp_path / LONG / "x.sh"))
    assert code == 2, err
    assert "a folder name longer than 255 characters" in err and flag in err and "Traceback" not in err


def test_a_path_over_path_max_is_a_usage_error(capsys, tmp_path):
    deep = "/".join(["b" * 200] * 25)
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", f"{tmp_path}/{deep}")
    assert code == 2 and "paths are limited to 4095 bytes" in err


def test_a_long_name_under_json_is_a_failed_event(capsys, tmp_path):
    code, out, _ = cli(capsys, "--dry-run", "--json", "--no-env", "--prefix", str(tmp_path / LONG))
    event = json.loads(out.strip().splitlines()[-1])
    assert code == 2 and event["event"] == "failed" and event["exit_code"] == 2 and "time" in event
    assert "longer than 255 characters" in event["message"]


def test_a_link_loop_is_named_for_each_path(capsys, tmp_path, folder_mirror):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    code, _, err = dry(capsys, tmp_path, folder_mirror, "--prefix", str(loop / "mc"))
    assert code == 6 and "point in a circle" in err and "Traceback" not in err
    code, _, err = dry(capsys, tmp_path, folder_mirror, "--download-dir", str(loop / "dl"))
    assert code == 4 and "point in a circle" in err and "--download-dir" in err
    code, _, err = dry(capsys, tmp_path, folder_mirror, "--log-file", str(loop / "run.log"))
    assert code == 2 and "point in a circle" in err
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", str(tmp_path / "mc"), "--mirror", str(loop / "m"))
    assert code == 2 and "point in a circle" in err and "--mirror" in err


# ---- 3. --write-config never overwrites --------------------------------------------------------------------

def test_write_config_refuses_an_existing_file(capsys, tmp_path):
    bashrc = tmp_path / ".bashrc"
    bashrc.write_text("alias ll='ls -l'\n")
    code, _, err = cli(capsys, "--env-name", "team", "--write-config", str(bashrc))
    assert code == 2 and f"{bashrc} exists; choose a new file name, or remove it first" in err
    assert bashrc.read_text() == "alias ll='ls -l'\n"


def test_write_config_with_dry_run_prints_and_writes_nothing(capsys, tmp_path):
    target = tmp_path / "fleet.toml"
    code, out, _ = cli(capsys, "--env-name", "team", "--dry-run", "--write-config", str(target))
    assert code == 0 and 'env_name = "team"' in out and "nothing was written" in out
    assert not target.exists()


# ---- 4. --dry-run catches what the real run fails on ------------------------------------------------------

def test_log_file_in_a_locked_folder_fails_the_dry_run_like_the_real_run(capsys, tmp_path, folder_mirror):
    logs = tmp_path / "logs"
    logs.mkdir()
    with locked_folder(logs):
        code, _, err = dry(capsys, tmp_path, folder_mirror, "--log-file", str(logs / "run.log"))
    assert code == 2, err
    assert "Cannot write the log file" in err and "not writable" in err
    assert f"the folder {logs} is not writable (read-only, locked, or not yours)." in err
    assert "(not writable (" not in err  # one bracket, not two


def test_download_dir_on_a_too_small_disk_fails_the_dry_run_with_4(capsys, tmp_path, folder_mirror, monkeypatch):
    monkeypatch.setattr(download, "free_bytes", lambda folder: 1000)  # a disk that is nearly full
    code, _, err = dry(capsys, tmp_path, folder_mirror)
    assert code == 4 and "The download needs" in err and str(tmp_path / "dl") in err
    code, out, err = dry(capsys, tmp_path, folder_mirror, "--skip-space-check")
    assert code == 0 and "Downloading anyway" in out


def test_a_dangling_link_prefix_is_refused_before_downloading(capsys, tmp_path, folder_mirror, isolated_home):
    link = tmp_path / "p"
    link.symlink_to("/nonexistent/dir")
    code, _, err = dry(capsys, tmp_path, folder_mirror, "--prefix", str(link))
    assert code == 6 and f"{link} (given as --prefix / prefix) is a link to /nonexistent/dir, which does not exist" in err
    code, _, err = cli(capsys, "--silent", "--no-env", "--no-shell-init", "--mirror", str(folder_mirror),
                       "--prefix", str(link), "--download-dir", str(tmp_path / "dl"),
                       "--log-file", str(tmp_path / "run.log"))
    assert code == 6 and "is a link to /nonexistent/dir" in err
    assert "left as it is" not in err and not (tmp_path / "dl").exists()


@pytest.mark.parametrize("sub", ["", "downloads"])
def test_download_dir_in_the_prefix_is_refused_naming_both(sub, capsys, tmp_path, folder_mirror):
    prefix = tmp_path / "mc"
    code, _, err = dry(capsys, tmp_path, folder_mirror, "--prefix", str(prefix), "--download-dir", str(prefix / sub))
    assert code == 2 and "--download-dir" in err and "--prefix" in err and "inside the install location" in err
    assert str(tmp_path / "mc-downloads") in err


def test_log_file_in_the_prefix_is_refused_naming_both(capsys, tmp_path, folder_mirror):
    prefix = tmp_path / "mc"
    code, _, err = dry(capsys, tmp_path, folder_mirror, "--prefix", str(prefix), "--log-file", str(prefix / "x.log"))
    assert code == 2 and "--log-file" in err and "--prefix" in err and "inside the install location" in err


# ---- 5. conflicts involving the answer file --------------------------------------------------------------

def test_conflicting_keys_in_one_answer_file_are_refused(capsys, tmp_path, standin_installer):
    cfg = tmp_path / "fleet.toml"
    cfg.write_text(f'installer_file = "{standin_installer}"\nmirror = "tuna"\ncreate_env = false\n')
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and "installer_file and mirror in fleet.toml cannot be used together" in err
    cfg.write_text("gpu_check = false\ngpu_steps = 10\n")
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and "gpu_check = false and gpu_steps in fleet.toml" in err


def test_a_flag_overrides_the_answer_file_key_it_contradicts_and_says_so(capsys, tmp_path, standin_installer,
                                                                         folder_mirror):
    cfg = tmp_path / "fleet.toml"
    cfg.write_text(f'installer_file = "{standin_installer}"\ncreate_env = false\ngpu_check = false\n')
    code, out, err = cli(capsys, "--dry-run", "--config", str(cfg), "--mirror", str(folder_mirror),
                         "--prefix", str(tmp_path / "mc"), "--download-dir", str(tmp_path / "dl"))
    assert code == 0, err
    note = "--mirror on the command line overrides installer_file from fleet.toml"
    assert note in out and note in err
    assert f"Mirror:          {folder_mirror.as_uri()}/" in out and "local file" not in out


def test_gpu_check_flag_overrides_create_env_false_from_the_file(capsys, tmp_path):
    cfg = tmp_path / "fleet.toml"
    cfg.write_text("create_env = false\n")
    from app.cli import build_parser, explicit_values

    notes: list[str] = []
    values = explicit_values(build_parser().parse_args(["--config", str(cfg), "--gpu-steps", "10"]), notes)
    assert "create_env" not in values and notes == ["--gpu-steps on the command line overrides create_env = false "
                                                    "from fleet.toml."]


# ---- 6. clearer messages --------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["relm", "./relm"])
def test_a_relative_mirror_folder_is_taken_from_the_current_folder(given, capsys, tmp_path, folder_mirror, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = dry(capsys, tmp_path, Path(given))
    assert code == 0, err
    assert f"Mirror:          {folder_mirror.as_uri()}/" in out


@pytest.mark.parametrize("given", ["./nosuch", "nosuch/sub"])
def test_a_missing_relative_mirror_folder_says_no_such_folder(given, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", str(tmp_path / "mc"), "--mirror", given)
    assert code == 2 and "no such folder" in err and "Unknown mirror" not in err


@pytest.mark.parametrize("codec", ["utf-16-le", "shift_jis", "gbk"])
def test_other_encodings_get_an_encoding_neutral_fix(codec, capsys, tmp_path):
    cfg = tmp_path / "fleet.toml"
    cfg.write_bytes('env_name = "x"\n# 日本語の説明文です\n'.encode(codec))
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and "UTF-8" in err and "iconv -f <its encoding> -t UTF-8" in err
    assert "LATIN1" not in err and "Latin-1" not in err


def test_latin1_is_named_only_when_it_reads_as_latin1(capsys, tmp_path):
    cfg = tmp_path / "fleet.toml"
    cfg.write_bytes('env_name = "x"\n# café für Müller\n'.encode("cp1252"))
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and "probably Latin-1/Windows-1252" in err and "iconv -f CP1252" in err


def test_a_binary_answer_file_is_not_a_text_file(capsys, tmp_path):
    cfg = tmp_path / "fleet.toml"
    cfg.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and "is not a text file" in err and "PNG" in err and "UTF-16" not in err


def test_an_inline_table_is_a_type_error_not_a_section(capsys, tmp_path):
    cfg = tmp_path / "fleet.toml"
    cfg.write_text("prefix = {a = 1}\n")
    code, _, err = cli(capsys, "--dry-run", "--config", str(cfg))
    assert code == 2 and 'prefix must be a string such as "~/miniconda3"' in err and "not a table" in err
    assert "[section]" not in err


@pytest.mark.parametrize("other", ["MacOSX-arm64", "Windows-x86_64", "Linux-ppc64le"])
def test_a_platform_this_machine_cannot_run_is_refused(other, capsys, tmp_path):
    here = detect()
    if other == here.tag:
        other = "Linux-aarch64" if here.arch != "aarch64" else "Linux-x86_64"
    prefix = "C:\\mc" if other.startswith("Windows") else str(tmp_path / "mc")
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", prefix, "--platform", other)
    assert code == 2 and f"this is {here.tag}" in err and "--platform" in err


def test_rosetta_and_windows_arm_emulation_are_allowed():
    mac_arm = PlatformInfo("MacOSX", "arm64")
    assert plan_checks.platform_problem(PlatformInfo("MacOSX", "x86_64"), mac_arm, "--platform") is None
    assert plan_checks.platform_problem(mac_arm, PlatformInfo("MacOSX", "x86_64"), "--platform") is not None
    win_arm = PlatformInfo("Windows", "arm64")
    assert plan_checks.platform_problem(PlatformInfo("Windows", "x86_64"), win_arm, "--platform") is None


@pytest.mark.parametrize("char", ["\n", "\t", "\x1b"])
def test_a_control_character_in_the_prefix_is_named_so(char, capsys, tmp_path):
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", str(tmp_path / f"a{char}b"))
    assert code == 2 and "contains a control character" in err and "contains a space" not in err


@pytest.mark.parametrize("url", ["http://h.example/?x=1", "https://h.example/miniconda/#top",
                                 "http://h.example/miniconda?"])
def test_a_mirror_url_with_a_query_or_fragment_is_refused(url, capsys, tmp_path):
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--prefix", str(tmp_path / "mc"), "--mirror", url)
    assert code == 2 and "--mirror" in err and ("query" in err or "fragment" in err)


def test_plan_level_checks_hold_without_the_command_line(tmp_path):
    plan = InstallPlan(platform=detect(), prefix=tmp_path / "mc", download_dir=tmp_path / "mc" / "dl")
    assert any("inside the install location" in p for p in plan.problems())


def test_write_config_may_name_another_machines_platform(capsys, tmp_path):
    other = "Linux-aarch64" if detect().arch != "aarch64" else "Linux-x86_64"
    target = tmp_path / "arm-fleet.toml"
    code, _, err = cli(capsys, "--platform", other, "--write-config", str(target))
    assert code == 0, err
    assert f'platform = "{other}"' in target.read_text()


def test_one_key_for_both_flags_of_a_pair_is_no_conflict(tmp_path):
    # init_shells = [] stands for --no-shell-init, init_shells = ["zsh"] for --init-shells: one key, one value.
    from app.cli import build_parser, explicit_values

    cfg = tmp_path / "fleet.toml"
    for text in ("init_shells = []\n", 'init_shells = ["zsh"]\n'):
        cfg.write_text(text)
        assert "init_shells" in explicit_values(build_parser().parse_args(["--config", str(cfg)]))


# ---- pseudo file systems (/proc, /sys, /dev): refused by their type, in the dry run and the real run ------------

def _pseudo_cases(tmp_path: Path) -> list[tuple[list[str], int, str]]:
    link = tmp_path / "kernel"
    link.symlink_to("/proc")  # found by the file system type, not by the path's spelling
    yml = ["--env-file", "/proc/version", "--accept-tos", "--no-gpu-check"]
    return [
        (["--no-env", "--prefix", "/proc/mc", "--skip-space-check"], 6, "/proc/mc (given as --prefix / prefix) is on "
                                                                        "/proc, a proc file system"),
        (["--no-env", "--prefix", str(link / "mc")], 6, "a proc file system"),
        (["--no-env", "--download-dir", "/sys/kernel/dl"], 4, "The download folder /sys/kernel/dl (given as "
                                                              "--download-dir) is on /sys, a sysfs file system"),
        (["--no-env", "--log-file", "/proc/version"], 2, "Cannot write the log file: /proc/version (given as "
                                                          "--log-file) is on /proc, a proc file system"),
        (yml, 2, "The environment file /proc/version (given as --env-file / env_file) is on /proc"),
    ]


@pytest.mark.skipif(not Path("/proc/version").exists() or not Path("/sys/kernel").is_dir(), reason="Linux /proc, /sys")
@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("mode", ["--dry-run", "--silent"])
def test_paths_on_pseudo_file_systems_are_refused_before_anything(tmp_path, folder_mirror, isolated_home, case, mode):
    args, code, words = _pseudo_cases(tmp_path)[case]
    extra = [a for a in ("--prefix", "--download-dir") if a not in args]
    defaults = {"--prefix": str(tmp_path / "mc"), "--download-dir": str(tmp_path / "dl")}
    res = child(mode, "--mirror", str(folder_mirror), *args, *(x for a in extra for x in (a, defaults[a])),
                env={"HOME": str(isolated_home), "XDG_STATE_HOME": str(isolated_home / "state")})
    assert res.returncode == code, res.stderr
    assert words in res.stderr and "not a disk" in res.stderr
    assert "Lustre" not in res.stderr and "Traceback" not in res.stderr and "Free some" not in res.stderr
    assert not (tmp_path / "dl").exists() and not (tmp_path / "mc").exists()


def test_devices_and_pipes_stay_usable_as_log_files(tmp_path):
    assert plan_checks.pseudo_fs_problem("/dev/null", "--log-file", "a log file", allow_devices=True) is None
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert plan_checks.pseudo_fs_problem(fifo, "--log-file", "a log file", allow_devices=True) is None
    assert plan_checks.pseudo_fs_problem("/sys/no/such", "--prefix", "an installation") is not None
    assert plan_checks.pseudo_fs_problem(tmp_path / "a" / "b", "--prefix", "an installation") is None


def test_the_installers_error_line_is_reported_without_its_own_error_tag(tmp_path, standin_installer, monkeypatch):
    from app.core import installer
    from app.core.errors import InstallError
    from app.core.events import CancelToken, RecordingReporter

    monkeypatch.setenv("STANDIN_INSTALL_FAIL", "ERROR: Could not create directory: '/x/mc'.")
    plan = InstallPlan(platform=detect(), prefix=tmp_path / "mc", skip_space_check=True)
    with pytest.raises(InstallError) as info:
        installer.install(plan, standin_installer, RecordingReporter(), CancelToken())
    assert info.value.message == "The installer stopped: Could not create directory: '/x/mc'."
