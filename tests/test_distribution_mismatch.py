"""Fix-up h-fix1 #3: an installer of the other distribution is refused before anything runs (exit 2), by its file
name (``--installer`` / ``--installer-file``, every name of the family: Miniconda3, Anaconda3, Miniforge3,
Mambaforge) and, for a renamed local ``.sh``, by the ``NAME`` in its constructor header."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core import catalog, distributions
from app.core.errors import UsageError
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.standin import DEFAULT_FILENAME, MINIFORGE_FILENAME, MINIFORGE_NAME, build_standin_installer
from tests.test_silent import events, run_cli

LINUX = PlatformInfo("Linux", "x86_64")


@pytest.fixture(scope="module")
def forge_installer(tmp_path_factory) -> Path:
    return build_standin_installer(tmp_path_factory.mktemp("forge"), MINIFORGE_FILENAME, flavor=MINIFORGE_NAME)


@pytest.mark.parametrize("dist, name, other", [
    ("miniforge", "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh", "Miniconda"),
    ("miniforge", "Miniconda3-latest-Windows-x86_64.exe", "Miniconda"),
    ("miniforge", "Anaconda3-2024.10-1-Linux-x86_64.sh", "Miniconda"),
    ("miniforge", "miniconda3-latest-linux-x86_64.sh", "Miniconda"),
    ("miniconda", "Miniforge3-Linux-x86_64.sh", "Miniforge"),
    ("miniconda", "Miniforge3-24.7.1-0-MacOSX-arm64.pkg", "Miniforge"),
    ("miniconda", "Mambaforge-Linux-x86_64.sh", "Miniforge"),
    ("miniconda", "Miniforge-pypy3-Linux-x86_64.sh", "Miniforge"),
])
def test_names_of_the_other_distribution_are_refused(dist, name, other):
    found = distributions.mismatch(dist, name, None, LINUX)
    assert found is not None
    mine = distributions.get(dist)
    assert found[0] == (f"{name} is a {other} installer, but this run installs {mine.title} (--distribution / "
                        f"distribution {dist}): it would install {other} (channels: "
                        f"{', '.join(distributions.get(other).channels)}) where {mine.title} is expected. "
                        "Nothing was run.")
    assert found[1].startswith(f"Use a {mine.title} installer ({mine.default_filename(LINUX)}, from ")
    assert f"--distribution {other.lower()}" in found[1]


@pytest.mark.parametrize("dist, name", [("miniconda", "Miniconda3-latest-Linux-x86_64.sh"),
                                        ("miniconda", "Anaconda3-2024.10-1-Linux-x86_64.sh"),
                                        ("miniforge", "Miniforge3-Linux-x86_64.sh"),
                                        ("miniforge", "Mambaforge-Linux-x86_64.sh"),
                                        ("miniforge", "installer.sh"), ("miniconda", "installer.sh")])
def test_own_and_unknown_names_pass(dist, name):
    assert distributions.mismatch(dist, name) is None


def test_a_renamed_installer_is_known_by_its_header(tmp_path, standin_installer, forge_installer):
    conda_copy = tmp_path / "installer.sh"
    shutil.copy(standin_installer, conda_copy)
    found = distributions.mismatch("miniforge", conda_copy.name, conda_copy, LINUX)
    assert found is not None and found[0].startswith(
        "installer.sh (its header says NAME: Miniconda3) is a Miniconda installer, but this run installs Miniforge")
    forge_copy = tmp_path / "forge.sh"
    shutil.copy(forge_installer, forge_copy)
    assert distributions.mismatch("miniconda", forge_copy.name, forge_copy, LINUX)[0].startswith(
        "forge.sh (its header says NAME: Miniforge3) is a Miniforge installer")
    assert distributions.mismatch("miniforge", forge_copy.name, forge_copy, LINUX) is None


def test_resolve_refuses_before_reading_anything(tmp_path, standin_installer):
    plan = InstallPlan(platform=LINUX, distribution="miniforge", installer="Miniconda3-latest-Linux-x86_64.sh",
                       mirror="http://127.0.0.1:9/nothing/")  # nothing listens: reading it would fail otherwise
    with pytest.raises(UsageError) as err:
        catalog.resolve(plan, None, RecordingReporter(), CancelToken())
    assert err.value.exit_code == 2 and "is a Miniconda installer" in err.value.message


@pytest.mark.parametrize("flag", ["--installer-file", "--installer"])
def test_silent_miniforge_with_a_miniconda_installer_exits_2_and_installs_nothing(tmp_path, isolated_home,
                                                                                   standin_installer, flag):
    value = str(standin_installer) if flag == "--installer-file" else DEFAULT_FILENAME
    for mode in ("--silent", "--dry-run"):
        res = run_cli(mode, "--json", "--distribution", "miniforge", flag, value, "--no-env", "--no-shell-init",
                      "--prefix", str(tmp_path / "miniforge3"), "--log-file", str(tmp_path / "r.log"),
                      home=isolated_home)
        assert res.returncode == 2, (mode, res.stdout[-2000:], res.stderr[-2000:])
        failed = events(res.stdout)[-1]
        assert failed["event"] == "failed" and failed["error"] == "UsageError"
        assert failed["message"].startswith(f"{DEFAULT_FILENAME} is a Miniconda installer, but this run installs "
                                            "Miniforge")
        assert "--distribution miniconda" in failed["fix"]
    assert not (tmp_path / "miniforge3").exists()
