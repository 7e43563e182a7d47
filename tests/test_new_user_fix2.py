"""Findings of the fresh new-user tester (fix-up round, h-fix2): location rules for fish at the plan, dry runs
that only list, contradicting GPU flags, an uninstall that keeps the user's own data, case-insensitive values,
argparse ranges, and the wording of GPU and shell messages. Each test fails on the code before the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.core import plan_checks
from app.core.errors import UsageError
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

LINUX = PlatformInfo("Linux", "x86_64")


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("ZDOTDIR", raising=False)
    return h


# ---- 1. the fish rule is checked at the plan, before any download ---------------------------------------------

@pytest.mark.parametrize("char", ["&", "#", "*"])
def test_fish_special_characters_are_refused_at_the_plan(char, tmp_path, home):
    prefix = tmp_path / f"c{char}d"
    plan = InstallPlan(platform=LINUX, prefix=prefix, init_shells=("fish",), create_env=False, gpu_check=False)
    problems = plan.prefix_problems()
    [fish] = [p for p in problems if "fish block" in p]
    assert f"contains {char}," in fish and "--init-shells bash (without fish)" in fish
    assert fish.endswith(f"Use {home / 'miniconda3'} instead, or another folder without these.")
    with pytest.raises(UsageError):
        plan.validate()


def test_fish_rule_under_auto_checks_the_shells_found(tmp_path, home, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.setenv("PATH", str(tmp_path / "nobin"))
    monkeypatch.setattr("app.core.shells.ETC_SHELLS", tmp_path / "no-etc-shells")
    prefix = tmp_path / "c&d"
    plan = InstallPlan(platform=LINUX, prefix=prefix, init_shells=("auto",), create_env=False, gpu_check=False)
    assert not [p for p in plan.prefix_problems() if "fish" in p]  # no fish here: nothing to refuse
    cfg = home / ".config" / "fish" / "config.fish"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("set -x A 1\n")
    [fish] = [p for p in plan.prefix_problems() if "fish block" in p]
    assert "auto found fish" in fish and "--init-shells bash (without fish)" in fish


def test_fish_rule_ignores_a_plan_without_fish_and_windows(tmp_path, home):
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "c&d", init_shells=("bash",), create_env=False,
                       gpu_check=False)
    assert plan_checks.fish_location_problem(plan) is None


def test_fish_prefix_is_refused_by_a_dry_run_with_exit_2(tmp_path, home, capsys):
    code, out, err = cli(capsys, "--silent", "--dry-run", "--prefix", str(tmp_path / "u4" / "c&d"),
                         "--init-shells", "fish", "--no-env")
    assert code == 2, out + err
    assert "conda's fish block" in err


# ---- 2. --undo-shell-changes --dry-run only lists --------------------------------------------------------------

def test_undo_shell_changes_dry_run_changes_nothing(tmp_path, home, capsys, monkeypatch):
    from app.core import shell_setup
    from app.core.events import RecordingReporter
    from app.core.journal import default_journal_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (home / ".bashrc").write_text("mine\n")
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc", init_shells=("bash",), create_env=False,
                       gpu_check=False)
    shell_setup.apply(plan, tmp_path / "mc", RecordingReporter(), home=home)
    edited = (home / ".bashrc").read_bytes()
    assert b"conda initialize" in edited and default_journal_path().exists()
    code, out, err = cli(capsys, "--undo-shell-changes", "--dry-run")
    assert code == 0, out + err
    assert (home / ".bashrc").read_bytes() == edited
    assert "would be restored from the backup" in out and "Dry run: nothing was changed" in out
    assert "Undone" not in out
    code, out, err = cli(capsys, "--undo-shell-changes")
    assert code == 0 and (home / ".bashrc").read_text() == "mine\n"


# ---- 3. --require-gpu with --no-gpu-check / --no-env is refused -----------------------------------------------

@pytest.mark.parametrize("other", ["--no-gpu-check", "--no-env"])
def test_require_gpu_with_no_gpu_check_or_no_env_flags_is_refused(other, tmp_path, home, capsys):
    code, out, err = cli(capsys, "--silent", "--dry-run", "--prefix", str(tmp_path / "mc"), "--require-gpu", other)
    assert code == 2, out + err
    assert f"{other} and --require-gpu cannot be used together" in err


@pytest.mark.parametrize("line", ["gpu_check = false", "create_env = false"])
def test_require_gpu_against_its_pair_in_an_answer_file_is_refused(line, tmp_path, home, capsys):
    cfg = tmp_path / "a.toml"
    cfg.write_text(f'require_gpu = true\n{line}\nprefix = "{tmp_path / "mc"}"\n')
    code, out, err = cli(capsys, "--silent", "--dry-run", "--config", str(cfg))
    assert code == 2, out + err
    assert "require_gpu" in err and "cannot be used together" in err


def test_require_gpu_false_in_a_file_is_no_conflict(tmp_path, home, capsys):
    cfg = tmp_path / "a.toml"
    cfg.write_text(f'require_gpu = false\ncreate_env = false\ngpu_check = false\nprefix = "{tmp_path / "mc"}"\n')
    code, out, err = cli(capsys, "--dry-run", "--config", str(cfg), "--write-config", str(tmp_path / "b.toml"))
    assert code == 0, out + err
    assert "require_gpu = false" in out


def test_the_plan_refuses_require_gpu_without_the_check(tmp_path):
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc", require_gpu=True, gpu_check=False)
    assert any("--require-gpu / require_gpu needs the GPU check, but the GPU check is off" in p
               for p in plan.problems())


# ---- 4. and 5. --uninstall keeps the user's own data and what existed before -----------------------------------

def _our_prefix(tmp_path: Path, entries: list[str] | None = ("bin", "conda-meta", "lib", "pkgs")) -> Path:
    from app.core import manifest

    prefix = tmp_path / "mc"
    for name in ("bin", "conda-meta", "lib", "pkgs", "envs"):
        (prefix / name).mkdir(parents=True)
    (prefix / "bin" / "conda").write_text("#!/bin/sh\n")
    (prefix / "conda-meta" / "python-3.13.json").write_text('{"files": ["bin/python3", "lib/libpython3.13.so", "share/man/x.1"]}')
    (prefix / "share").mkdir()
    (prefix / "envs" / "llm").mkdir()
    m = manifest.Manifest(str(prefix), made_by_us=True, prefix_entries=list(entries) if entries else None)
    m.add_env("llm", prefix / "envs" / "llm")
    manifest.save(m)
    return prefix


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("recorded", [True, False])
def test_uninstall_keeps_a_user_env_and_files_in_the_prefix(recorded, tmp_path, home, state, capsys):
    prefix = _our_prefix(tmp_path, None if not recorded else ["bin", "conda-meta", "lib", "pkgs", "share"])
    (prefix / "envs" / "myproj" / "conda-meta").mkdir(parents=True)
    (prefix / "work").mkdir()
    (prefix / "work" / "notes.txt").write_text("my notes\n")
    code, out, err = cli(capsys, "--uninstall", "--dry-run", "--prefix", str(prefix))
    assert code == 0, out + err
    assert f"Would keep your env myproj ({prefix / 'envs' / 'myproj'})" in out
    assert f"Would keep your folder {prefix / 'work'}" in out and "--remove-user-data" in out
    assert "share" not in out  # a package's folder (conda-meta lists it) is the installer's
    code, out, err = cli(capsys, "--uninstall", "--silent", "--yes", "--prefix", str(prefix))
    assert code == 0, out + err
    assert (prefix / "work" / "notes.txt").read_text() == "my notes\n"
    assert (prefix / "envs" / "myproj" / "conda-meta").is_dir()
    assert sorted(p.name for p in prefix.iterdir()) == ["envs", "work"]
    assert [p.name for p in (prefix / "envs").iterdir()] == ["myproj"]  # the wizard's env llm is gone


def test_uninstall_with_remove_user_data_removes_everything(tmp_path, home, state, capsys):
    prefix = _our_prefix(tmp_path)
    (prefix / "notes.txt").write_text("x")
    code, out, err = cli(capsys, "--uninstall", "--dry-run", "--remove-user-data", "--prefix", str(prefix))
    assert code == 0 and f"Would remove your file {prefix / 'notes.txt'} too (--remove-user-data)" in out
    code, out, err = cli(capsys, "--uninstall", "--silent", "--yes", "--remove-user-data", "--prefix", str(prefix))
    assert code == 0, out + err
    assert not prefix.exists()


def test_remove_user_data_needs_uninstall(capsys):
    code, out, err = cli(capsys, "--silent", "--dry-run", "--remove-user-data")
    assert code == 2 and "--remove-user-data is for --uninstall" in err


def test_an_empty_conda_folder_that_existed_before_is_kept(tmp_path, home, state):
    from app.core import manifest, uninstall

    (home / ".conda").mkdir()
    before = manifest.snapshot_dir(home / ".conda")
    assert before == {".": "dir"}
    prefix = tmp_path / "mc"
    (prefix / "conda-meta").mkdir(parents=True)
    m = manifest.Manifest(str(prefix), made_by_us=False,
                          conda_user_dir={"path": str(home / ".conda"), "existed": bool(before),
                                          "files_before": before, "files_made": {}})
    manifest.save(m)
    result = uninstall.run(prefix)
    assert (home / ".conda").is_dir()
    assert not any(".conda" in line for line in result.lines)


# ---- 10. an empty --init-shells is refused; a skipped shell says why ------------------------------------------

@pytest.mark.parametrize("argv", [["--init-shells", ""], ["--init-shells", " , "]])
def test_empty_init_shells_is_refused(argv, tmp_path, capsys):
    code, out, err = cli(capsys, "--silent", "--dry-run", "--prefix", str(tmp_path / "mc"), "--no-env", *argv)
    assert code == 2, out + err
    assert "is empty; write --init-shells none" in err


def test_empty_init_shells_in_an_answer_file_is_refused(tmp_path, capsys):
    cfg = tmp_path / "a.toml"
    cfg.write_text('init_shells = ""\n')
    code, out, err = cli(capsys, "--silent", "--dry-run", "--config", str(cfg))
    assert code == 2 and "is empty; write --init-shells none" in err


def test_powershell_on_linux_says_why_in_the_summary_and_the_step(tmp_path, home):
    from app.core import shell_setup
    from app.core.events import RecordingReporter

    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc", init_shells=("powershell",), create_env=False,
                       gpu_check=False)
    summary = plan.summary()
    assert "conda init:      none (each named shell is not set up here; see the reason below)" in summary
    assert "not set up: powershell: powershell is set up on Windows only" in summary
    changes = shell_setup.apply(plan, tmp_path / "mc", RecordingReporter(), home=home)
    text = shell_setup.summarize(changes)
    assert "see the warning" not in text
    assert "not set up: powershell (powershell is set up on Windows only" in text


# ---- 11. enumerated values in any case -----------------------------------------------------------------------

@pytest.mark.parametrize("flag, given, key, canonical", [
    ("--init-shells", "BASH,Zsh", "init_shells", ("bash", "zsh")),
    ("--if-exists", "REUSE", "if_exists", "reuse"),
    ("--if-env-exists", "Replace", "if_env_exists", "replace"),
    ("--install-type", "allusers", "install_type", "AllUsers"),
    ("--preset", "MINIMAL", "preset", "minimal"),
])
def test_enumerated_flags_and_keys_in_any_case(flag, given, key, canonical, tmp_path):
    from app.cli import build_parser, plan_from_args

    plan = plan_from_args(build_parser().parse_args([flag, given, "--prefix", str(tmp_path / "mc")]))
    assert getattr(plan, key) == canonical
    value = given.split(",") if key == "init_shells" else given
    assert getattr(InstallPlan().apply({key: value}), key) == canonical


# ---- 12. a number flag that is not a number names its range and an example --------------------------------------

@pytest.mark.parametrize("flag, value, shown", [
    ("--connections", "x", "'x' is not a whole number: give a whole number from 1 to 16, for example 8"),
    ("--gpu-steps", "1.5", "'1.5' is not a whole number: give a whole number from 5 to 100000, for example 60"),
    ("--installer-timeout", "", "'' is not a whole number: give a whole number from 1 to 86400, for example 1800"),
    ("--installer-stall", "5m", "from 1 to 86400, for example 300"),
    ("--stall-timeout", "abc", "'abc' is not a number: give a number from 1 to 3600, for example 30"),
])
def test_number_flags_name_their_range(flag, value, shown, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--silent", "--dry-run", flag, value])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert shown in err and "invalid int value" not in err


# ---- 9. --require-gpu on a machine without a GPU is worded for the failure -----------------------------------

def test_require_gpu_texts_on_a_cpu_machine():
    from app.core.gpu_check import GpuCheckResult, require_gpu_texts

    g = GpuCheckResult(device="cpu", device_name="AMD EPYC", torch_version="2.9.0+cpu", steps=6, loss_first=4.0,
                       loss_last=3.0, steps_per_second=1.0, samples_per_second=32.0, fallback_reason=None, ok=True,
                       verdict_text="CPU only: training runs on the CPU, which is right here.", status="cpu_only",
                       reason="The env's PyTorch is a CPU-only build, and no NVIDIA GPU or driver was found on this "
                              "machine: training runs on the CPU, which is right here.",
                       fix="Nothing to fix for this machine. If you add an NVIDIA GPU, ...", diagnosis="cpu_build",
                       hardware={"kind": "none"})
    message, fix = require_gpu_texts(g)
    assert message == ("No working GPU (--require-gpu): this machine has no usable GPU, so training ran on the CPU "
                       "(AMD EPYC).")
    assert "Nothing to fix" not in fix and fix.startswith("Run on a machine with a supported GPU")


# ---- 6. / and the home folder as the install location; a non-empty folder gets a concrete suggestion ----------

@pytest.mark.parametrize("which, shown", [("root", "the root folder of the disk"), ("home", "your home folder"),
                                          ("above", "a folder that holds your home folder")])
def test_root_and_home_as_prefix_say_so_and_propose_a_location(which, shown, tmp_path, home):
    prefix = {"root": Path("/"), "home": home, "above": tmp_path}[which]
    plan = InstallPlan(platform=LINUX, prefix=prefix, create_env=False, gpu_check=False, init_shells=("bash",))
    problems = plan.problems()
    assert not any("-downloads" in p for p in problems)  # not the download-folder complaint
    [broad] = [p for p in problems if "not empty" in p]
    assert f"is {shown}, which is not empty" in broad
    assert f"Use {home / 'miniconda3'} instead (--prefix {home / 'miniconda3'})" in broad


def test_a_non_empty_folder_gets_a_new_folder_inside_it(tmp_path, home):
    folder = tmp_path / "scratch"
    folder.mkdir()
    (folder / "x").write_text("x")
    assert plan_checks.new_folder_suggestion(folder, "Linux") == str(folder / "miniconda3")
    (folder / "miniconda3").mkdir()
    assert plan_checks.new_folder_suggestion(folder, "Linux") == str(home / "miniconda3")


# ---- 8. --gpu-check-only --python FOLDER says it is a folder -------------------------------------------------

def test_gpu_check_only_python_folder_says_it_is_a_folder(tmp_path, capsys):
    code, out, err = cli(capsys, "--gpu-check-only", "--python", str(tmp_path), "--silent")
    assert code == 2
    assert f"--python {tmp_path}: this is a folder; --python expects the env's python program." in err
    assert "no such file" not in err
