"""Issue 5, download only: stage a verified installer and its SHA256SUMS line on a share, then install from the
share offline, verified against that file (app.core.staging). Real CLI runs against the local mirror server."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from app.core import catalog, staging
from app.core.errors import HashMismatchError, Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import LocalServer
from tests.support.mirror import build_mirror
from tests.support.standin import DEFAULT_FILENAME
from tests.test_silent import events, run_cli

OTHER = "ab" * 32


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def staged(tmp_path, isolated_home, mirror, standin_installer):
    """A share staged by a real ``--silent --download-only`` run: (share folder, installer path, run result)."""
    share = tmp_path / "share"
    res = run_cli("--silent", "--download-only", "--download-dir", str(share), "--mirror", mirror.base_url,
                  "--prefix", str(tmp_path / "miniconda3"), "--log-file", str(tmp_path / "stage.log"),
                  home=isolated_home)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return share, share / DEFAULT_FILENAME, res


def test_download_only_stages_installer_and_sha256sums_and_nothing_else(tmp_path, isolated_home, staged,
                                                                         standin_installer):
    share, installer, res = staged
    sha = sha_of(standin_installer)
    assert installer.read_bytes() == standin_installer.read_bytes()
    assert (share / "SHA256SUMS").read_bytes() == f"{sha}  {DEFAULT_FILENAME}\n".encode()
    assert sorted(p.name for p in share.iterdir()) == sorted(["SHA256SUMS", DEFAULT_FILENAME])  # no .part left
    assert not (tmp_path / "miniconda3").exists()  # no install
    assert not (isolated_home / ".bashrc").exists()  # no shell set-up
    log = (tmp_path / "stage.log").read_text()
    for skipped in ("Installing Miniconda", "Setting up PATH and shells", "Creating the conda env",
                    "Checking the GPU with a small training run"):
        assert f"Skipped: {skipped} (not part of this plan)." in log
    assert f"Staged {installer} and its line in {share / 'SHA256SUMS'}." in res.stdout
    assert f"miniconda-wizard --silent --installer-file {installer}" in res.stdout


def test_download_only_json_ends_with_finished(tmp_path, isolated_home, mirror):
    share = tmp_path / "share"
    res = run_cli("--silent", "--json", "--download-only", "--download-dir", str(share), "--mirror", mirror.base_url,
                  "--log-file", str(tmp_path / "s.log"), home=isolated_home)
    evs = events(res.stdout)
    assert res.returncode == 0 and evs[-1]["event"] == "finished" and evs[-1]["exit_code"] == 0
    assert [e["stage"] for e in evs if e["event"] == "stage_started"] == ["catalog", "download"]


def test_download_only_dry_run_shows_it_and_writes_nothing(tmp_path, isolated_home, mirror):
    share = tmp_path / "share"
    res = run_cli("--dry-run", "--download-only", "--download-dir", str(share), "--mirror", mirror.base_url,
                  home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert (f"Download only:   into {share}, with its line in SHA256SUMS there; no install, PATH, env or GPU check"
            in res.stdout)
    assert "Install to:" not in res.stdout and "Create env:" not in res.stdout
    assert not share.exists()


def test_download_only_stages_for_another_platform(tmp_path, isolated_home, standin_installer):
    """An IT share holds installers for the machines that install from it, not for the one that stages. The mirror
    must hold the file: the dry run asks the server for it (h-fix1 #2)."""
    exe = tmp_path / "src" / "Miniconda3-py311_23.5.2-0-Windows-x86_64.exe"
    exe.parent.mkdir()
    exe.write_bytes(b"MZ" + bytes(4096))
    with LocalServer(build_mirror(tmp_path / "m", [standin_installer, exe])) as server:
        args = ("--dry-run", "--platform", "Windows-x86_64", "--download-dir", str(tmp_path / "share"),
                "--mirror", server.base_url)
        refused = run_cli(*args, home=isolated_home)
        assert refused.returncode == 2  # a normal run refuses a platform this machine cannot run
        res = run_cli(*args, "--download-only", home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^Chosen installer: Miniconda3-\S+-Windows-x86_64\.exe, SHA-256 [0-9a-f]{64}", res.stdout, re.M)


@pytest.mark.parametrize("args, words", [
    (("--silent", "--download-only"), "stages the installer in a folder you name"),
    (("--download-only", "--download-dir", "X"), "--download-only needs --silent"),
    (("--silent", "--download-only", "--download-dir", "X", "--installer-file", "Y.sh"), "cannot be used together"),
])
def test_download_only_usage_errors(tmp_path, isolated_home, args, words):
    res = run_cli(*args, home=isolated_home)
    assert res.returncode == 2
    assert words in res.stderr


# ---- SHA256SUMS merge ------------------------------------------------------------------------------

def test_merge_keeps_other_lines_byte_for_byte(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    old = (f"# staged by IT\r\n{'11' * 32}  Miniconda3-py310_23.5.2-0-Linux-x86_64.sh\r\n"
           f"{'22' * 32} *Miniconda3-latest-Windows-x86_64.exe").encode()  # CRLF, binary marker, no final newline
    sums.write_bytes(old)
    rec = RecordingReporter()
    staging.merge_sums(tmp_path, DEFAULT_FILENAME, OTHER.upper(), rec)
    assert sums.read_bytes() == old + f"\n{OTHER}  {DEFAULT_FILENAME}\n".encode()
    assert not list(tmp_path.glob("SHA256SUMS.bak*"))  # nothing was lost, so no backup
    assert staging.read_sums(sums) == {"Miniconda3-py310_23.5.2-0-Linux-x86_64.sh": "11" * 32,
                                       "Miniconda3-latest-Windows-x86_64.exe": "22" * 32, DEFAULT_FILENAME: OTHER}


def test_merge_replaces_a_changed_line_and_keeps_a_backup(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    old = f"{'11' * 32}  a.sh\n{'33' * 32}  {DEFAULT_FILENAME}\n{'44' * 32}  {DEFAULT_FILENAME}\n".encode()
    sums.write_bytes(old)
    rec = RecordingReporter()
    staging.merge_sums(tmp_path, DEFAULT_FILENAME, OTHER, rec)
    assert sums.read_text() == f"{'11' * 32}  a.sh\n{OTHER}  {DEFAULT_FILENAME}\n"
    assert (tmp_path / "SHA256SUMS.bak").read_bytes() == old
    assert any("the old file is kept as" in line for _s, line, level in rec.of("log") if level == "warning")


def test_merge_same_hash_writes_nothing(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_bytes(f"{OTHER} *{DEFAULT_FILENAME}\n".encode())
    before = sums.stat().st_mtime_ns
    staging.merge_sums(tmp_path, DEFAULT_FILENAME, OTHER, RecordingReporter())
    assert sums.read_bytes() == f"{OTHER} *{DEFAULT_FILENAME}\n".encode() and sums.stat().st_mtime_ns == before


def test_a_second_staging_run_merges_into_the_share(tmp_path, isolated_home, staged, mirror, standin_installer):
    share, installer, _res = staged
    (share / "SHA256SUMS").write_text(f"{'55' * 32}  other.exe\n" + (share / "SHA256SUMS").read_text())
    res = run_cli("--silent", "--download-only", "--download-dir", str(share), "--mirror", mirror.base_url,
                  "--log-file", str(tmp_path / "again.log"), home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert (share / "SHA256SUMS").read_text() == f"{'55' * 32}  other.exe\n{sha_of(standin_installer)}  {DEFAULT_FILENAME}\n"


# ---- installing from the share ------------------------------------------------------------------

def _plan(path: Path) -> InstallPlan:
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), installer_file=path)


def test_installer_file_is_verified_against_sha256sums_beside_it(staged, standin_installer):
    _share, installer, _res = staged
    rec = RecordingReporter()
    plan = _plan(installer)
    choice = catalog.resolve(plan, None, rec, CancelToken())
    assert (choice.sha256, choice.hash_source) == (sha_of(standin_installer), "sha256sums")
    assert staging.fetch(plan, choice, None, rec, CancelToken()) == installer
    assert (Stage.DOWNLOAD, "verified", True) in rec.of("info")
    assert (Stage.DOWNLOAD, f"SHA-256 verified against {installer.parent / 'SHA256SUMS'}: {choice.sha256}",
            "info") in rec.of("log")


def test_installer_file_dry_run_names_sha256sums(tmp_path, isolated_home, staged, standin_installer):
    _share, installer, _res = staged
    res = run_cli("--dry-run", "--installer-file", str(installer), "--prefix", str(tmp_path / "p"), "--no-env",
                  home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert (f"Chosen installer: {DEFAULT_FILENAME}, SHA-256 {sha_of(standin_installer)} "
            "(listed in the SHA256SUMS beside it)") in res.stdout


def test_tampered_share_exits_5_with_a_fix(tmp_path, isolated_home, staged, standin_installer):
    share, installer, _res = staged
    installer.write_bytes(installer.read_bytes() + b"\n# changed\n")
    res = run_cli("--silent", "--json", "--installer-file", str(installer), "--prefix", str(tmp_path / "m"),
                  "--no-env", "--log-file", str(tmp_path / "i.log"), home=isolated_home)
    assert res.returncode == 5, res.stdout[-2000:]
    failed = events(res.stdout)[-1]
    assert failed["event"] == "failed" and failed["stage"] == "download" and failed["error"] == "HashMismatchError"
    assert failed["message"] == (f"The SHA-256 of {installer} is {sha_of(installer)}, but {share / 'SHA256SUMS'} "
                                 f"lists {sha_of(standin_installer)}.")
    assert failed["fix"].startswith("The copy on the share is damaged or was changed after it was staged. Stage it "
                                    f"again (miniconda-wizard --silent --download-only --download-dir {share})")
    assert not (tmp_path / "m").exists()
    assert installer.exists()  # the share's file is reported, never deleted


def test_sha256sums_disagreeing_with_pinned_table_is_refused(tmp_path):
    name = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"  # in the pinned table
    pinned = catalog.pinned_sha256(name)
    assert pinned
    path = tmp_path / name
    path.write_bytes(b"not the real installer")
    (tmp_path / "SHA256SUMS").write_text(f"{sha_of(path)}  {name}\n")
    choice = catalog.resolve(_plan(path), None, RecordingReporter(), CancelToken())
    assert choice.hash_source == "sha256sums"
    with pytest.raises(HashMismatchError) as err:
        staging.fetch(_plan(path), choice, None, RecordingReporter(), CancelToken())
    assert err.value.message == (f"{tmp_path / 'SHA256SUMS'} lists {sha_of(path)} for {name}, but the pinned hash "
                                 f"table says {pinned}.")


def test_a_file_not_listed_is_refused(tmp_path, standin_installer):
    """A share's SHA256SUMS that lists other files but not this one does not let it through unverified (h-fix1)."""
    path = tmp_path / DEFAULT_FILENAME
    path.write_bytes(standin_installer.read_bytes())
    (tmp_path / "SHA256SUMS").write_text(f"{OTHER}  some-other-installer.sh\n")
    with pytest.raises(HashMismatchError) as err:
        catalog.resolve(_plan(path), None, RecordingReporter(), CancelToken())
    assert err.value.message == (f"{tmp_path / 'SHA256SUMS'} has no valid checksum line for {DEFAULT_FILENAME} "
                                 f"(files it lists: some-other-installer.sh), so {path} cannot be verified against it.")


def test_a_file_without_sha256sums_keeps_the_no_known_hash_rules(tmp_path, standin_installer):
    path = tmp_path / DEFAULT_FILENAME
    path.write_bytes(standin_installer.read_bytes())
    rec = RecordingReporter()
    choice = catalog.resolve(_plan(path), None, rec, CancelToken())
    assert (choice.sha256, choice.hash_source) == (None, None)
    assert staging.fetch(_plan(path), choice, None, rec, CancelToken()) == path
    assert (Stage.DOWNLOAD, "verified", False) in rec.of("info")


def test_user_sha256_still_wins_over_sha256sums(tmp_path, standin_installer):
    path = tmp_path / DEFAULT_FILENAME
    path.write_bytes(standin_installer.read_bytes())
    (tmp_path / "SHA256SUMS").write_text(f"{OTHER}  {DEFAULT_FILENAME}\n")
    plan = _plan(path)
    plan.sha256 = sha_of(path)
    choice = catalog.resolve(plan, None, RecordingReporter(), CancelToken())
    assert (choice.sha256, choice.hash_source) == (sha_of(path), "user")
