"""Fix-up h-fix1 #1: a SHA256SUMS beside a staged installer is read as Windows tools write it (UTF-8 with a
byte-order mark, UTF-16 from PowerShell's Out-File), and one that exists but cannot be read, or lists no line for
the file, refuses the file (exit 5) instead of installing it unverified. A --download-only run into such a
folder replaces the name's line in the file's own encoding, never adds a second one (app.core.staging)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.core import catalog, staging
from app.core.errors import HashMismatchError
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.standin import DEFAULT_FILENAME
from tests.test_silent import events, run_cli

OTHER = "ab" * 32


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plan(path: Path) -> InstallPlan:
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), installer_file=path)


def _encode(text: str, how: str) -> bytes:
    return {"utf-8-bom": b"\xef\xbb\xbf" + text.encode(),
            "utf-16-le-bom": b"\xff\xfe" + text.encode("utf-16-le"),  # Windows PowerShell 5: Out-File, >
            "utf-16-be-bom": b"\xfe\xff" + text.encode("utf-16-be"),
            "utf-16-le": text.encode("utf-16-le"),
            "utf-32-bom": b"\xff\xfe\x00\x00" + text.encode("utf-32-le"),
            "utf-8-crlf-upper": text.upper().replace("\n", "\r\n").encode().replace(
                DEFAULT_FILENAME.upper().encode(), DEFAULT_FILENAME.encode())}[how]


ENCODINGS = ["utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le", "utf-32-bom", "utf-8-crlf-upper"]


@pytest.fixture
def share(tmp_path, standin_installer):
    folder = tmp_path / "share"
    folder.mkdir()
    installer = folder / DEFAULT_FILENAME
    installer.write_bytes(standin_installer.read_bytes())
    return folder, installer, sha_of(standin_installer)


@pytest.mark.parametrize("how", ENCODINGS)
def test_sha256sums_in_windows_encodings_is_read(share, how):
    folder, installer, sha = share
    (folder / "SHA256SUMS").write_bytes(_encode(f"{sha}  {DEFAULT_FILENAME}\n", how))
    choice = catalog.resolve(_plan(installer), None, RecordingReporter(), CancelToken())
    assert (choice.sha256, choice.hash_source) == (sha, "sha256sums")


@pytest.mark.parametrize("how", ENCODINGS)
def test_tampered_installer_with_sha256sums_in_windows_encodings_is_refused(share, how):
    folder, installer, sha = share
    (folder / "SHA256SUMS").write_bytes(_encode(f"{sha}  {DEFAULT_FILENAME}\n", how))
    installer.write_bytes(installer.read_bytes() + b"\n# tampered\n")
    rec = RecordingReporter()
    choice = catalog.resolve(_plan(installer), None, rec, CancelToken())
    with pytest.raises(HashMismatchError) as err:
        staging.fetch(_plan(installer), choice, None, rec, CancelToken())
    assert err.value.message == (f"The SHA-256 of {installer} is {sha_of(installer)}, but {folder / 'SHA256SUMS'} "
                                 f"lists {sha}.")


def test_bsd_tag_format_is_read(share):
    folder, installer, sha = share
    (folder / "SHA256SUMS").write_text(f"SHA256 ({DEFAULT_FILENAME}) = {sha}\n")
    assert catalog.resolve(_plan(installer), None, RecordingReporter(), CancelToken()).sha256 == sha


def test_tampered_share_with_powershell_sha256sums_exits_5_end_to_end(tmp_path, isolated_home, share):
    """The tester's case: PowerShell wrote SHA256SUMS (UTF-16 LE with BOM, CRLF); the installer was changed."""
    folder, installer, sha = share
    (folder / "SHA256SUMS").write_bytes(b"\xff\xfe" + f"{sha}  {DEFAULT_FILENAME}\r\n".encode("utf-16-le"))
    installer.write_bytes(installer.read_bytes() + b"\n# tampered\n")
    res = run_cli("--silent", "--json", "--installer-file", str(installer), "--prefix", str(tmp_path / "m"),
                  "--no-env", "--no-shell-init", "--log-file", str(tmp_path / "i.log"), home=isolated_home)
    assert res.returncode == 5, res.stdout[-2000:]
    failed = events(res.stdout)[-1]
    assert failed["event"] == "failed" and failed["error"] == "HashMismatchError"
    assert failed["message"] == (f"The SHA-256 of {installer} is {sha_of(installer)}, but {folder / 'SHA256SUMS'} "
                                 f"lists {sha}.")
    assert not (tmp_path / "m").exists()


GARBAGE = [
    pytest.param(b"\x00\x01\x02\xff\xfe garbage \x00\x00\x07", "it holds binary data, not text", id="binary"),
    pytest.param(b"\xff\xfe" + b"\x00\xd8", "it starts like UTF-16 but is not valid UTF-16 (unexpected end of data)", id="bad-utf16"),
    pytest.param(b"caf\xe9 " + OTHER.encode() + b"\n", "byte 0xE9 at offset 3 is not UTF-8", id="latin1"),
]


@pytest.mark.parametrize("data, why", GARBAGE)
def test_unreadable_sha256sums_refuses_the_file(share, data, why):
    folder, installer, _sha = share
    (folder / "SHA256SUMS").write_bytes(data)
    with pytest.raises(HashMismatchError) as err:
        catalog.resolve(_plan(installer), None, RecordingReporter(), CancelToken())
    assert err.value.exit_code == 5
    assert err.value.message.startswith(f"{folder / 'SHA256SUMS'}, the checksum file beside {installer}, cannot be "
                                        f"read: {why}.")
    assert f"--download-only --download-dir {folder}" in err.value.fix and "--sha256" in err.value.fix


@pytest.mark.parametrize("text", [
    "this is not a checksum file\n",
    f"{OTHER[:-1]}  {DEFAULT_FILENAME}\n",  # 63 hex digits
    f"{OTHER}  some-other-installer.sh\n",
    f"md5 {'a' * 32}  {DEFAULT_FILENAME}\n",
])
def test_sha256sums_without_a_valid_line_for_the_file_refuses_it(share, text):
    folder, installer, _sha = share
    (folder / "SHA256SUMS").write_text(text)
    with pytest.raises(HashMismatchError) as err:
        catalog.resolve(_plan(installer), None, RecordingReporter(), CancelToken())
    assert err.value.message.startswith(f"{folder / 'SHA256SUMS'} has no valid checksum line for {DEFAULT_FILENAME}")
    assert f"--download-only --download-dir {folder}" in err.value.fix


def test_garbage_sha256sums_exits_5_end_to_end_and_installs_nothing(tmp_path, isolated_home, share):
    folder, installer, _sha = share
    (folder / "SHA256SUMS").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    for mode in ("--silent", "--dry-run"):
        res = run_cli(mode, "--installer-file", str(installer), "--prefix", str(tmp_path / "m"), "--no-env",
                      "--no-shell-init", "--log-file", str(tmp_path / "i.log"), home=isolated_home)
        assert res.returncode == 5, (mode, res.stdout[-2000:], res.stderr[-2000:])
        assert f"{folder / 'SHA256SUMS'}, the checksum file beside {installer}, cannot be read" in res.stderr
    assert not (tmp_path / "m").exists()


def test_sha256sums_that_is_a_folder_refuses_the_file(share):
    folder, installer, _sha = share
    (folder / "SHA256SUMS").mkdir()
    with pytest.raises(HashMismatchError) as err:
        catalog.resolve(_plan(installer), None, RecordingReporter(), CancelToken())
    assert err.value.message.startswith(f"Cannot read {folder / 'SHA256SUMS'}, the checksum file beside {installer}")


@pytest.mark.parametrize("data", [b"", b"\n\r\n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_sha256sums_is_as_if_there_was_none(share, data):
    folder, installer, _sha = share
    (folder / "SHA256SUMS").write_bytes(data)
    choice = catalog.resolve(_plan(installer), None, RecordingReporter(), CancelToken())
    assert (choice.sha256, choice.hash_source) == (None, None)


def test_given_sha256_still_wins_over_a_sha256sums_without_the_file(share):
    folder, installer, sha = share
    (folder / "SHA256SUMS").write_text(f"{OTHER}  some-other-installer.sh\n")
    plan = _plan(installer)
    plan.sha256 = sha
    assert catalog.resolve(plan, None, RecordingReporter(), CancelToken()).hash_source == "user"


# ---- --download-only into such a folder --------------------------------------------------------------

@pytest.mark.parametrize("how, codec, bom", [("utf-8-bom", "utf-8", b"\xef\xbb\xbf"),
                                             ("utf-16-le-bom", "utf-16-le", b"\xff\xfe"),
                                             ("utf-16-be-bom", "utf-16-be", b"\xfe\xff"),
                                             ("utf-16-le", "utf-16-le", b"")])
def test_merge_replaces_the_line_in_the_files_own_encoding(tmp_path, how, codec, bom):
    sums = tmp_path / "SHA256SUMS"
    old_text = f"{'11' * 32}  {DEFAULT_FILENAME}\r\n{'22' * 32}  other.exe\r\n"
    sums.write_bytes(_encode(old_text, how))
    old = sums.read_bytes()
    staging.merge_sums(tmp_path, DEFAULT_FILENAME, OTHER, RecordingReporter())
    data = sums.read_bytes()
    assert data.startswith(bom)
    assert data[len(bom):].decode(codec) == f"{OTHER}  {DEFAULT_FILENAME}\n{'22' * 32}  other.exe\r\n"
    assert (tmp_path / "SHA256SUMS.bak").read_bytes() == old
    assert staging.read_sums(sums) == {DEFAULT_FILENAME: OTHER, "other.exe": "22" * 32}


def test_merge_adds_a_missing_line_in_the_files_own_encoding(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_bytes(_encode(f"{'22' * 32}  other.exe\r\n", "utf-16-le-bom"))
    staging.merge_sums(tmp_path, DEFAULT_FILENAME, OTHER, RecordingReporter())
    assert sums.read_bytes() == _encode(f"{'22' * 32}  other.exe\r\n{OTHER}  {DEFAULT_FILENAME}\n", "utf-16-le-bom")


def test_download_only_into_a_bom_share_replaces_the_line(tmp_path, isolated_home, mirror, standin_installer):
    share = tmp_path / "share"
    share.mkdir()
    (share / "SHA256SUMS").write_bytes(_encode(f"{'33' * 32}  {DEFAULT_FILENAME}\n", "utf-8-bom"))
    res = run_cli("--silent", "--download-only", "--download-dir", str(share), "--mirror", mirror.base_url,
                  "--log-file", str(tmp_path / "s.log"), home=isolated_home)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert (share / "SHA256SUMS").read_bytes() == _encode(f"{sha_of(standin_installer)}  {DEFAULT_FILENAME}\n",
                                                         "utf-8-bom")


def test_download_only_into_an_unreadable_sha256sums_refuses_before_downloading(tmp_path, isolated_home, mirror):
    share = tmp_path / "share"
    share.mkdir()
    garbage = b"\x00\x01binary\x00"
    (share / "SHA256SUMS").write_bytes(garbage)
    for mode in ("--dry-run", "--silent"):
        res = run_cli(mode, "--download-only", "--download-dir", str(share), "--mirror", mirror.base_url,
                      "--log-file", str(tmp_path / "s.log"), home=isolated_home)
        assert res.returncode == 5, (mode, res.stdout[-2000:], res.stderr[-2000:])
        assert f"{share / 'SHA256SUMS'} is there but cannot be read: it holds binary data, not text" in res.stderr
    assert (share / "SHA256SUMS").read_bytes() == garbage
    assert sorted(p.name for p in share.iterdir()) == ["SHA256SUMS"]  # nothing was downloaded
