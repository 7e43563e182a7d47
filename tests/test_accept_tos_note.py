"""Fix-up h-fix1 #4: ``--accept-tos`` where nothing serves Terms of Service prints a "has no effect" note (a
warning line in the dry run and the real run), as README promises for ``--distribution miniforge``."""

from __future__ import annotations

from app.core import tos
from app.core.errors import Stage
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import LocalServer
from tests.support.mirror import build_release_folder
from tests.support.standin import MINIFORGE_FILENAME, MINIFORGE_NAME, build_standin_installer
from tests.test_silent import run_cli

LINUX = PlatformInfo("Linux", "x86_64")
FORGE_NOTE = "--accept-tos has no effect: Miniforge uses conda-forge, which has no Terms of Service; nothing to accept."


def test_notes_for_each_kind_of_no_effect():
    forge = InstallPlan(platform=LINUX, prefix="/opt/mf", distribution="miniforge", accept_tos=True)
    assert tos.no_effect_note(forge) == FORGE_NOTE
    no_env = InstallPlan(platform=LINUX, prefix="/opt/mc", accept_tos=True, create_env=False)
    assert tos.no_effect_note(no_env) == ("--accept-tos has no effect: this run creates no env (--no-env), so no "
                                          "channel's Terms of Service are used.")
    forge_channels = InstallPlan(platform=LINUX, prefix="/opt/mc", accept_tos=True, channels=("conda-forge",))
    assert tos.no_effect_note(forge_channels) == ("--accept-tos has no effect: none of the env's channels serves "
                                                  "Terms of Service; nothing to accept.")
    assert tos.no_effect_note(InstallPlan(platform=LINUX, prefix="/opt/mc", accept_tos=True)) is None  # defaults
    assert tos.no_effect_note(InstallPlan(platform=LINUX, prefix="/opt/mf", distribution="miniforge")) is None


def test_check_before_install_reports_the_note():
    rec = RecordingReporter()
    tos.check_before_install(InstallPlan(platform=LINUX, prefix="/opt/mf", distribution="miniforge",
                                         accept_tos=True), reporter=rec)
    assert (Stage.PLAN, FORGE_NOTE, "warning") in rec.of("log")


def test_dry_run_and_real_run_print_the_note(tmp_path, isolated_home, mirror):
    forge = build_standin_installer(tmp_path / "forge", MINIFORGE_FILENAME, flavor=MINIFORGE_NAME)
    with LocalServer(build_release_folder(tmp_path / "rel", [forge])) as server:
        args = ("--distribution", "miniforge", "--accept-tos", "--mirror", server.base_url, "--no-shell-init",
                "--prefix", str(tmp_path / "mf"), "--log-file", str(tmp_path / "r.log"), "--no-cache")
        dry = run_cli("--dry-run", *args, home=isolated_home)
        assert dry.returncode == 0, dry.stderr
        assert f"warning: {FORGE_NOTE}" in dry.stdout.splitlines()
        real = run_cli("--silent", *args, "--no-env", home=isolated_home)
    assert real.returncode == 0, real.stdout[-2000:] + real.stderr[-2000:]
    assert ("    warning: --accept-tos has no effect: this run creates no env (--no-env), so no channel's Terms of "
            "Service are used.") in real.stdout.splitlines()
