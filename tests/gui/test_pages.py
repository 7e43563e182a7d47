"""Each page on its own: what gates Next (isComplete), what it writes to the plan/state, its failure paths.

Real engine steps against the local mirror, the stand-in Miniconda and this venv's torch.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core import catalog, installer
from app.core.catalog import InstallerChoice
from app.core.conda_env import EnvResult
from app.core.events import RecordingReporter
from app.core.journal import Change
from app.core.pipeline import RunState
from app.core.platform_info import PlatformInfo
from app.gui.pages.download_page import DownloadPage
from app.core.plan import channels_use_defaults
from app.gui.pages.env_page import EnvPage, split_words
from app.gui.pages.finish_page import FinishPage
from app.gui.pages.gpu_check_page import GpuCheckPage
from app.gui.pages.install_page import InstallPage
from app.gui.pages.package_page import PackagePage
from app.gui.pages.path_page import PathPage
from tests.gui.helpers import TIMEOUT, local_plan
from tests.support.http_server import Fault, LocalServer
from tests.support.standin import DEFAULT_FILENAME


@pytest.fixture
def make_page(qtbot):
    pages = []

    def make(cls, plan, state=None, log=None):
        page = cls(plan, state if state is not None else RunState(), log)
        qtbot.addWidget(page)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


def _installed_state(prefix: Path) -> RunState:
    state = RunState()
    conda = installer.conda_executable(prefix, "Linux")
    state.install = installer.InstallResult(prefix, conda, installer.conda_version(conda))
    return state


# ---- package page ---------------------------------------------------------------------------------

def test_package_page_preselects_latest_and_resolves_it(make_page, qtbot, tmp_path, mirror):
    plan = local_plan(tmp_path, mirror.base_url)
    page = make_page(PackagePage, plan)
    assert not page.isComplete()
    page.initializePage()
    assert not page.isComplete()  # reading the index
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.state.choice.filename == DEFAULT_FILENAME
    assert page.selected_filename() == DEFAULT_FILENAME
    assert page.status.kind == "ok"
    assert page.platform_label.text() == "<b>Linux x86_64</b>"
    # every listed row is a Linux x86_64 Miniconda3 installer
    names = [page.table.topLevelItem(i).text(0) for i in range(page.table.topLevelItemCount())]
    assert all(n.startswith("Miniconda3-") and n.endswith("-Linux-x86_64.sh") for n in names)
    assert names[0] == DEFAULT_FILENAME


def test_package_page_other_row_is_resolved_before_next(make_page, qtbot, tmp_path, mirror):
    plan = local_plan(tmp_path, mirror.base_url)
    page = make_page(PackagePage, plan)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    target = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    item = page.table.findItems(target, Qt.MatchFlag.MatchExactly, 0)[0]
    page.table.setCurrentItem(item)
    assert not page.isComplete()  # the new choice is being resolved
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.state.choice.filename == target
    assert plan.installer == target
    assert page.state.choice.hash_source == "index"


def test_package_page_reads_the_index_once(make_page, qtbot, tmp_path, mirror):
    from urllib.parse import urlsplit

    def index_gets() -> int:
        path = urlsplit(mirror.base_url).path
        with mirror.state.lock:
            return sum(1 for method, p, _h in mirror.state.requests if method == "GET" and p == path)

    plan = local_plan(tmp_path, mirror.base_url)
    page = make_page(PackagePage, plan)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.state.choice.filename == DEFAULT_FILENAME
    # filling the table and resolving the preselected row: one read (a loaded machine may add an HTTP retry of
    # that same read, so the count is taken here and must not grow without a reload)
    first = index_gets()
    assert first >= 1
    item = page.table.findItems("Miniconda3-py311_23.5.2-0-Linux-x86_64.sh", Qt.MatchFlag.MatchExactly, 0)[0]
    page.table.setCurrentItem(item)
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.state.choice.hash_source == "index"
    assert index_gets() == first  # choosing another row does not read it again either
    page.load_index()  # "Reload list" does
    qtbot.waitUntil(lambda: index_gets() > first and page.isComplete(), timeout=TIMEOUT)


def test_package_page_local_file_without_known_hash_needs_consent(make_page, qtbot, tmp_path, mirror,
                                                                  standin_installer):
    plan = local_plan(tmp_path, mirror.base_url)
    page = make_page(PackagePage, plan)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    page.use_local_file(standin_installer)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.state.choice.local_path == standin_installer
    assert page.state.choice.sha256 is None  # "latest" names are never in the pinned table
    assert not page.isComplete()
    assert page.status.kind == "warning"
    assert not page.unverified_check.isHidden()
    page.unverified_check.setChecked(True)
    assert plan.allow_unverified and page.isComplete()
    assert not page.table.isEnabled()
    page.clear_local_file()
    assert plan.installer_file is None
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.state.choice.local_path is None


def test_package_page_bad_mirror_shows_error_and_fix(make_page, qtbot, tmp_path, mirror):
    plan = local_plan(tmp_path, mirror.base_url + "no-such-dir/")
    page = make_page(PackagePage, plan)
    page.initializePage()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.status.kind == "error"
    assert "404" in page.status.plain
    assert not page.isComplete()
    assert page.reload_button.isEnabled()
    # the user types the right URL: the list loads
    page.mirror_combo.setEditText(mirror.base_url)
    page.load_index()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert plan.mirror == mirror.base_url


def test_package_page_named_mirror_shows_its_url(make_page, tmp_path):
    plan = local_plan(tmp_path, "tuna")
    page = make_page(PackagePage, plan)
    assert page.mirror_combo.currentText() == "tuna"
    assert page.mirror_url_label.text() == "https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/"


# ---- download page --------------------------------------------------------------------------------

@pytest.fixture
def big_file_server(tmp_path_factory):
    """A 3 MiB installer-named file (48 chunks of 64 KiB) to throttle and cancel."""
    root = tmp_path_factory.mktemp("big")
    data = os.urandom(3 << 20)
    name = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    (root / name).write_bytes(data)
    with LocalServer(root) as server:
        yield server, name, hashlib.sha256(data).hexdigest(), len(data)


def _remote_choice(server, name, sha, size):
    return InstallerChoice(name, server.url(name), None, sha, size, "index")


def test_download_page_cancel_keeps_part_and_retry_resumes(make_page, qtbot, tmp_path, big_file_server):
    server, name, sha, size = big_file_server
    server.fault("/" + name, Fault(delay_per_chunk=0.05, times=1))
    plan = local_plan(tmp_path, server.base_url)
    state = RunState()
    state.choice = _remote_choice(server, name, sha, size)
    page = make_page(DownloadPage, plan, state)
    page.initializePage()
    assert page.is_busy() and not page.isComplete()
    assert page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: page.progress.bar.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.result.kind == "warning" and "Cancelled" in page.result.plain
    assert not page.isComplete()
    assert page.retry_button.isVisible() and page.retry_button.isEnabled()
    part = plan.download_dir / (name + ".part")
    assert 0 < part.stat().st_size < size
    # Retry resumes with a Range request and verifies the whole file
    qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert any("Range" in headers for method, path, headers in server.state.requests if method == "GET")
    assert page.result.kind == "ok" and sha in page.result.plain
    assert state.installer_path == plan.download_dir / name
    assert not part.exists()


def test_download_page_hash_mismatch_shows_error_with_fix(make_page, qtbot, tmp_path, big_file_server):
    server, name, sha, size = big_file_server
    plan = local_plan(tmp_path, server.base_url)
    state = RunState()
    state.choice = _remote_choice(server, name, "0" * 64, size)
    page = make_page(DownloadPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.result.kind == "error"
    assert page.result.plain.startswith("SHA-256 mismatch: ")
    assert sha in page.result.plain  # the actual hash is named
    assert "Try again" in page.result.plain  # and the fix
    assert not page.isComplete()
    assert page.retry_button.isVisible()


def test_download_page_done_before_is_not_redone(make_page, qtbot, tmp_path, big_file_server):
    server, name, sha, size = big_file_server
    plan = local_plan(tmp_path, server.base_url)
    state = RunState()
    state.choice = _remote_choice(server, name, sha, size)
    page = make_page(DownloadPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    page.initializePage()  # Back, then Next again
    assert not page.is_busy() and page.isComplete()


# ---- install page ---------------------------------------------------------------------------------

def test_install_page_checks_location_live(make_page, tmp_path, standin_installer):
    plan = local_plan(tmp_path, "official")
    state = RunState()
    state.installer_path = standin_installer
    page = make_page(InstallPage, plan, state)
    page.initializePage()
    assert page.check_status.kind == "ok" and page.install_button.isEnabled()
    page.prefix_edit.setText(str(tmp_path / "with space"))
    assert page.check_status.kind == "error" and "space" in page.check_status.plain
    assert not page.install_button.isEnabled()
    full = tmp_path / "full"
    full.mkdir()
    (full / "file.txt").write_text("x")
    page.prefix_edit.setText(str(full))
    assert page.check_status.kind == "error" and "not empty" in page.check_status.plain
    page.update_check.setChecked(True)  # still not a Miniconda: cannot be updated
    assert page.check_status.kind == "error" and plan.update_existing
    page.prefix_edit.setText("")
    assert page.check_status.kind == "error" and not page.install_button.isEnabled()
    page.prefix_edit.setText(str(tmp_path / "fresh"))
    page.update_check.setChecked(False)
    assert page.check_status.kind == "ok"
    assert plan.prefix == tmp_path / "fresh"
    assert not page.is_done() and page.isComplete()  # the wizard's Install button is enabled
    assert page.isCommitPage()


def test_install_page_installs_and_gates_next(make_page, qtbot, tmp_path, standin_installer):
    plan = local_plan(tmp_path, "official")
    state = RunState()
    state.installer_path = standin_installer
    log = RecordingReporter()
    page = make_page(InstallPage, plan, state, log)
    page.initializePage()
    qtbot.mouseClick(page.install_button, Qt.MouseButton.LeftButton)
    assert page.is_busy() and not page.isComplete() and not page.prefix_edit.isEnabled()
    qtbot.waitUntil(page.is_done, timeout=TIMEOUT)
    assert state.install.conda_exe.exists()
    assert page.result.kind == "ok"
    assert page.check_status.plain == ""  # the folder now holds Miniconda: no complaint
    assert not page.install_button.isEnabled()
    lines = page.log_view.lines()
    assert lines.index("installation finished.") < len(lines) - 1  # the verification comes after
    assert log.of("log")  # the file log got the lines too


def test_install_page_installer_failure_is_shown(make_page, qtbot, tmp_path):
    bad = tmp_path / "Miniconda3-latest-Linux-x86_64.sh"
    bad.write_text("echo 'ERROR: this installer is broken' >&2\nexit 3\n")
    plan = local_plan(tmp_path, "official")
    state = RunState()
    state.installer_path = bad
    page = make_page(InstallPage, plan, state)
    page.initializePage()
    page.start_install()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.result.kind == "error"
    assert "The installer stopped: this installer is broken" in page.result.plain
    assert not page.is_done() and page.isComplete()  # Install tries again
    assert page.install_button.isEnabled() and page.prefix_edit.isEnabled()  # try again


# ---- PATH page ------------------------------------------------------------------------------------

def test_path_page_applies_on_next_and_lists_changes(qtbot, make_page, tmp_path, isolated_home, standin_prefix):
    plan = local_plan(tmp_path, "official", init_shells=("zsh",))
    state = _installed_state(standin_prefix)
    page = make_page(PathPage, plan, state)
    page.initializePage()
    assert page.shell_checks["zsh"].isChecked() and not page.shell_checks["bash"].isChecked()
    page.shell_checks["bash"].setChecked(True)
    page.shell_checks["zsh"].setChecked(False)
    assert not page.validatePage()  # applying runs on a worker, not on the GUI thread
    assert not page.isComplete()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=30_000)
    assert page.validatePage()  # applied: Next now passes
    assert plan.init_shells == ("bash",)
    assert "conda initialize" in (isolated_home / ".bashrc").read_text()
    assert not (isolated_home / ".zshrc").exists()
    assert ".bashrc" in page.changes_label.text()


def test_path_page_refusal_keeps_user_on_page(qtbot, make_page, tmp_path, isolated_home, standin_prefix):
    rc = isolated_home / ".bashrc"
    rc.write_text("# >>> conda initialize >>>\nexport X=1\n")  # a block that never ends
    plan = local_plan(tmp_path, "official")
    state = _installed_state(standin_prefix)
    page = make_page(PathPage, plan, state)
    page.initializePage()
    assert not page.validatePage()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=30_000)
    assert page.status.kind == "error"
    assert page.isComplete()  # the user can fix the file and press Next again
    assert rc.read_text() == "# >>> conda initialize >>>\nexport X=1\n"


def test_path_page_windows_options(make_page, tmp_path):
    plan = local_plan(tmp_path, "official", platform=PlatformInfo("Windows", "x86_64"))
    page = make_page(PathPage, plan)
    assert set(page.shell_checks) == {"powershell", "cmd"}  # issue 11: explicit choices on Windows
    assert not page.shell_checks["cmd"].isChecked()
    assert not page.path_check.isChecked() and not page.python_check.isChecked()
    page.path_check.setChecked(True)
    page.write_plan()
    assert plan.add_to_path and not plan.register_python


# ---- env page -------------------------------------------------------------------------------------

def test_env_page_inputs_gate_create_and_next(make_page, qtbot, tmp_path):
    plan = local_plan(tmp_path, "official", accept_tos=False)
    page = make_page(EnvPage, plan)
    page.initializePage()
    qtbot.waitUntil(lambda: not page.gpu_pending(), timeout=TIMEOUT)  # the GPU probe runs off the GUI thread
    assert not page.isComplete()
    assert not page.create_button.isEnabled()  # ToS not accepted
    assert "Terms of Service" in page.check_status.plain
    page.tos_check.setChecked(True)
    assert page.create_button.isEnabled() and plan.accept_tos
    page.name_edit.setText("my env")
    assert not page.create_button.isEnabled() and page.check_status.kind == "error"
    page.name_edit.setText("work")
    page.preset_combo.setCurrentIndex(page.preset_combo.findData("llm-extra"))
    page.write_plan()
    assert plan.preset == "llm-extra" and split_words(page.packages_edit.text()) == ()  # presets are data now
    page.channels_combo.setEditText("conda-forge")
    page.write_plan()
    assert (plan.env_name, plan.channels) == ("work", ("conda-forge",))
    page.tos_check.setChecked(False)
    assert page.create_button.isEnabled()  # conda-forge alone: no Anaconda ToS needed
    page.channels_combo.setEditText("conda-forge defaults")
    assert not page.create_button.isEnabled()
    page.channels_combo.setEditText("conda-forge")
    assert not page.is_done() and page.isComplete()  # the wizard's Next reads Create env
    # no env wanted: Next at once, and no GPU check either
    page.group.setChecked(False)
    assert page.isComplete() and not page.create_button.isEnabled()
    assert plan.create_env is False and plan.gpu_check is False


def test_env_page_creates_env_then_next(make_page, qtbot, tmp_path, standin_prefix, monkeypatch):
    monkeypatch.setenv("STANDIN_CONDA_CREATE_DELAY", "2")  # conda "works" long enough for the stage watcher
    plan = local_plan(tmp_path, "official")
    state = _installed_state(standin_prefix)
    page = make_page(EnvPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(lambda: not page.gpu_pending(), timeout=TIMEOUT)
    page.packages_edit.setText("numpy")
    shown: list[str] = []  # the stage lines the progress panel showed (solving/downloading/extracting/pip + elapsed)
    handle = page.handle_progress
    page.handle_progress = lambda p: (handle(p), shown.append(page.progress.detail.text()))
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    assert page.is_busy() and not page.isComplete()
    qtbot.waitUntil(page.is_done, timeout=TIMEOUT)
    stage_line = re.compile(r"^(solving|downloading|extracting|linking|pip)\b.*\(\d+(:\d\d)? ?[smh]?\)$")
    assert shown and all(stage_line.match(t) for t in shown), shown
    assert state.env.name == "llm" and state.env.python.exists()
    assert page.result.kind == "ok"
    assert not page.create_button.isEnabled() and not page.name_edit.isEnabled()
    assert page.validatePage()


def test_env_page_shows_condas_own_message(make_page, qtbot, tmp_path, standin_prefix):
    plan = local_plan(tmp_path, "official")
    state = _installed_state(standin_prefix)
    page = make_page(EnvPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(lambda: not page.gpu_pending(), timeout=TIMEOUT)
    page.packages_edit.setText("no-such-package-xyz")
    page.start_create()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.result.kind == "error"
    assert "PackagesNotFound" in page.result.plain and "no-such-package-xyz" in page.result.plain
    assert not page.is_done() and page.isComplete() and page.create_button.isEnabled()  # Create env again


def test_uses_defaults():
    assert channels_use_defaults(())  # a new Miniconda's .condarc: channels: [defaults]
    assert not channels_use_defaults(("conda-forge",))  # passed with --override-channels
    assert channels_use_defaults(("conda-forge", "defaults"))
    assert channels_use_defaults(("https://repo.anaconda.com/pkgs/main",))


# ---- GPU check page -------------------------------------------------------------------------------

def _env_state() -> RunState:
    state = RunState()
    python = Path(sys.executable)
    state.env = EnvResult("llm", python.parent.parent, python)
    return state


@pytest.mark.slow
def test_gpu_check_page_trains_and_shows_verdict(make_page, qtbot, tmp_path):
    plan = local_plan(tmp_path, "official", gpu_steps=10)
    state = _env_state()
    page = make_page(GpuCheckPage, plan, state)
    page.initializePage()
    assert page.is_busy() and not page.isComplete()
    qtbot.waitUntil(page.isComplete, timeout=120_000)
    assert state.gpu is not None, page.verdict.plain
    assert len(page.curve.points()) == 10
    g = state.gpu
    assert page.verdict.plain == (g.verdict_text if g.gpu_works else
                                  f"{g.title}: {g.reason}" + (f"\nFix: {g.fix}" if g.fix else ""))
    assert page.verdict.kind == {"gpu_works": "ok", "cpu_only": "warning", "gpu_broken": "error"}[g.status]
    assert page.device_label.text().startswith(state.gpu.device)
    assert "steps/s" in page.speed_label.text()
    assert page.again_button.isEnabled() and not page.cancel_button.isEnabled()


@pytest.mark.slow
def test_gpu_check_page_cancel_then_run_again(make_page, qtbot, tmp_path):
    plan = local_plan(tmp_path, "official", gpu_steps=100000)
    state = _env_state()
    page = make_page(GpuCheckPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(lambda: len(page.curve.points()) >= 2, timeout=120_000)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.verdict.kind == "warning" and "Cancelled" in page.verdict.plain
    assert page.isComplete()  # the check informs; it does not block finishing
    assert state.gpu is None
    plan.gpu_steps = 5
    qtbot.mouseClick(page.again_button, Qt.MouseButton.LeftButton)
    assert page.curve.points() == []
    qtbot.waitUntil(page.isComplete, timeout=120_000)
    assert state.gpu is not None and len(page.curve.points()) == 5


def test_gpu_check_page_failure_is_red_with_fix(make_page, qtbot, tmp_path):
    plan = local_plan(tmp_path, "official", gpu_steps=10)
    state = RunState()
    state.env = EnvResult("llm", tmp_path, tmp_path / "bin" / "python")  # no Python there
    page = make_page(GpuCheckPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert page.verdict.kind == "error"
    assert state.gpu is None


# ---- finish page ----------------------------------------------------------------------------------

def test_finish_page_without_env_or_shells(make_page, tmp_path, standin_prefix):
    plan = local_plan(tmp_path, "official", init_shells=(), create_env=False, gpu_check=False)
    state = _installed_state(standin_prefix)
    page = make_page(FinishPage, plan, state)
    page.initializePage()
    summary = page.summary.text()
    assert "Env: none created." in summary and "Shell set-up: none chosen." in summary
    commands = page.commands.toPlainText()
    assert f"source {standin_prefix / 'bin' / 'activate'}" in commands
    assert "conda create -n llm" in commands
    assert str(plan.log_file) in page.log_label.text()


def test_finish_page_windows_commands(make_page, tmp_path):
    plan = local_plan(tmp_path, "official", platform=PlatformInfo("Windows", "x86_64"))
    state = RunState()
    state.env = EnvResult("llm", tmp_path, tmp_path / "python.exe")
    page = make_page(FinishPage, plan, state)
    page.initializePage()
    commands = page.commands.toPlainText()
    assert "Anaconda Prompt" in commands and "conda activate llm" in commands
    plan.add_to_path = True  # PATH alone does not make "conda activate" work in PowerShell (issue 11)
    page.initializePage()
    assert "init powershell" in page.commands.toPlainText() and "Anaconda Prompt" in page.commands.toPlainText()
    state.shell_changes = [Change(Path("profile.ps1"), None, True, "added", shell="powershell")]
    page.initializePage()
    assert page.commands.toPlainText().startswith("# Open a new PowerShell or Windows Terminal window")


def test_catalog_contract_used_by_package_page():
    """The page relies on these names of app.core.catalog."""
    for name in ("fetch_index", "choose", "pinned_sha256", "InstallerEntry"):
        assert hasattr(catalog, name)
