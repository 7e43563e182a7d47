"""Fix-up h-fix1 #2: ``--dry-run`` exits with the code the real run would where it cheaply can: a remote installer
is asked for its first byte (a 404 is exit 4, as the real download), a local ``--installer-file`` is hashed (a
changed file is exit 5, against --sha256 and against the SHA256SUMS beside it); and the output says what it
does not check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.silent import DRY_RUN_NOT_CHECKED
from tests.support.http_server import Fault, LocalServer
from tests.support.mirror import build_release_folder
from tests.support.standin import DEFAULT_FILENAME, MINIFORGE_FILENAME, MINIFORGE_NAME, build_standin_installer
from tests.test_silent import events, run_cli


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def both(*args: str, home: Path, tmp_path: Path, extra_env: dict | None = None):
    """The dry run and the real run of the same flags: (dry, real)."""
    common = ("--no-env", "--no-shell-init", "--prefix", str(tmp_path / "mc"), "--log-file", str(tmp_path / "r.log"),
              "--download-dir", str(tmp_path / "dl"), "--no-cache")
    dry = run_cli("--dry-run", *args, *common, home=home, extra_env=extra_env)
    real = run_cli("--silent", *args, *common, home=home, extra_env=extra_env)
    return dry, real


def test_missing_installer_on_the_mirror_is_exit_4_in_the_dry_run_too(tmp_path, isolated_home, mirror):
    mirror.fault(DEFAULT_FILENAME, Fault(status=404))  # the index lists it, the server does not have it
    dry, real = both("--mirror", mirror.base_url, home=isolated_home, tmp_path=tmp_path)
    assert (dry.returncode, real.returncode) == (4, 4), (dry.stdout[-1500:], dry.stderr[-1500:])
    want = f"Downloading {mirror.base_url}{DEFAULT_FILENAME} failed: the server answered HTTP 404"
    assert want in dry.stderr and want in real.stderr
    assert not (tmp_path / "dl").exists() or not any((tmp_path / "dl").iterdir())


def test_miniforge_from_a_miniconda_folder_is_exit_4_in_the_dry_run_too(tmp_path, isolated_home, mirror,
                                                                          monkeypatch):
    """The tester's case: --distribution miniforge --mirror http://.../miniconda/ (no Miniforge3 file there)."""
    forge = build_standin_installer(tmp_path / "forge", MINIFORGE_FILENAME, flavor=MINIFORGE_NAME)
    with LocalServer(build_release_folder(tmp_path / "github", [forge])) as github:
        table = tmp_path / "mirrors.toml"
        table.write_text(f'[mirrors.official]\ntitle = "official"\ninstaller = "{mirror.base_url}"\n'
                         f'miniforge = "{github.base_url}"\n', encoding="utf-8")
        env = {"MINICONDA_WIZARD_MIRRORS": str(table)}
        dry, real = both("--distribution", "miniforge", "--mirror", mirror.base_url, home=isolated_home,
                         tmp_path=tmp_path, extra_env=env)
    assert (dry.returncode, real.returncode) == (4, 4), (dry.stdout[-1500:], dry.stderr[-1500:])
    assert f"Downloading {mirror.base_url}{MINIFORGE_FILENAME} failed: the server answered HTTP 404" in dry.stderr


def test_dry_run_says_what_it_checked_and_what_not(tmp_path, isolated_home, mirror):
    res = run_cli("--dry-run", "--mirror", mirror.base_url, "--no-env", "--no-cache",
                  "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert (f"Checked: The server has {mirror.base_url}{DEFAULT_FILENAME} (asked for its first byte; its SHA-256 is "
            "checked after the real download).") in res.stdout
    assert f"Not checked: {DRY_RUN_NOT_CHECKED}" in res.stdout
    asked = [r for r in mirror.state.requests if DEFAULT_FILENAME in str(r)]
    assert asked  # the server was asked
    assert not (tmp_path / "dl").exists()  # nothing was written
    js = run_cli("--dry-run", "--json", "--mirror", mirror.base_url, "--no-env", "--no-cache", home=isolated_home)
    plan = events(js.stdout)[-1]
    assert plan["event"] == "plan" and plan["installer"]["checked"].startswith("The server has ")
    assert plan["installer"]["not_checked"] == DRY_RUN_NOT_CHECKED


def test_dry_run_does_not_ask_the_server_for_a_file_already_downloaded(tmp_path, isolated_home, mirror,
                                                                       standin_installer):
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / DEFAULT_FILENAME).write_bytes(standin_installer.read_bytes())
    mirror.fault(DEFAULT_FILENAME, Fault(status=404))
    res = run_cli("--dry-run", "--mirror", mirror.base_url, "--no-env", "--no-cache", "--download-dir", str(dl),
                  home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert f"Checked: A copy of {DEFAULT_FILENAME} is already on this machine ({dl / DEFAULT_FILENAME})" in res.stdout


@pytest.fixture
def local_copy(tmp_path, standin_installer) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    path = folder / DEFAULT_FILENAME
    path.write_bytes(standin_installer.read_bytes())
    return path


def test_changed_local_file_against_given_sha256_is_exit_5_in_the_dry_run(tmp_path, isolated_home, local_copy,
                                                                         standin_installer):
    sha = sha_of(standin_installer)
    local_copy.write_bytes(local_copy.read_bytes() + b"\n# changed\n")
    dry, real = both("--installer-file", str(local_copy), "--sha256", sha, home=isolated_home, tmp_path=tmp_path)
    assert (dry.returncode, real.returncode) == (5, 5), (dry.stdout[-1500:], dry.stderr[-1500:])
    want = f"The SHA-256 of {local_copy} is {sha_of(local_copy)}, but the SHA-256 you gave says {sha}."
    assert want in dry.stderr and want in real.stderr
    assert not (tmp_path / "mc").exists()


def test_changed_local_file_against_sha256sums_is_exit_5_in_the_dry_run(tmp_path, isolated_home, local_copy,
                                                                       standin_installer):
    sha = sha_of(standin_installer)
    (local_copy.parent / "SHA256SUMS").write_text(f"{sha}  {DEFAULT_FILENAME}\n")
    local_copy.write_bytes(local_copy.read_bytes() + b"\n# changed\n")
    dry, real = both("--installer-file", str(local_copy), home=isolated_home, tmp_path=tmp_path)
    assert (dry.returncode, real.returncode) == (5, 5), (dry.stdout[-1500:], dry.stderr[-1500:])
    want = f"The SHA-256 of {local_copy} is {sha_of(local_copy)}, but {local_copy.parent / 'SHA256SUMS'} lists {sha}."
    assert want in dry.stderr and want in real.stderr


def test_unchanged_local_file_passes_the_dry_run_hashed(tmp_path, isolated_home, local_copy, standin_installer):
    res = run_cli("--dry-run", "--installer-file", str(local_copy), "--sha256", sha_of(standin_installer),
                  "--no-env", "--prefix", str(tmp_path / "mc"), home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert (f"Checked: The local installer {local_copy} was hashed: its SHA-256 is the expected one."
            in res.stdout)


def test_local_mirror_folder_is_checked_for_the_file(tmp_path, isolated_home, standin_installer):
    folder = tmp_path / "localmirror"
    folder.mkdir()
    (folder / DEFAULT_FILENAME).write_bytes(standin_installer.read_bytes())
    (folder / "SHA256SUMS").write_text(f"{sha_of(standin_installer)}  {DEFAULT_FILENAME}\n")
    res = run_cli("--dry-run", "--mirror", folder.as_uri() + "/", "--no-env", "--no-cache", home=isolated_home)
    assert res.returncode == 0, res.stderr
    assert f"Checked: The installer {folder / DEFAULT_FILENAME} is in the local mirror folder" in res.stdout
