"""A cache of verified installers keyed by SHA-256, shared by every run, prefix and download folder.

Layout: ``<user cache dir>/miniconda-wizard/cache/<sha256>/<file name>`` (platformdirs; on Linux
``~/.cache/miniconda-wizard/cache``, on Windows ``%LOCALAPPDATA%\\miniconda-wizard\\Cache\\cache``, on macOS
``~/Library/Caches/miniconda-wizard/cache``). Deleting the folder at any time is safe: it only holds copies.

Guarantees:

* Only a file whose SHA-256 matched the expected one goes in, and only under its own hash; it arrives
  under a temporary ``.tmp`` name in the same folder and gets its name with ``os.replace``, so the cache
  never holds a partial file under a real name. Where the file system allows, the entry is a hard link
  to the verified download (no second copy on the disk), else a copy.
* Nothing is trusted by its name: a hit is hashed again before it is used, and an entry whose bytes no
  longer match its key is removed (it is the cache's own file) and downloaded again.
* The cache stays under :data:`MAX_BYTES`: after each new entry the least recently used entries (by
  modification time, refreshed on each reuse) are removed. ``--no-cache`` (``plan.use_cache = False``)
  neither reads nor writes it.
* The cache never fails a run: a cache that cannot be read or written is logged as a warning and the
  installer is downloaded as usual.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import platformdirs
import requests

from app import APP_NAME
from app.i18n import _
from app.core import download
from app.core.catalog import InstallerChoice
from app.core.errors import Cancelled, DownloadError, HashMismatchError, Stage
from app.core.events import CancelToken, Reporter
from app.core.plan import InstallPlan
from app.core.units import format_bytes

#: The cache's size bound in bytes (about 13 Linux installers of ~150 MB); least recently used entries go first.
MAX_BYTES = 2 * 1024 ** 3
#: A ``.tmp`` file older than this many seconds is a leftover of a run that died, and is removed by :func:`prune`.
STALE_TMP_SECONDS = 24 * 3600
_SHA_LEN = 64


def cache_root() -> Path:
    """``<user cache dir>/miniconda-wizard/cache`` (``platformdirs.user_cache_dir``), e.g. ``~/.cache/miniconda-wizard/cache``."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "cache"


def _is_key(name: str) -> bool:
    return len(name) == _SHA_LEN and all(c in "0123456789abcdef" for c in name)


def lookup(sha256: str, reporter: Reporter, cancel: CancelToken, name: str | None = None,
           root: Path | None = None) -> Path | None:
    """A cached file whose bytes hash to ``sha256``, hashed again now, or ``None``.

    ``name`` is tried first when given; any other file under the key has the same bytes (for example the
    ``latest`` name and the versioned name of one release). An entry that does not match is removed.

    Raises:
        Cancelled: while hashing (checked between 1 MiB pieces).
    """
    sha256 = sha256.lower()
    folder = (root or cache_root()) / sha256
    try:
        names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except OSError:
        return None
    if name in names:
        names.remove(name)
        names.insert(0, name)
    for candidate in names:
        path = folder / candidate
        if not path.is_file() or path.is_symlink():
            continue
        reporter.log(Stage.DOWNLOAD, _('Found {candidate} in the cache; checking its SHA-256.').format(candidate=candidate))
        try:
            actual = download.sha256_file(path, cancel, reporter)
        except OSError as exc:
            reporter.log(Stage.DOWNLOAD, _('Cannot read the cached {path}: {reason}; not using it.').format(path=path, reason=exc.strerror or exc),
                         "warning")
            continue
        if actual == sha256:
            try:
                os.utime(path)  # most recently used: pruned last
            except OSError:
                pass
            return path
        reporter.log(Stage.DOWNLOAD, _('The cached {path} has another SHA-256 ({actual}); removing it.').format(path=path, actual=actual), "warning")
        _unlink(path)
    return None


def store(path: Path, sha256: str, reporter: Reporter, root: Path | None = None,
          max_bytes: int = MAX_BYTES) -> Path | None:
    """Put the verified file ``path`` (its SHA-256 is ``sha256``) in the cache; returns the entry or ``None``.

    A hard link when possible, else a copy; atomic (``.tmp`` then ``os.replace``). Then :func:`prune`.
    Failures are logged as warnings, never raised.
    """
    root = root or cache_root()
    sha256 = sha256.lower()
    dest = root / sha256 / Path(path).name
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        if dest.is_file() and os.path.samefile(dest, path):
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        _unlink(tmp)
        try:
            os.link(path, tmp)
        except OSError:  # another disk, or a file system without hard links (FAT, some shares)
            shutil.copyfile(path, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        _unlink(tmp)
        reporter.log(Stage.DOWNLOAD, _('Could not keep a copy in the cache {root}: {reason}. The next run downloads the installer again.').format(root=root, reason=exc.strerror or exc), "warning")
        return None
    reporter.log(Stage.DOWNLOAD, _('Kept in the cache as {dest}.').format(dest=dest), "debug")
    prune(root, max_bytes, keep=dest.parent, reporter=reporter)
    return dest


def entries(root: Path | None = None) -> list[tuple[Path, int, float]]:
    """The cache's key folders as ``(folder, bytes, last use as a Unix time)``, least recently used first."""
    root = root or cache_root()
    out = []
    try:
        keys = [root / n for n in os.listdir(root) if _is_key(n)]
    except OSError:
        return []
    for folder in keys:
        size, used = 0, 0.0
        try:
            for entry in os.scandir(folder):
                if entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    size += st.st_size
                    used = max(used, st.st_mtime)
        except OSError:
            continue
        out.append((folder, size, used))
    return sorted(out, key=lambda e: e[2])


def prune(root: Path | None = None, max_bytes: int = MAX_BYTES, keep: Path | None = None,
          reporter: Reporter | None = None) -> list[Path]:
    """Remove the least recently used key folders until the cache holds at most ``max_bytes``
    (never ``keep``), and ``.tmp`` files older than :data:`STALE_TMP_SECONDS`. Returns the removed folders."""
    root = root or cache_root()
    now = time.time()
    for folder, _size, _used in entries(root):
        try:
            for entry in os.scandir(folder):
                if entry.name.endswith(".tmp") and now - entry.stat(follow_symlinks=False).st_mtime > STALE_TMP_SECONDS:
                    _unlink(Path(entry.path))
        except OSError:
            pass
    listed = entries(root)
    total = sum(size for _f, size, _u in listed)
    removed = []
    for folder, size, _used in listed:
        if total <= max_bytes:
            break
        if keep is not None and folder == keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            total -= size
            removed.append(folder)
            if reporter is not None:
                reporter.log(Stage.DOWNLOAD, _('Removed {name}… ({size}) from the cache to keep it under {size2}.').format(name=folder.name[:12], size=format_bytes(size), size2=format_bytes(max_bytes)), "debug")
    return removed


def fetch(plan: InstallPlan, choice: InstallerChoice, session: requests.Session, reporter: Reporter,
          cancel: CancelToken, root: Path | None = None) -> Path:
    """:func:`app.core.download.fetch_installer`, with the cache in front of it and behind it.

    Used when ``plan.use_cache`` and the expected SHA-256 is known and the installer is not a local file;
    otherwise this is ``fetch_installer`` itself. A verified hit is used without a download: in place when no
    download folder was given and it has the chosen name, else copied (hashed as it goes) to
    ``<plan.download_dir or the default download folder>/<file name>``, where a
    different file of that name is first set aside as ``NAME.bak``. The log says "Reused from cache". A miss
    downloads as usual and then keeps the verified file (:func:`store`).

    Returns:
        The verified installer's path.

    Raises:
        As ``fetch_installer``; DownloadError when the copy into the download folder cannot be written;
        HashMismatchError when the copy's bytes change on the way; Cancelled.
    """
    if not plan.use_cache or not choice.sha256 or choice.local_path is not None:
        return download.fetch_installer(plan, choice, session, reporter, cancel)
    sha256 = choice.sha256.lower()
    root = root or cache_root()
    hit = lookup(sha256, reporter, cancel, choice.filename, root)
    if hit is None:
        path = download.fetch_installer(plan, choice, session, reporter, cancel)
        store(path, sha256, reporter, root)
        return path
    if plan.download_dir is None and hit.name == choice.filename:
        return _reused(hit, hit, sha256, reporter, "")
    # the file is used under the chosen name (the pages and the installer step go by it)
    folder = Path(plan.download_dir).expanduser() if plan.download_dir else download.default_download_dir()
    dest = folder / choice.filename
    try:
        if dest.is_file() and os.path.samefile(dest, hit):
            return _reused(hit, dest, sha256, reporter, "")
        if dest.is_file() and dest.stat().st_size == hit.stat().st_size \
                and download.sha256_file(dest, cancel, reporter) == sha256:
            return _reused(hit, dest, sha256, reporter, _("; {dest} already holds the same bytes").format(dest=dest))
    except OSError:
        pass
    _copy_verified(hit, dest, sha256, reporter, cancel)
    return _reused(hit, dest, sha256, reporter, _(", copied to {dest}").format(dest=dest))


def _reused(hit: Path, path: Path, sha256: str, reporter: Reporter, where: str) -> Path:
    reporter.log(Stage.DOWNLOAD, _('Reused from cache: {hit}{where} (SHA-256 verified, nothing downloaded).').format(hit=hit, where=where))
    reporter.info(Stage.DOWNLOAD, "sha256", sha256)
    reporter.info(Stage.DOWNLOAD, "verified", True)
    reporter.info(Stage.DOWNLOAD, "reused", True)
    reporter.info(Stage.DOWNLOAD, "path", str(path))
    return path


def _copy_verified(src: Path, dest: Path, sha256: str, reporter: Reporter, cancel: CancelToken) -> None:
    """Copy ``src`` to ``dest`` through ``.dest.<pid>.tmp``, hashing the bytes written; a different file
    already at ``dest`` is set aside as ``NAME.bak`` (never overwritten)."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    hasher = hashlib.sha256()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while True:
                cancel.raise_if_cancelled()
                chunk = fin.read(download.CHUNK_SIZE)
                if not chunk:
                    break
                hasher.update(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        if hasher.hexdigest() != sha256:
            _unlink(tmp)
            raise HashMismatchError(_('The cached {src} changed while it was copied to {dest}.').format(src=src, dest=dest),
                                    fix=_('Run again; if it happens again, clear the cache folder {parent} or use --no-cache.').format(parent=src.parent.parent))
        if os.path.lexists(dest):
            backup = download.free_name(dest.with_name(dest.name + ".bak"))
            os.replace(dest, backup)
            reporter.log(Stage.DOWNLOAD, _('{dest} was already there with other content; it is kept as {backup}.').format(dest=dest, backup=backup),
                         "warning")
        os.replace(tmp, dest)
    except Cancelled:
        _unlink(tmp)
        raise
    except OSError as exc:
        _unlink(tmp)
        raise DownloadError(_('Could not copy the cached installer to {dest}: {reason}.').format(dest=dest, reason=exc.strerror or exc),
                            fix=_('Check that you can write to the download folder and that it has free space, or choose another one (--download-dir in silent mode).'), detail=repr(exc)) from exc


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
