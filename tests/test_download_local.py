"""app.core.download without a network: local installer files, local mirror folders (file:// URLs, copied in
process), and the exact messages and fixes of its errors. Gaps found by mutation testing (docs/testing.md)."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
import requests

from app.core import download
from app.core.catalog import InstallerChoice
from app.core.download import fetch_installer
from app.core.errors import Cancelled, DownloadError, HashMismatchError, Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.units import format_bytes

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
DATA = b"#!/bin/sh\n" + os.urandom(1 << 20) + b"tail"  # a bit over one 1 MiB piece
SHA = hashlib.sha256(DATA).hexdigest()
OTHER = "0" * 64


@pytest.fixture
def plan(tmp_path) -> InstallPlan:
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=tmp_path / "dl")


@pytest.fixture
def mirror(tmp_path) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / NAME).write_bytes(DATA)
    return folder


def from_mirror(folder: Path, sha: str | None, source: str | None = "index") -> InstallerChoice:
    return InstallerChoice(NAME, (folder / NAME).as_uri(), None, sha, len(DATA), source if sha else None)


def local(path: Path, sha: str | None, source: str | None = "user") -> InstallerChoice:
    return InstallerChoice(path.name, None, path, sha, None, source if sha else None)


def logs(rec: RecordingReporter) -> list[tuple]:
    return rec.of("log")


# ---- local mirror folder (file:// URL) ----------------------------------------------------------

def test_copy_from_mirror_folder_reports_and_verifies(mirror, plan):
    rec = RecordingReporter()
    path = fetch_installer(plan, from_mirror(mirror, SHA), requests.Session(), rec, CancelToken())
    final = plan.download_dir / NAME
    assert path == final and final.read_bytes() == DATA
    assert not (plan.download_dir / (NAME + ".part")).exists()
    assert (mirror / NAME).read_bytes() == DATA  # the mirror's file is never changed
    assert logs(rec) == [
        (Stage.DOWNLOAD, f"Copying {mirror / NAME} from the local mirror folder.", "info"),
        (Stage.DOWNLOAD, f"SHA-256 verified: {SHA}", "info"),
        (Stage.DOWNLOAD, f"Saved {final} ({format_bytes(len(DATA))}).", "info"),
    ]
    assert rec.of("info") == [(Stage.DOWNLOAD, "sha256", SHA), (Stage.DOWNLOAD, "verified", True),
                              (Stage.DOWNLOAD, "path", str(final))]
    progress = [p for (p,) in rec.of("progress")]
    assert progress[-1].stage is Stage.DOWNLOAD
    assert (progress[-1].done, progress[-1].total) == (len(DATA), len(DATA))
    assert progress[-1].text.startswith(download.DOWNLOADING_TEXT + " ")


def test_copy_from_mirror_folder_without_hash(mirror, plan):
    plan.allow_unverified = True
    rec = RecordingReporter()
    fetch_installer(plan, from_mirror(mirror, None), requests.Session(), rec, CancelToken())
    assert (Stage.DOWNLOAD, "verified", False) in rec.of("info")
    assert not any(line.startswith("SHA-256 verified") for _, line, _ in logs(rec))


def test_copy_from_mirror_folder_with_the_wrong_hash_leaves_nothing(mirror, plan):
    with pytest.raises(HashMismatchError) as exc:
        fetch_installer(plan, from_mirror(mirror, OTHER), requests.Session(), RecordingReporter(), CancelToken())
    assert exc.value.message == f"The SHA-256 of {mirror / NAME} is {SHA}, but the index says {OTHER}."
    assert exc.value.fix == REMOTE_FIX  # a mirror's file, not the user's own
    assert list(plan.download_dir.iterdir()) == []
    assert (mirror / NAME).read_bytes() == DATA


def test_a_users_file_in_the_download_folder_is_set_aside_for_a_mirror_copy(mirror, plan):
    plan.download_dir.mkdir()
    (plan.download_dir / NAME).write_bytes(b"the user's own file")
    plan.allow_unverified = True
    rec = RecordingReporter()
    fetch_installer(plan, from_mirror(mirror, None), requests.Session(), rec, CancelToken())
    assert (plan.download_dir / NAME).read_bytes() == DATA
    assert (plan.download_dir / (NAME + ".bak")).read_bytes() == b"the user's own file"


@pytest.mark.parametrize("sha", [SHA, None])
def test_download_folder_that_is_the_mirror_folder_uses_the_file_in_place(mirror, plan, sha):
    plan.download_dir, plan.allow_unverified = mirror, True
    rec = RecordingReporter()
    path = fetch_installer(plan, from_mirror(mirror, sha), requests.Session(), rec, CancelToken())
    assert path == mirror / NAME and sorted(p.name for p in mirror.iterdir()) == [NAME]  # nothing copied or renamed
    assert (mirror / NAME).read_bytes() == DATA
    assert (Stage.DOWNLOAD, "sha256", SHA) in rec.of("info")


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_unreadable_mirror_file_names_the_mirror(mirror, plan, make):
    (mirror / NAME).unlink()
    if make == "folder":
        (mirror / NAME).mkdir()
    with pytest.raises(DownloadError) as exc:
        fetch_installer(plan, from_mirror(mirror, SHA), requests.Session(), RecordingReporter(), CancelToken())
    reason = "No such file or directory" if make == "missing" else "Is a directory"
    assert exc.value.message == f"Cannot read {mirror / NAME} in the mirror folder: {reason}."
    assert exc.value.fix == "Check the mirror folder (--mirror) and its permissions."
    assert not (plan.download_dir / (NAME + ".part")).exists()


def test_copy_that_cannot_be_written_or_renamed(mirror, plan):
    part = plan.download_dir / (NAME + ".part")
    part.mkdir(parents=True)  # the .part name is taken by a folder
    with pytest.raises(DownloadError) as exc:
        fetch_installer(plan, from_mirror(mirror, SHA), requests.Session(), RecordingReporter(), CancelToken())
    assert exc.value.message == f"Could not write {part}: Is a directory."
    part.rmdir()
    final = plan.download_dir / NAME
    (final / "sub").mkdir(parents=True)  # the final name is the user's folder (a folder they chose): set aside
    fetch_installer(plan, from_mirror(mirror, SHA), requests.Session(), RecordingReporter(), CancelToken())
    assert final.read_bytes() == DATA and (plan.download_dir / (NAME + ".bak") / "sub").is_dir()
    assert not part.exists()


def test_cancelled_copy_leaves_no_part(mirror, plan):
    cancel = CancelToken()

    class CancelOnFirstProgress(RecordingReporter):
        def progress(self, progress):
            cancel.cancel()

    with pytest.raises(Cancelled):
        fetch_installer(plan, from_mirror(mirror, SHA), requests.Session(), CancelOnFirstProgress(), cancel)
    assert not (plan.download_dir / (NAME + ".part")).exists()


# ---- the user's local installer file ------------------------------------------------------------

def test_local_file_verified_reports_exactly(tmp_path, plan):
    path = tmp_path / NAME
    path.write_bytes(DATA)
    rec = RecordingReporter()
    assert fetch_installer(plan, local(path, SHA.upper()), requests.Session(), rec, CancelToken()) == path
    assert logs(rec) == [(Stage.DOWNLOAD, f"Checking the local installer {path}", "info"),
                         (Stage.DOWNLOAD, f"SHA-256 verified: {SHA}", "info")]
    assert rec.of("info") == [(Stage.DOWNLOAD, "sha256", SHA), (Stage.DOWNLOAD, "verified", True)]
    assert [p for (p,) in rec.of("progress")][-1].text.startswith(download.CHECKING_FILE_TEXT + ": ")


def test_local_file_unverified_reports_exactly(tmp_path, plan):
    path = tmp_path / NAME
    path.write_bytes(DATA)
    rec = RecordingReporter()
    fetch_installer(plan, local(path, None), requests.Session(), rec, CancelToken())
    assert logs(rec)[-1] == (Stage.DOWNLOAD, f"No published SHA-256 for {NAME}; using it unverified "
                                             f"(SHA-256 {SHA}).", "warning")
    assert rec.of("info") == [(Stage.DOWNLOAD, "sha256", SHA), (Stage.DOWNLOAD, "verified", False)]


def test_local_file_that_cannot_be_read(tmp_path, plan):
    folder = tmp_path / NAME
    folder.mkdir()
    with pytest.raises(DownloadError) as exc:
        fetch_installer(plan, local(folder, SHA), requests.Session(), RecordingReporter(), CancelToken())
    assert exc.value.message == f"Cannot read the installer file {folder}: Is a directory."
    assert exc.value.fix == ("Check that the local installer file you chose exists and is readable "
                             "(--installer-file in silent mode).")


# ---- mismatch texts -----------------------------------------------------------------------------

LOCAL_FIX = ("Check that this is the installer you meant, download it again, or give its published "
             "SHA-256 (--sha256 in silent mode).")
REMOTE_FIX = "The download is corrupt or was tampered with. Try again, or choose another mirror (--mirror in silent mode)."
LAG = (" (The mirror may not have caught up with the newest installer yet: the official mirror, or a versioned "
       "installer name, avoids that.)")


@pytest.mark.parametrize("source, named, local_file, fix", [
    ("user", "the SHA-256 you gave", True, LOCAL_FIX),
    ("index", "the index", False, REMOTE_FIX),
    ("pinned", "the pinned hash table", False, REMOTE_FIX),
    ("official-index", "the official index", False, REMOTE_FIX + LAG),
    ("official-index", "the official index", True, LOCAL_FIX),
    (None, "the expected value", False, REMOTE_FIX),
])
def test_mismatch_names_where_the_hash_came_from_and_the_fix(source, named, local_file, fix):
    choice = InstallerChoice(NAME, None, None, OTHER, None, source)
    err = download._mismatch(choice, OTHER, SHA, "the file", local=local_file)
    assert isinstance(err, HashMismatchError)
    assert err.message == f"The SHA-256 of the file is {SHA}, but {named} says {OTHER}."
    assert err.fix == fix


def test_local_mismatch_uses_the_lowercase_expected_hash(tmp_path, plan):
    path = tmp_path / NAME
    path.write_bytes(DATA)
    with pytest.raises(HashMismatchError) as exc:
        fetch_installer(plan, local(path, "AB" * 32), requests.Session(), RecordingReporter(), CancelToken())
    assert exc.value.message == f"The SHA-256 of {path} is {SHA}, but the SHA-256 you gave says {'ab' * 32}."
    assert path.read_bytes() == DATA  # the user's own file is never deleted


# ---- HTTP and disk errors -----------------------------------------------------------------------

def _response(status: int, reason: str | None) -> requests.Response:
    resp = requests.Response()
    resp.status_code, resp.reason = status, reason
    return resp


@pytest.mark.parametrize("status, reason, gone", [
    (403, "Forbidden", True), (404, "Not Found", True), (410, "Gone", True), (411, None, False),
    (503, "Service Unavailable", False),
])
def test_http_error_texts(status, reason, gone):
    err = download._http_error("https://m.example/x.sh", _response(status, reason))
    said = f"HTTP {status} {reason}" if reason else f"HTTP {status}"
    assert err.message == f"Downloading https://m.example/x.sh failed: the server answered {said}."
    assert err.fix == ("Choose another installer or another mirror (--mirror in silent mode)." if gone else
                       "The mirror may be busy or down: try again later, or choose another mirror "
                       "(--mirror in silent mode).")


def test_disk_error_texts(tmp_path):
    part = tmp_path / "M.sh.part"
    part.write_bytes(b"x" * 2048)
    denied = PermissionError(errno.EACCES, "Permission denied")
    err = download._disk_error(part, denied)
    assert err.message == (f"Could not write {part}: Permission denied. The partial download M.sh.part (2.0 KiB) is "
                           "kept and is continued by the next run; delete it to get that space back.")
    assert err.fix == ("Check that you can write to that folder and that it has free space, or choose another "
                       "download folder (--download-dir in silent mode).")
    assert err.detail == repr(denied)
    other = tmp_path / "M.sh"
    other.write_bytes(b"x")
    assert download._disk_error(other, denied).message == f"Could not write {other}: Permission denied."
    assert download._disk_error(tmp_path / "gone.part", denied).message == \
        f"Could not write {tmp_path / 'gone.part'}: Permission denied."
    full = OSError(errno.ENOSPC, "No space left on device")
    err = download._disk_error(part, full)
    assert err.message.startswith(f"Could not write {part}: The disk holding {tmp_path} is full")
    assert err.message.endswith(" is kept and is continued by the next run; delete it to get that space back.")
    assert err.fix.endswith("(--download-dir in silent mode).")
    assert err.detail == repr(full)


def test_truncate_empties_the_part_or_names_the_failure(tmp_path):
    part = tmp_path / "M.sh.part"
    part.write_bytes(b"old bytes")
    download._truncate(part)
    assert part.read_bytes() == b""
    folder = tmp_path / "d.part"
    folder.mkdir()
    with pytest.raises(DownloadError) as exc:
        download._truncate(folder)
    assert exc.value.message == f"Could not write {folder}: Is a directory."
    assert "IsADirectoryError" in exc.value.detail


def test_free_name_takes_the_first_free_number(tmp_path):
    base = tmp_path / "M.sh.bak"
    assert download.free_name(base) == base
    base.write_text("")
    assert download.free_name(base) == tmp_path / "M.sh.bak.1"
    (tmp_path / "M.sh.bak.1").write_text("")
    assert download.free_name(base) == tmp_path / "M.sh.bak.2"


# ---- Content-Range and the space check ----------------------------------------------------------

def _with_range(value: str | None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = 206
    if value is not None:
        resp.headers["Content-Range"] = value
    return resp


@pytest.mark.parametrize("value, expected", [
    ("bytes 100-199/1000", (100, 1000)),
    ("bytes 100-199/*", (100, None)),  # total unknown (RFC 9110)
    ("bytes 100-199 / 1000", (100, 1000)),
    ("Bytes 0-9/10", (0, 10)),
    ("items 0-1/2", None),
    ("bytes 5", None),
    ("bytes */1000", None),  # the form of a 416 answer, not a range
    ("bytes x-9/10", None),
    ("", None),
    (None, None),
])
def test_content_range(value, expected):
    assert download._content_range(_with_range(value)) == expected


def test_space_check_bounds_and_texts(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "free_bytes", lambda folder: 1000)
    rec = RecordingReporter()
    for needed in (None, 0, -5, 999, 1000):
        download._check_space(tmp_path, needed, False, rec)  # nothing to check, or it fits exactly
    with pytest.raises(DownloadError) as exc:
        download._check_space(tmp_path, 1001, False, rec)
    text = f"The download needs 1001 B (1001 bytes) more in {tmp_path}, but only 1000 B (1000 bytes) is free there."
    assert exc.value.message == text
    assert exc.value.fix == (f"Free at least 1 B in {tmp_path}, or choose another download folder (--download-dir in "
                             "silent mode). If the free space shown is wrong (some network filesystems report 0), skip "
                             "the check (--skip-space-check).")
    assert rec.of("log") == []
    download._check_space(tmp_path, 1001, True, rec)
    assert rec.of("log") == [(Stage.DOWNLOAD, text + " Downloading anyway (the space check is skipped).", "warning")]
    monkeypatch.setattr(download, "free_bytes", lambda folder: 0)
    with pytest.raises(DownloadError):
        download._check_space(tmp_path, 1, False, rec)
