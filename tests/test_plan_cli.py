"""The plan object, the flags and the TOML answer file (no network, no installs)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.cli import build_parser, main, normalize_argv, plan_from_args
from app.core.errors import UsageError
from app.core.plan import MIRRORS, InstallPlan, default_prefix
from app.core.platform_info import PlatformInfo, detect

ROOT = Path(__file__).resolve().parent.parent


def plan_for(*argv: str) -> InstallPlan:
    return plan_from_args(build_parser().parse_args(normalize_argv(list(argv))))


def test_defaults_are_valid_and_llm_preset():
    plan = InstallPlan()
    assert plan.problems() == []
    assert plan.env_name == "llm" and plan.env_python == "3.11"
    assert plan.packages == () and plan.preset == "auto"
    assert plan.mirror_url == MIRRORS["official"]
    # the LLM presets: conda makes python + pip, then torch and the rest come with the env's pip (issue 8)
    assert plan.conda_create_args() == ["create", "--yes", "--json", "-n", "llm", "python=3.11", "pip"]


def test_flags_fill_the_plan(tmp_path):
    plan = plan_for("--prefix", str(tmp_path / "mc"), "--mirror", "tuna", "--env-name", "demo",
                    "--env-python", "3.12", "--packages", "numpy, transformers", "--channels", "conda-forge",
                    "--no-gpu-check", "--accept-tos", "--init-shells", "bash,zsh")
    assert plan.resolved_prefix == tmp_path / "mc"
    assert plan.mirror_url == MIRRORS["tuna"]
    assert plan.packages == ("numpy", "transformers")
    assert plan.conda_create_args()[-3:] == ["--override-channels", "-c", "conda-forge"]
    assert not plan.uses_defaults_channels and InstallPlan().uses_defaults_channels
    assert plan.gpu_check is False and plan.accept_tos is True
    assert plan.init_shells == ("bash", "zsh")


def test_answer_file_then_flags_win(tmp_path):
    cfg = tmp_path / "answers.toml"
    cfg.write_text('prefix = "%s"\nenv_name = "from-file"\npackages = ["numpy"]\ngpu_steps = 30\n'
                   % (tmp_path / "p").as_posix(), encoding="utf-8")
    plan = plan_for("--config", str(cfg), "--env-name", "from-flag")
    assert plan.env_name == "from-flag"          # flag wins
    assert plan.packages == ("numpy",)           # file value kept
    assert plan.gpu_steps == 30
    assert plan.resolved_prefix == tmp_path / "p"


def test_unknown_answer_key_is_a_usage_error(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text("prefixx = '/tmp/x'\n", encoding="utf-8")
    with pytest.raises(UsageError, match="Unknown setting 'prefixx'"):
        plan_for("--config", str(cfg))


def test_bad_toml_names_the_file(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text("prefix = \n", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid TOML"):
        plan_for("--config", str(cfg))


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"env_name": "my env"}, "env name"),
        ({"env_name": "base"}, "env name"),
        ({"env_python": "three"}, "Python version"),
        ({"prefix": "relative/dir"}, "absolute"),
        ({"prefix": "/opt/my conda"}, "space"),
        ({"prefix": "/home/张三/miniconda3"}, "non-ASCII"),
        ({"mirror": "nowhere"}, "Unknown mirror"),
        ({"sha256": "abc"}, "64 hexadecimal"),
        ({"init_shells": ["tcsh"]}, "tcsh"),
        ({"installer_file": "/does/not/exist.sh"}, "does not exist"),
    ],
)
def test_bad_choices_name_the_fix(change, needle):
    plan = InstallPlan().apply(change)
    problems = plan.problems()
    assert any(needle in p for p in problems), problems
    with pytest.raises(UsageError):
        plan.validate()


def test_windows_forbidden_characters_and_default_prefix():
    win = PlatformInfo("Windows", "x86_64")
    plan = InstallPlan(platform=win, prefix=Path("C:\\conda(new)"))
    assert any("^ % ! = , ( )" in p for p in plan.problems())
    # A Chinese user name must not become the default install location.
    assert default_prefix(win, Path("C:\\Users\\张三")) == Path("C:\\miniconda3")
    assert default_prefix(win, Path("C:\\Users\\john")) == Path("C:\\Users\\john") / "miniconda3"


def test_platform_flag_changes_default_prefix_and_summary():
    plan = plan_for("--platform", "MacOSX-arm64")
    assert plan.platform == PlatformInfo("MacOSX", "arm64")
    assert "macOS arm64" in plan.summary()
    with pytest.raises(UsageError, match="Unknown platform"):
        plan_for("--platform", "Amiga")


def test_summary_and_dry_run_print_the_same_text(tmp_path, capsys, mirror):
    argv = ["--dry-run", "--prefix", str(tmp_path / "mc"), "--env-name", "demo", "--mirror", mirror.base_url,
            "--accept-tos", "--download-dir", str(tmp_path / "dl")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert plan_for(*argv).summary() in out
    assert "Chosen installer: Miniconda3-latest-Linux-x86_64.sh" in out and "published by the index" in out
    assert "nothing was changed" in out
    assert not (tmp_path / "mc").exists() and not (tmp_path / "dl").exists()
    # the index was read, and the installer asked for its first byte only (h-fix1 #2); nothing was downloaded
    assert [r[1] for r in mirror.state.requests] == ["/", "/Miniconda3-latest-Linux-x86_64.sh"]
    assert {k.lower(): v for k, v in mirror.state.requests[1][2].items()}.get("range") == "bytes=0-0"


def test_dry_run_json_is_one_plan_event(tmp_path, capsys, mirror):
    assert main(["/S", "--dry-run", "--json", "--prefix", str(tmp_path / "mc"), "--mirror", mirror.base_url,
                 "--accept-tos"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["event"] == "plan" and event["plan"]["prefix"] == str(tmp_path / "mc")
    assert event["installer"]["filename"] == "Miniconda3-latest-Linux-x86_64.sh"
    assert event["installer"]["hash_source"] == "index" and len(event["installer"]["sha256"]) == 64
    assert event["warnings"] == [] or all(isinstance(w, str) for w in event["warnings"])


def test_invalid_plan_exits_2_with_the_fix(tmp_path, capsys):
    assert main(["--silent", "--env-name", "bad name", "--prefix", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "env name" in err and "What to do" in err


def test_unknown_flag_exits_2():
    res = subprocess.run([sys.executable, "-m", "app", "--silent", "--bogus"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert res.returncode == 2
    assert "unrecognized arguments: --bogus" in res.stderr


def test_write_config_keeps_each_machines_own_defaults(tmp_path, monkeypatch):
    out = tmp_path / "fleet.toml"
    assert main(["--write-config", str(out), "--mirror", "tuna", "--preset", "llm-extra"]) == 0
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    # only what the admin gave: no platform, prefix or shells of the admin's own machine
    assert data == {"mirror": "tuna", "preset": "llm-extra"}
    other_home = tmp_path / "other-user"
    monkeypatch.setenv("HOME", str(other_home))
    assert plan_for("--config", str(out)).resolved_prefix == other_home / "miniconda3"


def test_write_config_round_trips(tmp_path):
    out = tmp_path / "fleet.toml"
    assert main(["--write-config", str(out), "--prefix", str(tmp_path / "mc"), "--mirror", "bfsu",
                 "--env-name", "team"]) == 0
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    assert data["mirror"] == "bfsu" and data["env_name"] == "team"
    again = plan_for("--config", str(out))
    assert again.to_mapping() == plan_for("--prefix", str(tmp_path / "mc"), "--mirror", "bfsu",
                                          "--env-name", "team").to_mapping()


def test_detect_platform_cases():
    rosetta = detect("Darwin", "x86_64", {}, sysctl=lambda name: "1")
    assert (rosetta.os, rosetta.arch, rosetta.translated) == ("MacOSX", "arm64", True)
    intel_mac = detect("Darwin", "x86_64", {}, sysctl=lambda name: None)
    assert intel_mac.tag == "MacOSX-x86_64" and not intel_mac.translated
    assert detect("Darwin", "arm64", {}, sysctl=lambda n: "1").tag == "MacOSX-arm64"
    assert detect("Linux", "aarch64", {}).tag == "Linux-aarch64"
    assert detect("Linux", "arm64", {}).tag == "Linux-aarch64"
    assert detect("Linux", "ppc64le", {}).tag == "Linux-ppc64le"
    assert detect("Linux", "s390x", {}).tag == "Linux-s390x"
    wow = detect("Windows", "x86", {"PROCESSOR_ARCHITECTURE": "x86", "PROCESSOR_ARCHITEW6432": "AMD64"})
    assert wow.tag == "Windows-x86_64" and wow.translated
    assert detect("Windows", "AMD64", {"PROCESSOR_ARCHITECTURE": "AMD64"}).tag == "Windows-x86_64"
    assert not detect("Linux", "riscv64", {}).supported


def test_os_errors_become_usage_errors_not_tracebacks(tmp_path, capsys):
    assert main(["--silent", "--config", str(tmp_path)]) == 2          # a folder, not a file
    assert "cannot be read" in capsys.readouterr().err
    assert main(["--write-config", str(tmp_path / "no" / "such" / "dir" / "x.toml")]) == 2
    assert "Cannot write the answer file" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--silent", "--no-env", "--prefix", str(tmp_path / "mc"), "--log-file", str(blocker / "x.log")]) == 2
    assert "Cannot write the log file" in capsys.readouterr().err


def test_json_usage_errors_still_end_with_a_failed_event(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--silent", "--json", "--bogus"])
    assert exit_info.value.code == 2
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event["event"] == "failed" and event["exit_code"] == 2 and "--bogus" in event["message"]
    assert main(["--silent", "--json", "--config", str(tmp_path / "missing.toml")]) == 2
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event["event"] == "failed" and "does not exist" in event["message"]
