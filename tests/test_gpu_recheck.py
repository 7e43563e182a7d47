"""Issue 6: ``--gpu-check-only`` re-checks an env made by an earlier run (``--env NAME --prefix P`` or
``--python PATH``), headless, with the same JSON events; ``--require-gpu`` -> exit 13; torch never enters the
wizard's own process."""

from __future__ import annotations

import json
import subprocess
import sys
import re
from pathlib import Path

import pytest

from app import cli
from app.core.errors import EXIT_CODES, NoWorkingGpuError


def _earlier_env(tmp_path: Path) -> Path:
    """An env as an earlier run leaves it: ``<prefix>/envs/llm/bin/python``, a Python with torch (this one)."""
    python = tmp_path / "mc" / "envs" / "llm" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    return python


@pytest.mark.slow
def test_gpu_check_only_rechecks_an_existing_env_by_name(tmp_path, capsys):
    python = _earlier_env(tmp_path)
    code = cli.main(["--gpu-check-only", "--env", "llm", "--prefix", str(tmp_path / "mc"), "--silent", "--json",
                     "--gpu-steps", "8", "--log-file", str(tmp_path / "log.txt")])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0, events[-1]
    assert [e["event"] for e in events][0] == "stage_started" and events[-1]["event"] == "finished"
    info = {e["key"]: e["value"] for e in events if e["event"] == "info"}
    assert info["hardware"]["kind"] == "none" and info["verdict"]["status"] == "cpu_only"
    assert info["sample"].startswith("It is a truth ")
    assert sum(e["event"] == "train_step" for e in events) == 8
    assert str(python) in (tmp_path / "log.txt").read_text(encoding="utf-8")
    assert events[-1]["message"].startswith("CPU only: ")


@pytest.mark.slow
def test_require_gpu_without_a_working_gpu_exits_13(tmp_path, capsys):
    python = _earlier_env(tmp_path)
    code = cli.main(["--gpu-check-only", "--python", str(python), "--silent", "--json", "--require-gpu",
                     "--gpu-steps", "6", "--log-file", str(tmp_path / "log.txt")])
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 13 == EXIT_CODES[NoWorkingGpuError.__name__]
    assert last["event"] == "failed" and last["exit_code"] == 13 and last["error"] == "NoWorkingGpuError"
    assert last["message"].startswith("No working GPU (--require-gpu): ")
    # worded for --require-gpu: never "nothing to fix" or "the CPU is right here" (fix-up round, finding 9)
    assert "right here" not in last["message"] and "Nothing to fix" not in last["fix"]
    assert "Run on a machine with a supported GPU" in last["fix"] or "Install" in last["fix"]


def test_a_missing_env_is_a_usage_error_naming_what_is_there(tmp_path, capsys):
    _earlier_env(tmp_path)
    code = cli.main(["--gpu-check-only", "--env", "nope", "--prefix", str(tmp_path / "mc"), "--silent"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"There is no env 'nope' in {tmp_path / 'mc'}" in err and "llm" in err


@pytest.mark.parametrize("argv", [["--python", "/x/bin/python"], ["--env", "llm"]])
def test_python_and_env_need_gpu_check_only(argv, capsys):
    assert cli.main([*argv, "--silent"]) == 2
    assert "is for --gpu-check-only" in capsys.readouterr().err


def test_without_silent_the_wizard_opens_on_the_gpu_page(tmp_path, monkeypatch):
    python = _earlier_env(tmp_path)
    seen = {}
    import app.gui

    def fake_run(plan, argv, state=None, start_gpu_check=False):
        seen.update(python=state.env.python, start=start_gpu_check, env=plan.env_name)
        return 0

    monkeypatch.setattr(app.gui, "run", fake_run)
    assert cli.main(["--gpu-check-only", "--python", str(python)]) == 0
    assert seen == {"python": python.absolute(), "start": True, "env": "llm"}


@pytest.mark.slow
def test_torch_never_enters_the_wizards_own_process(tmp_path):
    """A whole GPU check (detection, probe, verdict, report) and the GPU page imported: no torch module in the
    wizard's process. Run in a fresh interpreter, since this test process may hold torch from elsewhere."""
    code = (
        "import sys\n"
        "from app.core import gpu_check\n"
        "from app.core.events import CancelToken, RecordingReporter\n"
        "import app.gui.pages.gpu_check_page, app.gui.wizard\n"
        "r = gpu_check.run(sys.executable, 5, RecordingReporter(), CancelToken(), device='cpu', extras=False)\n"
        "gpu_check.report_markdown(gpu_check.report_json(r))\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_bundle_excludes_torch():
    spec = (Path(__file__).parent.parent / "build_scripts" / "miniconda-wizard.spec").read_text(encoding="utf-8")
    common = re.search(r"^COMMON_EXCLUDES = \[(.*?)\]", spec, re.M)
    assert common and '"torch"' in common.group(1)
    assert spec.count("excludes=COMMON_EXCLUDES") == 2  # the GUI and the console program
