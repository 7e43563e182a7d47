"""The env page before Create: the preset and its reason, one line per download source, the exact commands
(updated as the inputs change), the torch build chooser, environment.yml import with its problems, and the
Terms of Service box from the channels' terms; the GPU probe and the terms checks never block the GUI thread.

Real widgets offscreen, the real preset/variant/mirror tables, real files, a real HTTP server for a channel
that serves ``terms.json``. The NVIDIA GPU cannot exist here: ``nvidia-smi`` is a script answering a REAL
recorded query (tests/data/gpu/), and NVML (a driver library) is switched off behind its one function.
"""

from __future__ import annotations

import html
import shlex
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core import env_file, gpu_info, mirrors, pip_install, presets
from app.core.pipeline import RunState
from app.gui.pages.env_page import EnvPage
from app.gui.pages.package_page import PackagePage
from tests.gui.helpers import TIMEOUT, local_plan
from tests.support.http_server import LocalServer

DATA = Path(__file__).resolve().parent.parent / "data"
MALFORMED = DATA / "environment_yml" / "h2oai_h2ogpt__environment.yml"  # conda-only lines with pip markers/URLs
GOOD = DATA / "environment_yml" / "NVlabs_stylegan3__environment.yml"
SMI_440 = DATA / "gpu" / "nvidia-smi_query_gpu_csv_noheader_nounits__gpu-utils-issue-83.txt"  # driver 440.64


@pytest.fixture
def fresh_gpu_probe(monkeypatch, tmp_path):
    """The GPU is asked again in this test (the answer is cached per process), with no NVML, and ``PATH``
    holding only ``tmp_path/bin`` plus the system folders (no nvidia-smi unless the test puts one there)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setattr(gpu_info, "read_nvml", lambda: None)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    gpu_info.detected.cache_clear()
    yield bin_dir
    gpu_info.detected.cache_clear()


def _fake_nvidia_smi(folder: Path, recording: Path, gate: Path | None = None) -> None:
    """``nvidia-smi`` answering ``--query-gpu=FIELDS`` from a real recording (first line: the recorded command,
    second: its values; a field the recorded driver lacks gets nvidia-smi's refusal). With ``gate``, it waits
    until that file exists first: the test decides when the probe ends."""
    wait = f"while not os.path.exists({str(gate)!r}): time.sleep(0.02)\n" if gate else ""
    script = folder / "nvidia-smi"
    script.write_text(f"#!{sys.executable}\nimport os, sys, time\n{wait}" + textwrap.dedent(f"""\
        lines = open({str(recording)!r}, encoding="utf-8").read().splitlines()
        names = lines[0].split("--query-gpu=")[1].split()[0].split(",")
        values = dict(zip(names, [v.strip() for v in lines[1].split(", ")]))
        asked = next(a for a in sys.argv if a.startswith("--query-gpu=")).split("=", 1)[1].split(",")
        for name in asked:
            if name not in values:
                print(f'Field "{{name}}" is not a valid field to query.', file=sys.stderr)
                sys.exit(2)
        print(", ".join(values[n] for n in asked))
    """), encoding="utf-8")
    script.chmod(0o755)


@pytest.fixture
def make_env_page(qtbot):
    pages = []

    def make(plan, wait_gpu: bool = True) -> EnvPage:
        page = EnvPage(plan, RunState())
        qtbot.addWidget(page)
        page.resize(900, 700)
        page.show()
        page.initializePage()
        pages.append(page)
        if wait_gpu:
            qtbot.waitUntil(lambda: not page.gpu_pending(), timeout=TIMEOUT)
        return page

    yield make
    for page in pages:
        page.shutdown()


def _view(page: EnvPage) -> str:
    return page.plan_view.toPlainText()


def _expected_commands(plan) -> list[str]:
    choice = presets.resolve(plan)
    conda = "conda " + shlex.join(env_file.conda_args(plan) if plan.env_file else plan.conda_create_args())
    return [conda, *(step.text() for step in pip_install.steps(plan, "python", choice))]


@pytest.fixture
def lab_mirror(tmp_path, monkeypatch):
    """A named mirror "lab" (the mirror table is data: ``MINICONDA_WIZARD_MIRRORS`` adds a row) whose installer,
    conda channels and pip index live on a local server; its ``pkgs/main`` serves a ``terms.json``."""
    root = tmp_path / "lab"
    (root / "anaconda" / "pkgs" / "main").mkdir(parents=True)
    (root / "anaconda" / "pkgs" / "main" / "terms.json").write_text('{"name": "Lab terms"}')
    (root / "anaconda" / "pkgs" / "r").mkdir(parents=True)
    with LocalServer(root) as server:
        base = server.base_url.rstrip("/")
        table = tmp_path / "mirrors.toml"
        table.write_text(textwrap.dedent(f"""\
            [mirrors.lab]
            title = "LAB"
            installer = "{base}/miniconda/"
            pip_index = "{base}/pypi/simple"
            [mirrors.lab.conda]
            channels = ["defaults"]
            default_channels = ["{base}/anaconda/pkgs/main", "{base}/anaconda/pkgs/r"]
            custom_channels = {{ conda-forge = "{base}/anaconda/cloud" }}
        """), encoding="utf-8")
        monkeypatch.setenv(mirrors.TABLE_ENV, str(table))
        yield server


def test_no_gpu_shows_cpu_preset_reason_sources_and_exact_commands(make_env_page, tmp_path, qtbot, lab_mirror,
                                                                   fresh_gpu_probe):
    base = lab_mirror.base_url.rstrip("/")
    plan = local_plan(tmp_path, "lab", accept_tos=False)
    page = make_env_page(plan)
    assert page.preset_label.text().startswith("<b>LLM on the CPU</b><br>Chosen from the machine: No NVIDIA GPU "
                                               "driver was found")
    # one line per part, from the mirror table: the tuna choice reaches conda and pip too
    lines = mirrors.sources(plan).lines()
    assert [line.split(":")[0] for line in lines] == ["Installer from", "conda channels", "pip packages",
                                                      "PyTorch wheels"]
    for line in lines:
        assert f"  {line}\n" in _view(page) + "\n"
    assert f"conda channels: LAB ({base}/anaconda)" in _view(page)
    assert f"pip packages: LAB ({base}/pypi/simple)" in _view(page)
    # the exact commands, in order
    assert page.command_lines() == [
        "conda create --yes --json -n llm python=3.11 pip",
        "python -m pip install --index-url https://download.pytorch.org/whl/cpu torch",
        "python -m pip install " + " ".join(presets.load()["llm-cpu"].pip),  # tests/conftest.py's preset table
    ] == _expected_commands(plan)
    view = _view(page)
    assert view.index(page.command_lines()[0]) < view.index(page.command_lines()[1]) < view.index(
        page.command_lines()[2])
    assert page.variant_combo.isVisibleTo(page)
    # the mirror's own channels decide the Terms of Service: its pkgs/main serves terms (asked on a thread)
    qtbot.waitUntil(lambda: page.tos_box.isVisibleTo(page), timeout=TIMEOUT)
    assert f"{base}/anaconda/pkgs/main" in page.tos_check.text() and f"{base}/anaconda/pkgs/r" not in \
        page.tos_check.text()
    assert not page.create_button.isEnabled()
    page.tos_check.setChecked(True)
    # enabled once the GPU probe (a thread) has answered too; on a loaded machine that can come after the ToS
    qtbot.waitUntil(page.create_button.isEnabled, timeout=TIMEOUT)
    assert ("GET", "/anaconda/pkgs/main/terms.json") in [r[:2] for r in lab_mirror.state.requests]


def test_commands_follow_name_variant_preset_and_packages(make_env_page, tmp_path, qtbot):
    plan = local_plan(tmp_path, "official")
    page = make_env_page(plan)
    assert page.command_lines() == _expected_commands(plan)

    page.name_edit.setText("work")
    assert page.command_lines()[0].startswith("conda create --yes --json -n work python=3.11 pip")

    page.variant_combo.setCurrentIndex(page.variant_combo.findData("cu126"))
    assert plan.torch_variant == "cu126"
    assert "python -m pip install --index-url https://download.pytorch.org/whl/cu126 torch" in page.command_lines()
    assert "Chosen by you under PyTorch build: cu126 (CUDA 12.6)" in page.preset_label.text()
    assert page.command_lines() == _expected_commands(plan)
    assert page.command_lines()[1] in _view(page)

    page.preset_combo.setCurrentIndex(page.preset_combo.findData("llm-extra"))
    assert page.command_lines() == _expected_commands(plan)
    assert page.command_lines()[-1] == "python -m pip install " + " ".join(presets.load()["llm-extra"].pip)

    page.preset_combo.setCurrentIndex(page.preset_combo.findData("minimal"))  # no torch: no chooser, no pip
    assert not page.variant_combo.isVisibleTo(page) and plan.torch_variant is None
    assert page.command_lines() == _expected_commands(plan)
    assert len(page.command_lines()) == 1 and page.command_lines()[0].startswith(
        "conda create --yes --json -n work python=3.11")
    assert "python -m pip" not in _view(page)

    page.preset_combo.setCurrentIndex(page.preset_combo.findData("auto"))
    page.packages_edit.setText("numpy")  # auto with packages: custom, conda only
    assert page.preset_label.text().startswith("<b>")
    assert "packages were given" in page.preset_label.text()
    assert page.command_lines() == ["conda create --yes --json -n work python=3.11 numpy"]


def test_pytorch_channel_warning_is_shown(make_env_page, tmp_path):
    plan = local_plan(tmp_path, "official")
    page = make_env_page(plan)
    page.packages_edit.setText("pytorch-cuda=12.1")
    assert presets.PYTORCH_CHANNEL_NOTE in _view(page)
    assert page.check_status.kind == "warning" and presets.PYTORCH_CHANNEL_NOTE in page.check_status.plain


def test_gpu_probe_runs_off_the_gui_thread_then_old_driver_warning(make_env_page, tmp_path, qtbot,
                                                                  fresh_gpu_probe):
    gate = tmp_path / "let-nvidia-smi-answer"
    _fake_nvidia_smi(fresh_gpu_probe, SMI_440, gate)
    plan = local_plan(tmp_path, "official")
    page = make_env_page(plan, wait_gpu=False)  # would hang here if the probe ran on the GUI thread
    assert page.gpu_pending()
    assert "Checking the GPU" in page.preset_label.text() and "Checking the GPU" in page.check_status.plain
    assert not page.create_button.isEnabled()
    assert page.command_lines() == ["conda create --yes --json -n llm python=3.11 pip"]  # torch follows the probe
    page.name_edit.setText("typed-while-probing")  # the page answers input meanwhile
    assert page.command_lines()[0].startswith("conda create --yes --json -n typed-while-probing ")
    gate.touch()
    qtbot.waitUntil(lambda: not page.gpu_pending(), timeout=TIMEOUT)
    choice = presets.resolve(plan)
    assert "440.64" in choice.reason
    assert page.preset_label.text().endswith(html.escape(choice.reason))
    assert choice.warnings and all(w in _view(page) for w in choice.warnings)  # the driver is too old
    assert page.check_status.kind == "warning"
    assert page.command_lines() == _expected_commands(plan)


def test_import_malformed_env_file_shows_its_problems_before_anything_runs(make_env_page, tmp_path):
    plan = local_plan(tmp_path, "official")
    page = make_env_page(plan)
    page.import_env_file(MALFORMED)
    assert plan.env_file == MALFORMED and presets.resolve(plan).name == "env-file"
    assert "Chosen automatically: an environment.yml was given" in page.preset_label.text()
    problems = env_file.problems(MALFORMED, plan.env_name)
    assert len(problems) == 4 and plan.env_name == "myenv"  # the file's own name
    assert page.env_file_status.kind == "error" and "4 problem(s) in h2oai_h2ogpt__environment.yml" in \
        page.env_file_status.plain
    for problem in problems:
        assert problem in _view(page)
    assert "line 13" in _view(page) and "environment marker" in _view(page)
    assert not page.create_button.isEnabled() and page.check_status.kind == "error"
    assert page.command_lines() == [f"conda env create --yes --json -f {MALFORMED} -n myenv"]
    page.import_env_file(None)  # Clear: back to the preset and the name typed before
    assert plan.env_file is None and plan.env_name == "llm" and page.create_button.isEnabled()


def test_import_good_env_file_through_the_dialog(make_env_page, tmp_path, qtbot):
    plan = local_plan(tmp_path, "official")
    page = make_env_page(plan)

    def pick() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, pick)
            return
        dialog.selectFile(str(GOOD))
        dialog.accept()

    QTimer.singleShot(0, pick)
    page.import_button.click()
    assert plan.env_file == GOOD and plan.env_name == "stylegan3"
    assert env_file.problems(GOOD, "stylegan3") == []
    assert page.env_file_status.kind == "ok" and "No problems found" in page.env_file_status.plain
    assert page.command_lines() == [f"conda env create --yes --json -f {GOOD} -n stylegan3"]
    assert page.create_button.isEnabled()


def test_tos_box_for_defaults_only(make_env_page, tmp_path):
    plan = local_plan(tmp_path, "official", accept_tos=False)
    page = make_env_page(plan)
    assert page.tos_box.isVisibleTo(page) and not page.create_button.isEnabled()
    assert "repo.anaconda.com" in page.check_status.plain
    page.channels_combo.setEditText("conda-forge")
    assert not page.tos_box.isVisibleTo(page) and page.create_button.isEnabled()


def test_tos_box_for_a_channel_that_serves_terms_checked_in_the_background(make_env_page, tmp_path, qtbot):
    root = tmp_path / "srv"
    (root / "gated" / "noarch").mkdir(parents=True)
    (root / "gated" / "terms.json").write_text('{"name": "Local terms", "text": "..."}')
    (root / "open" / "noarch").mkdir(parents=True)
    plan = local_plan(tmp_path, "official", accept_tos=False)
    page = make_env_page(plan)
    with LocalServer(root) as server:
        gated, open_ = server.url("gated").rstrip("/"), server.url("open").rstrip("/")
        page.channels_combo.setEditText(gated)
        # the GET of terms.json runs on a thread: until it answers, Create waits and says why
        assert not page.create_button.isEnabled() and "Checking whether" in page.check_status.plain
        qtbot.waitUntil(lambda: page.tos_box.isVisibleTo(page), timeout=TIMEOUT)
        assert gated in page.tos_check.text() and not page.tos_link.isVisibleTo(page)
        assert not page.create_button.isEnabled() and gated in page.check_status.plain
        page.tos_check.setChecked(True)
        assert page.create_button.isEnabled() and plan.accept_tos
        page.tos_check.setChecked(False)
        page.channels_combo.setEditText(open_)  # serves no terms: no box once checked
        qtbot.waitUntil(lambda: page.create_button.isEnabled(), timeout=TIMEOUT)
        assert not page.tos_box.isVisibleTo(page)
        paths = [r[1] for r in server.state.requests]
    assert "/gated/terms.json" in paths and "/open/terms.json" in paths


def test_package_page_says_the_mirror_applies_to_every_part(qtbot, tmp_path):
    plan = local_plan(tmp_path, "tuna")
    page = PackagePage(plan, RunState())
    qtbot.addWidget(page)
    text = page.mirror_parts_label.text()
    assert text.startswith("This mirror choice applies to everything the run downloads:")
    for line in mirrors.sources(plan).lines()[1:]:
        assert f"\u2022 {line}" in text
    assert "pip packages: TUNA (https://pypi.tuna.tsinghua.edu.cn/simple)" in text
    page.shutdown()

    plan = local_plan(tmp_path, "https://example.org/miniconda/")  # a URL: only the installer comes from it
    page = PackagePage(plan, RunState())
    qtbot.addWidget(page)
    text = page.mirror_parts_label.text()
    assert text.startswith("A mirror URL gives only the installer; the rest of the run downloads from:")
    assert "\u2022 pip packages: PyPI (https://pypi.org/simple)" in text
    page.shutdown()


def test_wizard_start_does_not_wait_for_the_gpu_probe(qtbot, tmp_path, fresh_gpu_probe):
    """The plan summary in the log names the torch build, which probes the GPU: that runs on a thread, so the
    window is built while nvidia-smi has not answered (it waits for the test here)."""
    from app.gui.wizard import InstallerWizard, PageId  # noqa: PLC0415

    gate = tmp_path / "let-nvidia-smi-answer"
    _fake_nvidia_smi(fresh_gpu_probe, SMI_440, gate)
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")
    w = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(w)
    try:
        text = plan.log_file.read_text()
        assert "Wizard started." in text and "Plan:" not in text  # the summary waits for the probe, not the window
        env = w.page(PageId.ENV)
        env.initializePage()
        assert env.gpu_pending() and "Checking the GPU" in env.preset_label.text()
        gate.touch()
        qtbot.waitUntil(lambda: "Plan:" in plan.log_file.read_text(), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: not env.gpu_pending(), timeout=TIMEOUT)
        assert "440.64" in plan.log_file.read_text() and "440.64" in env.preset_label.text()
    finally:
        gate.touch()
        w.shutdown()
