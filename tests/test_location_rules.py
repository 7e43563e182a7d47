"""Install-location rules checked at the plan, before any download (issue 11, "Location rules"): the Windows
installer's refused characters, the Desktop, the path length with long paths off, and on Unix the characters
that break conda's shell block. Each refusal proposes a safe location."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pytest

from app.core import installer, pipeline, plan_checks
from app.core.errors import PrefixError, UsageError
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan, default_prefix
from app.core.platform_info import PlatformInfo, detect

WINDOWS = PlatformInfo("Windows", "x86_64")
LINUX = PlatformInfo("Linux", "x86_64")
FACTS = plan_checks.WindowsFacts(desktop=PureWindowsPath(r"C:\Users\me\Desktop"), long_paths_enabled=False,
                                 program_data=PureWindowsPath(r"C:\ProgramData"))

ISSUE_INPUTS = [(r"C:\tools\conda#1", "#"), (r"C:\tools\a&b", "&"), (r"C:\tools\[mc]", "[ ]"),
                (r"C:\tools\mc~1", "~"), (r"C:\tools\$mc", "$"), (r"C:\Users\o'brien\miniconda3", "'")]


@pytest.mark.parametrize("prefix, shown", ISSUE_INPUTS)
def test_each_windows_input_of_the_issue_is_refused_by_the_plan(prefix, shown, monkeypatch):
    monkeypatch.setattr(plan_checks, "windows_facts", lambda: FACTS)
    plan = InstallPlan(platform=WINDOWS, prefix=Path(prefix), preset="minimal")
    problems = plan.prefix_problems()
    assert len(problems) == 1
    assert f"contains {shown}, which the Windows installer refuses" in problems[0]
    assert problems[0].endswith(r"Use C:\miniconda3 instead, or another folder without these.")
    with pytest.raises(UsageError):
        plan.validate()  # before anything: the plan is refused as a whole


@pytest.mark.parametrize("char", list("^%!=,()$&|{}[]<>~\"';?@*#`"))
def test_every_refused_windows_character(char):
    assert plan_checks.location_problems(rf"C:\tools\m{char}c", "Windows", "--prefix", None, FACTS)


def test_the_drive_colon_and_slashes_are_fine_but_another_colon_is_not():
    assert plan_checks.location_problems(r"C:\miniconda3", "Windows", "--prefix", "llm", FACTS) == []
    assert plan_checks.location_problems("D:/tools/miniconda3", "Windows", "--prefix", "llm", FACTS) == []
    assert "contains :" in plan_checks.location_problems(r"C:\tools\a:b", "Windows", "--prefix", None, FACTS)[0]


def test_the_desktop_is_refused():
    problems = plan_checks.location_problems(r"C:\Users\me\Desktop\miniconda3", "Windows", "--prefix", None, FACTS)
    assert problems == [r"The install location C:\Users\me\Desktop\miniconda3 (--prefix) is on the Desktop "
                        r"(C:\Users\me\Desktop), which the Windows installer refuses."]
    assert plan_checks.location_problems(r"C:\Users\me\Desktops", "Windows", "--prefix", None, FACTS) == []


def test_path_length_counts_the_longest_env_file_when_long_paths_are_off():
    tail = len(r"\envs\llm\Lib\site-packages" + "\\") + plan_checks.LLM_ENV_LONGEST_RELATIVE
    fits = "C:\\" + "a" * (plan_checks.WINDOWS_MAX_PATH - tail - 3)
    too_long = fits + "b"
    assert len(fits) + tail == 259
    assert plan_checks.location_problems(fits, "Windows", "--prefix", "llm", FACTS) == []
    [problem] = plan_checks.location_problems(too_long, "Windows", "--prefix", "llm", FACTS)
    assert "would have a path of 260 characters" in problem and f"at most {259 - tail} characters" in problem
    on = plan_checks.WindowsFacts(long_paths_enabled=True)
    assert plan_checks.location_problems(too_long, "Windows", "--prefix", "llm", on) == []
    assert plan_checks.location_problems(too_long, "Windows", "--prefix", None, FACTS) == []  # no env


def test_the_default_prefix_under_a_refused_home_moves_to_a_safe_folder():
    assert default_prefix(WINDOWS, home=Path(r"C:\Users\o'brien")) == Path(r"C:\miniconda3")
    assert default_prefix(WINDOWS, home=Path(r"C:\Users\ann")) == Path(r"C:\Users\ann") / "miniconda3"


def test_all_users_proposes_programdata():
    assert plan_checks.safe_location("Windows", "AllUsers", "llm", facts=FACTS) == PureWindowsPath(
        r"C:\ProgramData\miniconda3")


def test_unix_quote_in_the_prefix_is_refused_before_the_download(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    plan = InstallPlan(platform=detect(), prefix=tmp_path / "u" / "it's", preset="minimal")
    with pytest.raises(PrefixError) as err:
        pipeline.preflight(plan, RecordingReporter())
    assert "contains ', which breaks the quoting of conda's shell start-up block" in err.value.message
    assert err.value.fix == f"Choose another install location, for example {home / 'miniconda3'} " \
                            f"(--prefix {home / 'miniconda3'} in silent mode)."
    assert not (tmp_path / "u").exists()


@pytest.mark.parametrize("char", ["'", '"', "$", "`", "\\"])
def test_each_character_that_breaks_the_shell_block(char, tmp_path):
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / f"m{char}c")
    assert any("breaks the quoting" in p for p in plan.prefix_problems())
    with pytest.raises(PrefixError):
        installer.check_prefix(plan)


def test_a_refused_home_is_not_proposed(tmp_path, monkeypatch):
    home = tmp_path / "it's"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    safe = plan_checks.safe_location("Linux", current=home / "miniconda3")
    assert safe is None or "'" not in str(safe)
