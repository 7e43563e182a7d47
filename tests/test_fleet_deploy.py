"""docs/deploy/: the Ansible playbook runs for real (ansible-core, local connection) against the local test mirror
and the stand-in Miniconda; the SCCM/Intune and Jamf examples name only flags and exit codes that exist.
(issue 9, Fleet-ready)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser
from app.core.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
PLAYBOOK = DEPLOY / "ansible" / "miniconda.yml"
WIZARD = Path(sys.executable).parent / "miniconda-wizard"  # the console script pip made (the -cli exe when frozen)
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _playbook(home: Path, extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA_", "ANSIBLE_")) and k != "QT_QPA_PLATFORM"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
                "SHELL": "/bin/bash", "LC_ALL": "C.UTF-8", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(home / ".ansible" / "tmp"), "ANSIBLE_RETRY_FILES_ENABLED": "0"})
    extra = {"ansible_python_interpreter": sys.executable, **extra}
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(PLAYBOOK),
                           "-e", json.dumps(extra)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=280)


def _recap(out: str) -> dict[str, int]:
    m = re.search(r"^localhost\s*:\s*(.*)$", out, re.M)
    assert m, out
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


@pytest.mark.slow
def test_ansible_playbook_installs_from_the_local_mirror_and_a_second_run_changes_nothing(tmp_path, isolated_home,
                                                                                         mirror):
    assert ANSIBLE_PLAYBOOK.exists(), "ansible-core is in the test extra: pip install -e '.[test]'"
    prefix = tmp_path / "miniconda3"
    log = tmp_path / "logs" / "mcw.log"
    extra = {"mcw_exe": str(WIZARD), "mcw_prefix": str(prefix), "mcw_log": str(log),
             "mcw_args": ["--mirror", mirror.base_url, "--no-env", "--download-dir", str(tmp_path / "dl")]}
    first = _playbook(isolated_home, extra)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert _recap(first.stdout)["changed"] == 1 and _recap(first.stdout)["failed"] == 0
    assert (prefix / "bin" / "conda").exists()
    assert subprocess.run([str(prefix / "bin" / "conda"), "--version"], capture_output=True,
                          text=True).returncode == 0
    assert "exit code 0" in log.read_text(encoding="utf-8")
    assert str(prefix) in (isolated_home / ".bashrc").read_text(encoding="utf-8")  # the shell step ran too

    second = _playbook(isolated_home, extra)  # idempotent: the creates: guard
    assert second.returncode == 0, second.stdout[-4000:]
    assert _recap(second.stdout)["changed"] == 0
    assert f"{prefix}/bin/conda exists" in second.stdout or "skipped" in second.stdout.lower()


def test_ansible_playbook_fails_with_the_wizards_exit_code_message_and_fix(tmp_path, isolated_home):
    prefix = tmp_path / "miniconda3"
    extra = {"mcw_exe": str(WIZARD), "mcw_prefix": str(prefix), "mcw_log": str(tmp_path / "mcw.log"),
             "mcw_args": ["--mirror", "nosuchmirror", "--no-env"]}
    res = _playbook(isolated_home, extra)
    assert res.returncode == 2, res.stdout[-3000:]  # ansible-playbook: a host failed
    assert "miniconda-wizard exit code 2:" in res.stdout
    assert "Unknown mirror 'nosuchmirror'" in res.stdout and "What to do:" in res.stdout
    assert not prefix.exists()


def _documented_flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", text))


@pytest.mark.parametrize("name", ["sccm-intune.md", "jamf.md", "jamf/install-miniconda.sh", "ansible/miniconda.yml",
                                  "README.md"])
def test_deploy_examples_use_only_flags_that_exist(name):
    known = {a for action in build_parser()._actions for a in action.option_strings}
    text = (DEPLOY / name).read_text(encoding="utf-8")
    unknown = {f for f in _documented_flags(text) if f not in known} - {"--version"}
    assert unknown == set(), unknown


def test_the_windows_return_code_table_maps_every_exit_code():
    """Every exit code the wizard has is mapped in the SCCM/Intune table, with the right meaning word."""
    text = (DEPLOY / "sccm-intune.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+) \| (\w+) \|", text, re.M))
    wanted = {str(code) for code in EXIT_CODES.values()} | {"0", "130"}
    assert wanted <= set(rows), wanted - set(rows)
    assert rows["0"] == "Success" and rows["2"] == "Failed" and rows["130"] == "Retry"
