"""Shared test setup: offscreen Qt, an isolated home per test, and the stand-in Miniconda served on 127.0.0.1.

Fixtures:

* ``isolated_home`` (autouse, function): a fresh ``HOME`` under ``tmp_path`` (XDG config/cache/state/data dirs
  inside it, ``ZDOTDIR`` unset, ``SHELL=/bin/bash``), every ``CONDA_*`` variable, ``CONDARC``, ``MAMBARC`` and the
  CI variables the Anaconda ToS plugin reads (``CI``, ``GITHUB_ACTIONS``, ``JENKINS_URL``, ...) removed, so a test
  never sees the developer's or the CI machine's conda setup. Returns the home path.
* ``standin_dir`` (session): a folder with the stand-in installer ``Miniconda3-latest-Linux-x86_64.sh``
  (built for this interpreter; see ``tests/support/standin.py``).
* ``standin_installer`` (session): the path of that installer.
* ``mirror_server`` (session): a running ``LocalServer`` over a mirror folder in the official repo.anaconda.com
  layout (all real conda-docs rows + the stand-in with its real size and SHA-256); base URL in
  ``mirror_server.base_url``.
* ``mirror`` (function): the same server; its recorded requests are cleared before and its faults after the test.
* ``standin_prefix`` (function): a stand-in Miniconda installed in batch mode at ``tmp_path/miniconda3``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
# The LLM presets' pip step runs for real in the stand-in env, with pip packages the test venv already has
# (no download): see tests/data/presets/offline.toml. Tests of the real presets file pass its path.
os.environ.setdefault("MINICONDA_WIZARD_PRESETS",
                      os.path.join(os.path.dirname(__file__), "data", "presets", "offline.toml"))

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.support.http_server import Fault, LocalServer  # noqa: E402,F401  (Fault re-exported for tests)
from tests.support.mirror import build_mirror  # noqa: E402
from tests.support.standin import CI_VARIABLES, DEFAULT_FILENAME, build_standin_installer, run_installer  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("ZDOTDIR", raising=False)
    monkeypatch.setenv("SHELL", "/bin/bash")
    for name in list(os.environ):
        if name.startswith("CONDA_") or name in ("CONDARC", "MAMBARC", "CONDATOS") or name in CI_VARIABLES:
            monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def standin_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("standin")
    build_standin_installer(folder, DEFAULT_FILENAME)
    return folder


@pytest.fixture(scope="session")
def standin_installer(standin_dir) -> Path:
    return standin_dir / DEFAULT_FILENAME


@pytest.fixture(scope="session")
def mirror_server(tmp_path_factory, standin_installer):
    root = build_mirror(tmp_path_factory.mktemp("mirror"), [standin_installer], layout="official")
    with LocalServer(root) as server:
        yield server


@pytest.fixture
def mirror(mirror_server):
    with mirror_server.state.lock:
        mirror_server.state.requests.clear()
    try:
        yield mirror_server
    finally:
        mirror_server.clear_faults()


@pytest.fixture
def standin_prefix(tmp_path, standin_installer) -> Path:
    prefix = tmp_path / "miniconda3"
    proc = run_installer(standin_installer, "-b", "-p", str(prefix))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return prefix
