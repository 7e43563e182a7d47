"""The stand-in Miniconda installer, its conda and the mirror index, run as real subprocesses and served for real.

The stand-in is only useful if it answers like the real programs, so most checks compare with recorded real
outputs in ``tests/data`` (conda 26.7.2.dev56 recordings, the constructor header's messages, the ToS error text).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.mirror import build_mirror, real_rows, sha256_file
from tests.support.standin import CONDA_VERSION, read_calls, run_installer

DATA = Path(__file__).parent / "data"
REAL = DATA / "real-conda"


def conda(prefix: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed stand-in conda through pipes, as the product does."""
    env = dict(os.environ, PYTHONUTF8="1", **extra_env)
    return subprocess.run([str(prefix / "bin" / "conda"), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


# ---- installer ---------------------------------------------------------------------------------------------------

def test_batch_install_lays_out_prefix_like_miniconda(tmp_path, standin_installer, isolated_home):
    prefix = tmp_path / "miniconda3"
    proc = run_installer(standin_installer, "-b", "-p", str(prefix))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"PREFIX={prefix}"
    assert "Unpacking payload..." in lines and "Installing base environment..." in lines
    assert lines[-1] == "installation finished."
    for rel in ("bin/conda", "condabin/conda"):
        assert os.access(prefix / rel, os.X_OK), rel
        assert (prefix / rel).read_text().startswith(f"#!{sys.executable}\n")
    assert (prefix / "bin" / "python").is_symlink()
    assert os.readlink(prefix / "bin" / "python") == sys.executable
    assert (prefix / "conda-meta" / "history").read_text().startswith("==> ")
    assert (prefix / "envs").is_dir() and (prefix / "pkgs").is_dir()
    assert (prefix / ".condarc").read_text() == "channels:\n  - defaults\n\n"
    assert (prefix / ".nonadmin").exists() == (os.getuid() != 0)
    assert (isolated_home / ".conda").is_dir()


def test_existing_prefix_is_refused_with_the_real_message(standin_prefix, standin_installer):
    proc = run_installer(standin_installer, "-b", "-p", str(standin_prefix))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"ERROR: File or directory already exists: '{standin_prefix}'\n"
        "If you want to update an existing installation, use the -u option.\n"
    )


@pytest.mark.parametrize("flag", ["-u", "-f"])
def test_update_or_force_installs_over_an_existing_prefix(standin_prefix, standin_installer, flag):
    keep = standin_prefix / "envs" / "mine" / "conda-meta"
    keep.mkdir(parents=True)
    (standin_prefix / ".condarc").write_text("channels:\n  - conda-forge\n")
    proc = run_installer(standin_installer, "-b", flag, "-p", str(standin_prefix))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "installation finished."
    assert keep.is_dir()  # envs survive an update
    assert (standin_prefix / ".condarc").read_text() == "channels:\n  - defaults\n\n"  # overwritten, as the real one
    assert (standin_prefix / "conda-meta" / "history").read_text().count("==> ") == 2


def test_help_prints_usage_and_exits_2(standin_installer):
    proc = run_installer(standin_installer, "-h")
    assert proc.returncode == 2
    assert f"usage: {standin_installer} [options]" in proc.stdout
    assert "-u           update an existing installation\n" in proc.stdout
    assert "-p PREFIX    install prefix, defaults to" in proc.stdout


def test_unknown_option_and_spaces_are_refused(tmp_path, standin_installer):
    proc = run_installer(standin_installer, "-b", "-Z", "-p", str(tmp_path / "x"))
    assert proc.returncode == 1 and "ERROR: did not recognize option" in proc.stdout
    proc = run_installer(standin_installer, "-b", "-p", str(tmp_path / "with space"))
    assert proc.returncode == 1
    assert proc.stderr.endswith("ERROR: Cannot install into directories with spaces\n")
    assert not (tmp_path / "with space").exists()


def test_interactive_mode_with_closed_stdin_stops_at_the_licence(tmp_path, standin_installer):
    prefix = tmp_path / "miniconda3"
    proc = run_installer(standin_installer, "-p", str(prefix))
    assert proc.returncode == 1
    assert proc.stdout.endswith("Please, press ENTER to continue\n>>> ")
    assert not prefix.exists()


def test_interactive_mode_with_answers_installs(tmp_path, standin_installer):
    prefix = tmp_path / "miniconda3"
    proc = run_installer(standin_installer, "-p", str(prefix), stdin="\nyes\n\nno\n")
    assert proc.returncode == 0, proc.stderr
    assert "Do you accept the license terms? [yes|no]" in proc.stdout
    assert "Thank you for installing Miniconda3!" in proc.stdout
    assert (prefix / "bin" / "conda").exists()


# ---- conda -------------------------------------------------------------------------------------------------------

def test_conda_version_matches_the_recording(standin_prefix):
    proc = conda(standin_prefix, "--version")
    assert proc.returncode == 0
    assert proc.stdout == (REAL / "conda--version.txt").read_text() == f"conda {CONDA_VERSION}\n"
    assert (standin_prefix / "condabin" / "conda").exists()


def test_info_json_has_the_real_keys_and_paths(standin_prefix, isolated_home):
    proc = conda(standin_prefix, "info", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    info = json.loads(proc.stdout)
    real = json.loads((REAL / "conda-info--json.json").read_text())
    assert list(info) == list(real)
    assert info["root_prefix"] == info["conda_prefix"] == str(standin_prefix)
    assert info["envs_dirs"] == [str(standin_prefix / "envs"), str(isolated_home / ".conda" / "envs")]
    assert info["channels"][0] == "https://repo.anaconda.com/pkgs/main/linux-64"


def test_create_through_a_pipe_prints_one_json_document(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "demo", "python=3.11", "pytorch",
                 "transformers", CONDA_PLUGINS_AUTO_ACCEPT_TOS="yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)  # the whole stdout is one document
    real = json.loads((REAL / "conda-create--json-n-demo-dependent.json").read_text())
    assert list(doc) == list(real) == ["success", "actions", "prefix"]
    assert list(doc["actions"]) == list(real["actions"]) == ["FETCH", "PREFIX", "LINK"]
    assert set(doc["actions"]["FETCH"][0]) == set(real["actions"]["FETCH"][0])
    assert set(doc["actions"]["LINK"][0]) == set(real["actions"]["LINK"][0])
    target = standin_prefix / "envs" / "demo"
    assert doc["prefix"] == doc["actions"]["PREFIX"] == str(target)
    assert {r["name"] for r in doc["actions"]["LINK"]} == {"python", "pytorch", "transformers"}
    assert (target / "conda-meta" / "history").exists()

    # Re-creating replaces the env; cached packages are not fetched again (conda-create--json-n-demo-exists.json).
    (target / "marker").write_text("old")
    again = conda(standin_prefix, "create", "--yes", "--json", "-n", "demo", "python=3.11", "pytorch",
                  "transformers")
    assert again.returncode == 0, again.stdout
    redo = json.loads(again.stdout)
    assert redo["actions"]["FETCH"] == [] and len(redo["actions"]["LINK"]) == 3
    assert not (target / "marker").exists()


@pytest.mark.slow
def test_created_env_python_imports_torch(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-p", str(standin_prefix.parent / "llm"),
                 "python=3.11", "pytorch", CONDA_PLUGINS_AUTO_ACCEPT_TOS="yes")
    assert proc.returncode == 0, proc.stdout
    python = Path(json.loads(proc.stdout)["prefix"]) / "bin" / "python"
    out = subprocess.run([str(python), "-c", "import sys, torch; print(sys.prefix); print(torch.ones(2).sum().item())"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(standin_prefix.parent / "llm"), "2.0"]


def test_missing_package_gives_the_real_error_bytes(standin_prefix, tmp_path):
    channels = tmp_path / "channels"
    (channels / "rig-local" / "noarch").mkdir(parents=True)  # a real channel has one (else UnavailableInvalidChannel)
    (channels / "rig-local" / "noarch" / "repodata.json").write_text("{}")
    (standin_prefix / ".condarc").write_text(f"channels:\n  - file://{channels}/rig-local\n")
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "missing", "does-not-exist")
    assert proc.returncode == 1
    assert proc.stderr == ""
    expected = (REAL / "conda-create--json-n-missing-package.json").read_text()
    assert proc.stdout.replace(str(channels), "<CHANNELS>") == expected
    assert not (standin_prefix / "envs" / "missing").exists()


def test_tos_gate_blocks_defaults_without_acceptance(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "llm", "python=3.11", "pytorch")
    assert proc.returncode == 1
    assert proc.stderr == ""
    err = json.loads(proc.stdout)
    assert err["exception_name"] == "CondaToSNonInteractiveError"
    assert err["error"] == "CondaToSNonInteractiveError: " + err["message"]
    assert "conda tos accept --override-channels --channel https://repo.anaconda.com/pkgs/main" in err["message"]
    assert not (standin_prefix / "envs" / "llm").exists()

    # Text form: the real newer wording (scop issue #85) minus the Windows-only msys2 channel.
    text = conda(standin_prefix, "create", "--yes", "-n", "llm", "python=3.11")
    real = (DATA / "conda_outputs" / "error_CondaToSNonInteractiveError_newer_format__scop-issue-85.txt").read_text()
    real = "\n".join(line for line in real.splitlines() if "msys2" not in line)
    assert text.returncode == 1 and text.stderr.strip() == real.strip()


@pytest.mark.parametrize("how", ["auto", "ci", "accept", "override"])
def test_tos_gate_passes_when_accepted(standin_prefix, how):
    extra: dict[str, str] = {}
    channel_args: list[str] = []
    if how == "auto":
        extra["CONDA_PLUGINS_AUTO_ACCEPT_TOS"] = "yes"
    elif how == "ci":
        extra["CI"] = "true"
    elif how == "accept":
        for url in ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r"):
            acc = conda(standin_prefix, "tos", "accept", "--override-channels", "--channel", url)
            assert acc.returncode == 0 and acc.stdout == f"accepted Terms of Service for {url}\n"
    else:  # conda-forge only: no Anaconda ToS applies
        channel_args = ["-c", "conda-forge", "--override-channels"]
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "llm", "python=3.11", *channel_args, **extra)
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["success"] is True


def test_ci_false_and_extra_channel_do_not_bypass_the_gate(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "x", "python=3.11", "-c", "conda-forge",
                 CI="false")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["exception_name"] == "CondaToSNonInteractiveError"


def test_known_packages_can_be_extended(standin_prefix):
    args = ("create", "--yes", "--json", "-n", "x", "python=3.11", "scipy>=1.10")
    assert conda(standin_prefix, *args, CI="true").returncode == 1
    assert conda(standin_prefix, *args, CI="true", STANDIN_CONDA_KNOWN="scipy,bitsandbytes").returncode == 0


def test_env_list_and_call_log(standin_prefix):
    conda(standin_prefix, "create", "--yes", "--json", "-n", "demo", "python=3.11", CI="true")
    proc = conda(standin_prefix, "env", "list", "--json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    real = json.loads((REAL / "conda-env-list--json.json").read_text())
    assert doc["envs"] == [str(standin_prefix), str(standin_prefix / "envs" / "demo")]
    assert list(doc) == list(real)
    assert list(doc["envs_details"][str(standin_prefix)]) == list(real["envs_details"]["<ROOT_PREFIX>"])
    calls = read_calls(standin_prefix)
    assert [c["argv"][:2] for c in calls] == [["create", "--yes"], ["env", "list"]]
    assert calls[0]["env"]["CI"] == "true" and calls[0]["env"]["PYTHONUTF8"] == "1"
    assert calls[1]["env"]["CONDA_PLUGINS_AUTO_ACCEPT_TOS"] is None


def test_unknown_subcommand_is_an_argparse_error(standin_prefix):
    proc = conda(standin_prefix, "frobnicate")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert re.search(r"^conda: error: argument COMMAND: invalid choice: 'frobnicate'", proc.stderr, re.M)


def test_create_delay_leaves_an_unfinished_env_when_killed(standin_prefix):
    env = dict(os.environ, CI="true", STANDIN_CONDA_CREATE_DELAY="30")
    target = standin_prefix / "envs" / "slow"
    proc = subprocess.Popen([str(standin_prefix / "bin" / "conda"), "create", "--yes", "--json", "-n", "slow",
                             "python=3.11"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (target / "conda-meta").is_dir() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "create finished before it could be cancelled"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert (target / "conda-meta").is_dir()
    assert not (target / "conda-meta" / "history").exists()


# ---- mirror ------------------------------------------------------------------------------------------------------

def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_mirror_index_lists_real_rows_and_the_standin(mirror, standin_installer):
    status, body = _fetch(mirror.base_url)
    assert status == 200
    page = body.decode()
    rows = re.findall(r'<tr><td><a href="([^"]+)">\1</a></td><td>([^<]+)</td><td>([^<]+)</td><td>([0-9a-f]{64})</td></tr>',
                      page)
    assert len(rows) == len(real_rows()) + 1 == 778
    by_name = {r[0]: r for r in rows}
    assert by_name["Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"][1:] == (
        "98.4M", "2023-07-13 13:55:51", "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817")
    assert by_name[standin_installer.name][3] == sha256_file(standin_installer)
    assert rows[0][0] == standin_installer.name


def test_mirror_serves_identical_installer_bytes_and_404_for_real_rows(mirror, standin_installer):
    status, body = _fetch(mirror.url(standin_installer.name))
    assert status == 200 and body == standin_installer.read_bytes()
    status, _ = _fetch(mirror.url("Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"))
    assert status == 404


def test_fancyindex_layout_has_sizes_and_dates_but_no_hashes(tmp_path, standin_installer):
    root = build_mirror(tmp_path / "tuna", [standin_installer], layout="fancyindex")
    page = (root / "index.html").read_text()
    assert '<td class="size">98.4 MiB</td><td class="date">13 Jul 2023 13:55:51 +0000</td>' in page
    assert "634d76df5e489c44" not in page
    assert (root / standin_installer.name).read_bytes() == standin_installer.read_bytes()


def test_create_n_resolves_names_like_conda_and_keeps_a_non_env_folder(standin_prefix, tmp_path, isolated_home,
                                                                       monkeypatch):
    """conda's ``locate_prefix_by_name``: envs_dirs, then the current directory; a folder that is not an env is
    installed into with its files kept, an env (conda-meta/history) is replaced."""
    args = ("create", "--yes", "--json", "--override-channels", "-c", "conda-forge", "python=3.11")
    user_env = isolated_home / ".conda" / "envs" / "u"
    user_env.mkdir(parents=True)
    res = conda(standin_prefix, *args[:3], "-n", "u", *args[3:])
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["prefix"] == str(user_env)

    work = tmp_path / "work"
    (work / "here").mkdir(parents=True)
    (work / "here" / "thesis.docx").write_text("precious")
    monkeypatch.chdir(work)
    res = conda(standin_prefix, *args[:3], "-n", "here", *args[3:])
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["prefix"] == str(work / "here")
    assert (work / "here" / "thesis.docx").read_text() == "precious"  # not an env: installed into, kept
    assert (work / "here" / "conda-meta" / "history").exists()

    res = conda(standin_prefix, *args[:3], "-n", "here", *args[3:])  # now it is an env: replaced
    assert res.returncode == 0
    assert not (work / "here" / "thesis.docx").exists()

    res = conda(standin_prefix, *args[:3], "-n", "fresh", *args[3:])
    assert json.loads(res.stdout)["prefix"] == str(standin_prefix / "envs" / "fresh")
