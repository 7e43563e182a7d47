"""Issue 5, the installer cache keyed by SHA-256 (app.core.cache): reused across runs, prefixes and download
folders, re-hashed on every reuse, bounded in size, never holding a partial file. Real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from app.core import cache, download, net, pipeline
from app.core.catalog import InstallerChoice
from app.core.errors import HashMismatchError, Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import LocalServer

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
DATA = b"#!/bin/sh\n" + os.urandom((2 << 20) + 123)
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    (root / NAME).write_bytes(DATA)
    with LocalServer(root) as srv:
        yield srv


def gets(server) -> int:
    return sum(1 for method, path, _h in server.state.requests if method == "GET" and path.endswith(NAME))


def choice_for(server, sha: str = SHA) -> InstallerChoice:
    return InstallerChoice(NAME, server.url(NAME), None, sha, len(DATA), "index")


def plan_for(tmp_path: Path, sub: str | None, prefix: str = "miniconda3") -> InstallPlan:
    return InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / prefix,
                       download_dir=tmp_path / sub if sub else None)


def download_step(plan: InstallPlan, server, rec: RecordingReporter, sha: str = SHA) -> Path:
    state = pipeline.RunState()
    state.choice = choice_for(server, sha)
    state.session = net.make_session()
    pipeline.run_step(Stage.DOWNLOAD, plan, state, rec, CancelToken())
    return state.installer_path


def log_lines(rec: RecordingReporter, level: str | None = None) -> list[str]:
    return [line for _s, line, lv in rec.of("log") if level is None or lv == level]


def test_cache_folder_is_in_the_platform_cache_dir(isolated_home):
    assert cache.cache_root() == isolated_home / ".cache" / "miniconda-wizard" / "cache"


def test_a_second_run_with_another_prefix_and_folder_reuses_the_cache(tmp_path, server):
    first = download_step(plan_for(tmp_path, "dl-a", "prefix-a"), server, RecordingReporter())
    entry = cache.cache_root() / SHA / NAME
    assert first == tmp_path / "dl-a" / NAME and entry.read_bytes() == DATA
    assert os.path.samefile(first, entry)  # a hard link on the same disk: no second copy
    assert gets(server) == 1
    rec = RecordingReporter()
    second = download_step(plan_for(tmp_path, "dl-b", "prefix-b"), server, rec)
    assert gets(server) == 1  # nothing downloaded
    assert second == tmp_path / "dl-b" / NAME and second.read_bytes() == DATA
    assert f"Reused from cache: {entry}, copied to {second} (SHA-256 verified, nothing downloaded)." in log_lines(rec)
    assert (Stage.DOWNLOAD, "reused", True) in rec.of("info")
    assert not [p for p in (tmp_path / "dl-b").iterdir() if p.name != NAME]  # no temporary file left


def test_without_a_download_folder_the_cache_file_is_used_in_place(tmp_path, server):
    download_step(plan_for(tmp_path, "dl-a"), server, RecordingReporter())
    rec = RecordingReporter()
    path = download_step(plan_for(tmp_path, None), server, rec)
    assert path == cache.cache_root() / SHA / NAME and gets(server) == 1
    assert any(line.startswith("Reused from cache: ") for line in log_lines(rec))


def test_a_damaged_cache_entry_is_rehashed_removed_and_downloaded_again(tmp_path, server):
    cache.store(_file(tmp_path / "x" / NAME, DATA), SHA, RecordingReporter())
    entry = cache.cache_root() / SHA / NAME
    entry.write_bytes(DATA[:-1] + b"X")  # same name, other bytes: never trusted by its name
    rec = RecordingReporter()
    path = download_step(plan_for(tmp_path, "dl"), server, rec)
    assert path.read_bytes() == DATA and gets(server) == 1
    assert any(line.startswith(f"The cached {entry} has another SHA-256") for line in log_lines(rec, "warning"))
    assert entry.read_bytes() == DATA  # the fresh, verified download replaced it
    assert not any(line.startswith("Reused from cache") for line in log_lines(rec))


@pytest.mark.parametrize("sub", ["dl", None])
def test_the_same_bytes_under_another_name_are_reused_under_the_chosen_name(tmp_path, server, sub):
    cache.store(_file(tmp_path / "x" / "Miniconda3-latest-Linux-x86_64.sh", DATA), SHA, RecordingReporter())
    path = download_step(plan_for(tmp_path, sub), server, RecordingReporter())
    folder = tmp_path / sub if sub else download.default_download_dir()
    assert path == folder / NAME and path.read_bytes() == DATA and gets(server) == 0


def test_no_cache_neither_writes_nor_reads_it(tmp_path, server):
    plan = plan_for(tmp_path, "dl-a")
    plan.use_cache = False
    download_step(plan, server, RecordingReporter())
    assert not cache.cache_root().exists()  # not written
    download_step(plan_for(tmp_path, "dl-b"), server, RecordingReporter())  # with the cache: kept
    plan_c = plan_for(tmp_path, "dl-c")
    plan_c.use_cache = False
    rec = RecordingReporter()
    download_step(plan_c, server, rec)
    assert gets(server) == 3  # not read
    assert not any("from cache" in line or "in the cache" in line for line in log_lines(rec))


def test_a_failed_download_leaves_nothing_in_the_cache(tmp_path, server):
    with pytest.raises(HashMismatchError):
        download_step(plan_for(tmp_path, "dl"), server, RecordingReporter(), sha="0" * 64)
    assert not (cache.cache_root() / ("0" * 64)).exists() and not (cache.cache_root() / SHA).exists()


def test_a_different_file_in_the_download_folder_is_set_aside_not_overwritten(tmp_path, server):
    download_step(plan_for(tmp_path, "dl-a"), server, RecordingReporter())
    theirs = _file(tmp_path / "dl-b" / NAME, b"the user's own file")
    rec = RecordingReporter()
    path = download_step(plan_for(tmp_path, "dl-b"), server, rec)
    assert path.read_bytes() == DATA and gets(server) == 1
    assert (tmp_path / "dl-b" / (NAME + ".bak")).read_bytes() == b"the user's own file"
    assert theirs == path


def test_the_cache_is_bounded_least_recently_used_first(tmp_path):
    root = tmp_path / "cache"
    shas = []
    for i in range(3):
        data = bytes([i]) * 1000
        sha = hashlib.sha256(data).hexdigest()
        shas.append(sha)
        cache.store(_file(tmp_path / f"f{i}" / f"i{i}.sh", data), sha, RecordingReporter(), root=root, max_bytes=10**6)
        os.utime(root / sha / f"i{i}.sh", (time.time() - 100 + i, time.time() - 100 + i))
    # using the oldest makes it the most recent; the next store must then drop the middle one
    assert cache.lookup(shas[0], RecordingReporter(), CancelToken(), root=root) == root / shas[0] / "i0.sh"
    data = b"z" * 1000
    sha = hashlib.sha256(data).hexdigest()
    cache.store(_file(tmp_path / "f3" / "i3.sh", data), sha, RecordingReporter(), root=root, max_bytes=2500)
    assert sorted(p.name for p in root.iterdir()) == sorted([shas[0], sha])


def test_stale_temporary_files_are_removed_and_never_used(tmp_path):
    root = tmp_path / "cache"
    data = b"x" * 100
    sha = hashlib.sha256(data).hexdigest()
    stale = _file(root / sha / f".{NAME}.999.tmp", data[:50])
    os.utime(stale, (time.time() - 2 * cache.STALE_TMP_SECONDS,) * 2)
    assert cache.lookup(sha, RecordingReporter(), CancelToken(), root=root) is None  # a .tmp is never a hit
    cache.prune(root)
    assert not stale.exists()


def _file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
