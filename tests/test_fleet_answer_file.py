"""Which choices the wizard saves for silent install (app/core/answer_file.py; issue 9, Fleet-ready).

The file must be one that ``--config`` reads without complaint and that gives other machines their own defaults.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import platformdirs
import pytest

from app import APP_NAME, cli
from app.core import answer_file
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo, detect

ROOT = Path(__file__).resolve().parent.parent
ENV_YML = ROOT / "tests" / "data" / "environment_yml" / "NVlabs_stylegan3__environment.yml"


def _no_flags() -> argparse.Namespace:
    return cli.build_parser().parse_args([])


def _reads_back(values: dict, tmp_path: Path) -> InstallPlan:
    """Write ``values`` with --write-config's writer, read them back as --config does (conflicts included)."""
    path = tmp_path / "fleet.toml"
    cli.write_config(values, path)
    read = cli.read_config(path)
    settled, notes = cli.settle(_no_flags(), read, path)  # raises on a contradicting pair of keys
    assert notes == []
    return cli.plan_from_values(settled)


def test_a_fresh_plan_has_no_choices():
    assert answer_file.choices(InstallPlan()) == {}


def test_paths_under_home_are_written_with_tilde_and_expand_back(tmp_path, isolated_home):
    plan = InstallPlan()
    plan.prefix = isolated_home / "tools" / "miniconda3"
    plan.download_dir = isolated_home / "Downloads"
    plan.log_file = tmp_path / "logs" / "wizard.log"  # not under home: as it is
    values = answer_file.choices(plan)
    assert values == {"download_dir": "~/Downloads", "prefix": "~/tools/miniconda3", "log_file": str(plan.log_file)}
    back = _reads_back(values, tmp_path)
    assert back.resolved_prefix == plan.prefix and Path(back.download_dir).expanduser() == plan.download_dir
    assert answer_file.tilde(str(isolated_home), isolated_home) == "~"
    assert answer_file.tilde("/opt/miniconda3", isolated_home) == "/opt/miniconda3"


def test_the_default_prefix_and_the_runs_own_log_file_are_not_saved(isolated_home):
    plan = InstallPlan()
    plan.prefix = Path(str(plan.prefix))  # as the install page writes it back
    plan.log_file = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)) / "install-20260101-120000-7.log"
    assert answer_file.choices(plan) == {}
    plan.log_file = Path("/var/log/mcw.log")  # one the admin chose (--log-file)
    assert answer_file.choices(plan) == {"log_file": "/var/log/mcw.log"}


def test_another_platform_is_saved_with_its_own_default_prefix_left_to_each_machine():
    here = detect()
    other = PlatformInfo("Windows", "x86_64") if here.os != "Windows" else PlatformInfo("Linux", "x86_64")
    plan = InstallPlan(platform=other)
    values = answer_file.choices(plan)
    assert values == {"platform": other.tag}


@pytest.mark.parametrize("name, saved", [
    ("Miniconda3-latest-Linux-x86_64.sh", False),  # "latest": each architecture gets its own
    ("Miniconda3-py311_23.5.2-0-Linux-x86_64.sh", True),  # a pinned version stays pinned
])
def test_latest_installer_is_saved_as_latest(name, saved):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    plan.installer = name
    assert ("installer" in answer_file.choices(plan)) is saved


def test_no_env_drops_every_env_setting_that_config_would_refuse_with_it(tmp_path):
    plan = InstallPlan()
    plan.env_name, plan.env_python, plan.packages, plan.channels = "team", "3.12", ("numpy",), ("conda-forge",)
    plan.preset, plan.gpu_steps, plan.accept_tos = "minimal", 30, True
    plan.create_env = False  # the user unticked "create an env" afterwards
    values = answer_file.choices(plan)
    assert values == {"create_env": False, "gpu_check": False}
    back = _reads_back(values, tmp_path)
    assert back.create_env is False and back.gpu_check is False


def test_gpu_check_off_drops_its_steps(tmp_path):
    plan = InstallPlan()
    plan.gpu_steps, plan.gpu_check = 30, False
    assert answer_file.choices(plan) == {"gpu_check": False}


def test_an_env_file_drops_what_the_file_lists(tmp_path):
    plan = InstallPlan()
    plan.packages, plan.env_python, plan.channels, plan.env_name = ("numpy",), "3.12", ("conda-forge",), "sg3"
    plan.env_file = ENV_YML
    values = answer_file.choices(plan)
    assert set(values) == {"env_file", "env_name"}
    assert _reads_back(values, tmp_path).env_file == ENV_YML


def test_a_local_installer_keeps_the_named_mirror_for_conda_and_pip(tmp_path, standin_installer):
    plan = InstallPlan()
    plan.mirror = "tuna"
    plan.installer = "Miniconda3-latest-Linux-x86_64.sh"
    plan.installer_file = standin_installer
    values = answer_file.choices(plan)
    assert "mirror" not in values and "installer" not in values
    assert values["condarc_mirror"] == "tuna" and values["pip_index"] == "https://pypi.tuna.tsinghua.edu.cn/simple"
    back = _reads_back(values, tmp_path)
    def conda_line(p):
        return next(line for line in p.summary().splitlines() if line.startswith("conda channels:"))
    assert conda_line(back) == conda_line(plan) and "TUNA" in conda_line(back)  # the same conda channels
    assert "pip packages:    --pip-index (https://pypi.tuna.tsinghua.edu.cn/simple)" in back.summary()


def test_no_saved_file_holds_a_contradicting_pair(tmp_path, standin_installer):
    """The kind: every pair --config refuses (cli._CONFLICTS), both sides set in the wizard's plan."""
    plan = InstallPlan()
    plan.mirror, plan.installer, plan.installer_file = "ustc", "Miniconda3-latest-Linux-x86_64.sh", standin_installer
    plan.packages, plan.env_python, plan.channels, plan.preset = ("numpy",), "3.12", ("conda-forge",), "minimal"
    plan.env_file, plan.gpu_steps, plan.env_name = ENV_YML, 30, "sg3"
    for create_env, gpu_check in ((True, True), (True, False), (False, True), (False, False)):
        plan.create_env, plan.gpu_check = create_env, gpu_check
        values = answer_file.choices(plan)
        pairs = [(a, b) for a, b, _ in cli._CONFLICTS if cli._in_file(values, a) and cli._in_file(values, b)]
        assert pairs == [], (create_env, gpu_check, values)
        (tmp_path / f"{create_env}-{gpu_check}").mkdir()
        _reads_back(values, tmp_path / f"{create_env}-{gpu_check}")


def test_answers_about_this_machine_are_never_saved():
    plan = InstallPlan()
    plan.if_env_exists, plan.if_exists, plan.update_existing = "replace", "update", True
    assert answer_file.choices(plan) == {}
    assert answer_file.skipped_answers(plan) == ["if_exists", "update_existing", "if_env_exists"]


def test_the_file_is_plain_toml_of_the_plans_keys(tmp_path):
    plan = InstallPlan()
    plan.mirror, plan.init_shells, plan.gpu_steps = "bfsu", ("bash", "zsh"), 40
    values = answer_file.choices(plan)
    path = tmp_path / "f.toml"
    cli.write_config(values, path)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"mirror": "bfsu", "init_shells": ["bash", "zsh"],
                                                               "gpu_steps": 40}
