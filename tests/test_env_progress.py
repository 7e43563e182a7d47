"""Env stages (solving, downloading, extracting, linking, pip) from process output and from conda's files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import env_progress as ep

DATA = Path(__file__).parent / "data" / "real-conda"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_conda_text_output_gives_the_stages():
    """The recorded text form of conda create names solving, downloading and the transaction (linking)."""
    tracker = ep.StageTracker()
    seen = []
    for line in (DATA / "conda-create-p-text-dependent.txt").read_text().splitlines():
        if tracker.feed(line):
            seen.append(tracker.stage)
    assert list(dict.fromkeys(seen)) == ["solving", "downloading", "linking"]


PIP_OUTPUT = """\
Collecting transformers==4.30.2
  Downloading https://files.example/packages/transformers-4.30.2-py3-none-any.whl (7.2 MB)
Progress 0 of 7200000
Progress 3600000 of 7200000
Installing collected packages: tokenizers, safetensors, transformers
Successfully installed safetensors-0.4.0 tokenizers-0.13.3 transformers-4.30.2
"""


def test_pip_lines_with_raw_progress_and_elapsed_time():
    clock = Clock()
    tracker = ep.StageTracker(clock=clock)
    texts = []
    for line in PIP_OUTPUT.splitlines():
        assert tracker.feed(line)
        clock.now += 30
        texts.append(tracker.text())
    assert texts == [
        "pip: collecting transformers==4.30.2 (30 s)",
        "pip: downloading transformers-4.30.2-py3-none-any.whl (7.2 MB) (1 min)",
        "pip: downloading transformers-4.30.2-py3-none-any.whl 0% (0 B of 6.9 MiB) (1 min 30 s)",
        "pip: downloading transformers-4.30.2-py3-none-any.whl 50% (3.4 MiB of 6.9 MiB) (2 min)",
        "pip: installing 3 packages (2 min 30 s)",
        "pip: installed 3 packages (3 min)",
    ]


def test_newer_pip_raw_progress_format():
    """pip's newer _raw_progress_bar writes '[PREFIX ]Progress CURRENT of TOTAL|? bytes'."""
    tracker = ep.StageTracker()
    tracker.feed("  Downloading torch-2.5.1-cp311-none-linux_x86_64.whl")
    assert tracker.feed("Progress 1048576 of 2097152 bytes")
    assert tracker.detail == "downloading torch-2.5.1-cp311-none-linux_x86_64.whl 50% (1.0 MiB of 2.0 MiB)"
    assert tracker.feed("Progress 1048576 of ? bytes")
    assert tracker.detail == "downloading torch-2.5.1-cp311-none-linux_x86_64.whl 1.0 MiB"
    assert not tracker.feed("Requirement already satisfied: filelock in ./lib")


@pytest.mark.parametrize("version, expected", [("24.1", "raw"), ("25.0.1", "raw"), ("24.0", "off"), ("23.2.1", "off"),
                                               (None, "off"), ("garbage", "off")])
def test_pip_progress_args(version, expected):
    assert ep.pip_progress_args(version) == ["--progress-bar", expected]


@pytest.mark.parametrize("before, now, expected", [
    (ep.DiskState(), ep.DiskState(), "solving"),
    (ep.DiskState(), ep.DiskState(archive_bytes=10), "downloading"),
    (ep.DiskState(archive_bytes=10), ep.DiskState(archive_bytes=10, extracted=1), "extracting"),
    (ep.DiskState(extracted=3), ep.DiskState(extracted=3, linked=2), "linking"),
    (ep.DiskState(linked=2), ep.DiskState(linked=2, pip_running=True), "pip"),
    (ep.DiskState(archive_bytes=10), ep.DiskState(archive_bytes=10), "solving"),  # nothing moved: stays
])
def test_stage_from_disk_changes(before, now, expected):
    assert ep.stage_from(before, now, "solving") == expected


def test_look_reads_archives_extracted_folders_and_links_but_not_the_repodata_cache(tmp_path):
    pkgs, env = tmp_path / "pkgs", tmp_path / "env"
    (pkgs / "cache").mkdir(parents=True)
    (pkgs / "cache" / "497deca9.json").write_bytes(b"x" * 5000)  # repodata: solving, not downloading
    assert ep.look(pkgs, env) == ep.DiskState()
    (pkgs / "numpy-1.26-py311_0.conda").write_bytes(b"x" * 300)
    (pkgs / "torch-2.5-0.tar.bz2.partial").write_bytes(b"x" * 200)
    (pkgs / "numpy-1.26-py311_0" / "info").mkdir(parents=True)
    (env / "conda-meta").mkdir(parents=True)
    (env / "conda-meta" / "numpy-1.26-py311_0.json").write_text("{}")
    (env / "conda-meta" / "history").write_text("")
    assert ep.look(pkgs, env) == ep.DiskState(archive_bytes=500, extracted=1, linked=1)


def test_a_pip_install_child_is_seen(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m", "pip", "install", "-r", "x"])
    try:
        assert ep.pip_child_running(os.getpid())
        assert ep.look(tmp_path / "pkgs", tmp_path / "env", os.getpid()).pip_running
    finally:
        child.kill()
        child.wait()
    assert not ep.pip_child_running(os.getpid())


def test_line_sink_logs_every_line_and_reports_stage_changes_from_a_real_child():
    """pip's lines through run_streaming (a real child printing them) become progress texts."""
    from app.core.events import CancelToken, RecordingReporter
    from app.core.system import run_streaming

    rec = RecordingReporter()
    script = "import sys; sys.stdout.write(sys.argv[1])"
    run_streaming([sys.executable, "-c", script, PIP_OUTPUT + "Requirement already satisfied: x\n"],
                  cancel=CancelToken(), on_stdout=ep.line_sink(rec))
    assert len(rec.of("log")) == 7
    texts = [p[0].text.rsplit(" (", 1)[0] for p in rec.of("progress")]
    assert texts[0] == "pip: collecting transformers==4.30.2" and texts[-1] == "pip: installed 3 packages"
    assert len(texts) == 6
