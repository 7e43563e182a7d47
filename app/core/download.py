"""Step 2: get the installer onto the disk, verified.

Modelled on pip's ``network/download.py`` and rustup's ``download/mod.rs``: the bytes go
to ``<name>.part`` and are hashed (SHA-256, hashlib) as they arrive; a ``.part`` left by an
earlier run, or by a connection that dropped midway, is continued with an HTTP ``Range``
request; the file gets its final name (``os.replace``) only after its SHA-256 matched.
A partial download is therefore never mistaken for a complete one, and a cancelled
download keeps its ``.part`` for the next run.

Disk: the bytes still to come (the index's size, then each response's ``Content-Length``)
are checked against the free space of the download folder before anything is written
(``--skip-space-check`` turns the refusal into a warning). A disk that fills up anyway, or
a used-up quota, stops the download with its own message; the ``.part`` keeps its name.
A file of the same name in a folder the user chose is set aside as ``NAME.bak``, never
overwritten (in the wizard's own cache folder a stale file is simply replaced).

Speed: 1 MiB reads (``read1``, so a slow link still reports and checks cancel often) and
hashing on the fly; on loopback this runs near ``curl`` (see benchmarks/RESULTS.md).
Large files from a server that accepts byte ranges come over several connections
(:mod:`app.core.segments`, ``--connections``); measurements: docs/benchmarks.md, "Downloads".
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import deque
from pathlib import Path

import platformdirs
import requests
import urllib3

from app import APP_NAME
from app.i18n import N_, _
from app.core import disk_errors, net, segments
from app.core.catalog import InstallerChoice
from app.core.errors import Cancelled, DownloadError, HashMismatchError, Stage, UnverifiedInstallerError
from app.core.events import CancelToken, Progress, Reporter
from app.core.once import warn_once
from app.core.plan import InstallPlan
from app.core.units import format_bytes, format_duration

#: Bytes asked for per read, and per hash/write step.
CHUNK_SIZE = 1 << 20
#: At most one progress report per this many seconds (plus one at the end).
PROGRESS_INTERVAL = 0.1
#: How many times a dropped connection is resumed before giving up.
MAX_RESUMES = 4
#: Seconds over which the transfer rate is averaged.
RATE_WINDOW = 3.0

_NETWORK_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


def default_download_dir() -> Path:
    """``<user cache dir>/miniconda-wizard/downloads`` (platformdirs), e.g. ``~/.cache/miniconda-wizard/downloads``."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "downloads"


#: The first words of :attr:`Progress.text <app.core.events.Progress.text>` in each phase, so that a
#: listener can tell a re-hash of bytes already on the disk from the download itself.
_CHECKING_PART_TEXT = N_("Checking the partial download")
_CHECKING_FILE_TEXT = N_("Checking the SHA-256")
_DOWNLOADING_TEXT = N_("Downloaded")


def __getattr__(name: str) -> str:
    """``CHECKING_PART_TEXT``, ``CHECKING_FILE_TEXT`` and ``DOWNLOADING_TEXT`` in the language in force (the
    progress texts start with them in that language)."""
    texts = {"CHECKING_PART_TEXT": _CHECKING_PART_TEXT, "CHECKING_FILE_TEXT": _CHECKING_FILE_TEXT,
             "DOWNLOADING_TEXT": _DOWNLOADING_TEXT}
    if name in texts:
        return _(texts[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Meter:
    """Turns byte counts into throttled :class:`Progress` reports with a windowed rate.

    ``text`` is ``"<verb> 1.0 MiB of 11.3 MiB (9%), 2.0 MiB/s, 5 s left"`` (parts left out when
    unknown), ``verb`` one of :data:`DOWNLOADING_TEXT`, :data:`CHECKING_PART_TEXT`, :data:`CHECKING_FILE_TEXT`.
    """

    def __init__(self, reporter: Reporter | None, total: int | None, verb: str, start_done: int = 0) -> None:
        self.reporter = reporter
        self.total = total
        self.verb = verb
        self.samples: deque[tuple[float, int]] = deque([(time.monotonic(), start_done)])
        self.last_report = 0.0

    def update(self, done: int, force: bool = False, connections: int = 0, retries: int = 0) -> None:
        if self.reporter is None:
            return
        now = time.monotonic()
        if not force and now - self.last_report < PROGRESS_INTERVAL:
            return
        self.last_report = now
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW:
            self.samples.popleft()
        t0, d0 = self.samples[0]
        rate = (done - d0) / (now - t0) if now - t0 > 0.05 and done > d0 else None
        eta = (self.total - done) / rate if rate and self.total is not None and self.total >= done else None
        sep = " " if self.verb == _DOWNLOADING_TEXT else ": "
        text = f"{_(self.verb)}{sep}{format_bytes(done)}"
        if self.total is not None:
            text += _(" of {format_bytes}").format(format_bytes=format_bytes(self.total))
            if self.total > 0:
                text += _(" ({value:.0f}%)").format(value=100 * min(done, self.total) / self.total)
        if rate:
            text += _(", {format_bytes}/s").format(format_bytes=format_bytes(rate))
        if eta is not None and done < (self.total or 0):
            text += _(", {format_duration} left").format(format_duration=format_duration(eta))
        if connections > 1:
            text += _(", {connections} connections").format(connections=connections)
        if retries:
            text += _(", 1 retry") if retries == 1 else _(", {retries} retries").format(retries=retries)
        self.reporter.progress(Progress(Stage.DOWNLOAD, float(done), float(self.total) if self.total is not None
                                        else None, rate, eta, text, connections=connections, retries=retries))


def _hash_into(path: Path, hasher, cancel: CancelToken, reporter: Reporter | None, verb: str) -> int:
    """Feed the file at ``path`` into ``hasher`` in 1 MiB pieces; returns the byte count."""
    total = path.stat().st_size
    meter = _Meter(reporter, total, verb)
    done = 0
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(CHUNK_SIZE)
        view = memoryview(buf)
        while True:
            cancel.raise_if_cancelled()
            n = fh.readinto(buf)
            if not n:
                break
            hasher.update(view[:n])
            done += n
            meter.update(done)
    meter.update(done, force=True)
    return done


def sha256_file(path: Path, cancel: CancelToken, reporter: Reporter | None = None) -> str:
    """SHA-256 (lowercase hex) of a file, read in 1 MiB pieces.

    Args:
        path: the file.
        cancel: checked between pieces.
        reporter: gets ``Progress(Stage.DOWNLOAD, bytes done, bytes total, ...)`` if given.

    Raises:
        Cancelled; OSError when the file cannot be read.
    """
    h = hashlib.sha256()
    _hash_into(Path(path), h, cancel, reporter, _CHECKING_FILE_TEXT)
    return h.hexdigest()


def _mismatch(choice: InstallerChoice, expected: str, actual: str, what: str, local: bool) -> HashMismatchError:
    source = {"user": _("the SHA-256 you gave"), "index": _("the index"), "pinned": _("the pinned hash table"),
              "official-index": _("the official index")}.get(choice.hash_source or "", _("the expected value"))
    if local:
        fix = (_("Check that this is the installer you meant, download it again, or give its published "
               "SHA-256 (--sha256 in silent mode)."))
    else:
        fix = (_("The download is corrupt or was tampered with. Try again, or choose another mirror "
               "(--mirror in silent mode)."))
        if choice.hash_source == "official-index":
            fix += (_(" (The mirror may not have caught up with the newest installer yet: "
                    "the official mirror, or a versioned installer name, avoids that.)"))
    return HashMismatchError(
        _('The SHA-256 of {what} is {actual}, but {source} says {expected}.').format(what=what, actual=actual, source=source, expected=expected),
        fix=fix,
    )


def _disk_error(path: Path, exc: OSError, have: int | None = None) -> DownloadError:
    """A write/create failure: a used-up quota and a full disk get their own message and fix; a ``.part``
    that stays is named (it is kept, never renamed, so it is never taken for a complete file). ``have``: the
    bytes it really holds when that is not its length (a segmented ``.part`` is made full-size up front)."""
    kept = ""
    if path.name.endswith(".part") and path.is_file():
        have = path.stat().st_size if have is None else have
        kept = (_(" The partial download {name} ({format_bytes}) is kept and is continued by the next run; "
                  "delete it to get that space back.").format(name=path.name, format_bytes=format_bytes(have)))
    kind = disk_errors.classify(exc)
    if kind:
        what, fix = disk_errors.advice(kind, str(path.parent), _("--download-dir in silent mode"))
        return DownloadError(_('Could not write {path}: {what}{kept}').format(path=path, what=what, kept=kept), fix=fix, detail=repr(exc))
    return DownloadError(
        _('Could not write {path}: {reason}.{kept}').format(path=path, reason=exc.strerror or exc, kept=kept),
        fix=_('Check that you can write to that folder and that it has free space, or choose another download folder (--download-dir in silent mode).'),
        detail=repr(exc),
    )


def free_bytes(folder: Path) -> int:
    """Bytes free for this user on the disk of ``folder`` (``shutil.disk_usage``; a quota is not seen)."""
    return shutil.disk_usage(folder).free


def check_space_for(plan: InstallPlan, choice: InstallerChoice, reporter: Reporter) -> None:
    """The download step's free-space check, run before anything is written (``--dry-run`` calls it after
    the catalog step): ``choice.size`` less a ``.part`` already there must fit on the disk of the download
    folder (measured at its nearest existing folder when it is not made yet). Nothing to check for a
    local installer file or an unknown size.

    Raises:
        DownloadError: as :func:`_check_space`.
    """
    if choice.local_path is not None or not choice.size:
        return
    folder = Path(plan.download_dir).expanduser() if plan.download_dir else default_download_dir()
    part = folder / (choice.filename + ".part")
    have = part.stat().st_size if part.is_file() else 0
    anchor = next((p for p in (folder, *folder.parents) if p.is_dir()), None)
    if anchor is not None:
        _check_space(folder, choice.size - have, plan.skip_space_check, reporter, measure=anchor)


def _check_space(folder: Path, needed: int | None, skip: bool, reporter: Reporter, measure: Path | None = None) -> None:
    """Refuse to start (or continue) a download of ``needed`` more bytes that the disk of ``folder`` cannot hold
    (``measure``: the existing folder whose disk is asked, default ``folder``).

    Raises:
        DownloadError: not enough free space (unless ``skip``: then a warning).
    """
    if not needed or needed <= 0:
        return
    try:
        free = free_bytes(measure or folder)
    except OSError:
        return
    if free >= needed:
        return
    text = (_("The download needs {format_bytes} ({needed} bytes) more in {folder}, but only {format_bytes2} "
              "({free} bytes) is free there.").format(
              format_bytes=format_bytes(needed), needed=needed, folder=folder, format_bytes2=format_bytes(free),
              free=free))
    if skip:  # said once per folder and run: the check runs for the whole file and again for each body
        warn_once(reporter, f"download-space:{folder}", Stage.DOWNLOAD,
                  text + _(" Downloading anyway (the space check is skipped)."))
        return
    raise DownloadError(
        text,
        fix=_('Free at least {size} in {folder}, or choose another download folder (--download-dir in silent mode). If the free space shown is wrong (some network filesystems report 0), skip the check (--skip-space-check).').format(size=format_bytes(needed - free), folder=folder),
    )


def hash_installer_file(path: Path, cancel: CancelToken, reporter: Reporter, fix: str) -> str:
    """SHA-256 (hex) of an installer file already on disk (a local file, a share's copy), reported as the
    ``sha256`` info of the download step.

    Raises:
        DownloadError: the file cannot be read (``fix`` says where to look).
        Cancelled: ``cancel`` was set while hashing.
    """
    try:
        actual = sha256_file(path, cancel, reporter)
    except OSError as exc:
        raise DownloadError(_('Cannot read the installer file {path}: {reason}.').format(
            path=path, reason=exc.strerror or exc), fix=fix) from exc
    reporter.info(Stage.DOWNLOAD, "sha256", actual)
    return actual


def _open_part(path: Path, mode: str):
    """Open the ``.part`` file for writing (one place, so that tests can stand in for a failing disk)."""
    return open(path, mode)


def _fetch_local(plan: InstallPlan, choice: InstallerChoice, reporter: Reporter, cancel: CancelToken) -> Path:
    path = Path(choice.local_path).expanduser()  # type: ignore[arg-type]
    reporter.log(Stage.DOWNLOAD, _('Checking the local installer {path}').format(path=path))
    actual = hash_installer_file(path, cancel, reporter, fix=_(
        'Check that the local installer file you chose exists and is readable (--installer-file in silent mode).'))
    if choice.sha256:
        if actual != choice.sha256.lower():
            # The user's own file: reported, never deleted.
            raise _mismatch(choice, choice.sha256.lower(), actual, str(path), local=True)
        reporter.info(Stage.DOWNLOAD, "verified", True)
        reporter.log(Stage.DOWNLOAD, _('SHA-256 verified: {actual}').format(actual=actual))
    else:
        reporter.info(Stage.DOWNLOAD, "verified", False)
        reporter.log(Stage.DOWNLOAD, _('No published SHA-256 for {name}; using it unverified (SHA-256 {actual}).').format(name=path.name, actual=actual), "warning")
    return path


def check_available(plan: InstallPlan, choice: InstallerChoice, session: requests.Session, reporter: Reporter,
                    cancel: CancelToken) -> str:
    """``--dry-run``: the download step's checks that cost no download; nothing is written.

    * A local file (``--installer-file``): hashed and checked exactly as the real run checks it (against
      ``--sha256``, the ``SHA256SUMS`` beside it, or the pinned table; :func:`app.core.staging.verify_staged` /
      :func:`_fetch_local`): it is local, so this costs a read, not a download.
    * A local mirror folder (``file:///``): the file is there and readable.
    * A remote installer: one ranged ``GET`` of its first byte (``Range: bytes=0-0``; servers without ranges
      answer 200 and the body is not read): the file exists and the server and proxy answer, as the real
      download would find them. Skipped when a copy is already in the installer cache or the download folder
      (the real run then may not download at all).

    Not checked (said in the dry run's output and README): the SHA-256 of an installer still to be downloaded
    (only its bytes give it), the installer run itself, and the conda channels / PyPI of the env step.

    Returns:
        One sentence for the dry run's output: what was checked.

    Raises:
        HashMismatchError, DownloadError: as the real run's download step would raise them (same message,
            same exit code: 5, 4). Cancelled.
    """
    cancel.raise_if_cancelled()
    if choice.local_path is not None:
        from app.core import staging  # noqa: PLC0415 - staging imports this module lazily too

        path = Path(choice.local_path).expanduser()
        if choice.hash_source == "sha256sums" and choice.sha256:
            staging.verify_staged(path, choice.sha256, reporter, cancel)
        else:
            _fetch_local(plan, choice, reporter, cancel)
        if choice.sha256:
            return _("The local installer {path} was hashed: its SHA-256 is the expected one.").format(path=path)
        return _("The local installer {path} was read; no SHA-256 is known to check it against.").format(path=path)
    url = choice.url or ""
    if url.lower().startswith("file:"):
        from app.core.plan import local_mirror_path  # noqa: PLC0415

        source = local_mirror_path(url) or Path(url)
        try:
            with open(source, "rb"):
                pass
        except OSError as exc:
            raise DownloadError(_('Cannot read {source} in the local mirror folder: {reason}.').format(
                source=source, reason=exc.strerror or exc),
                fix=_('Check the mirror folder (--mirror in silent mode): it must hold the installer and be '
                      'readable for you.')) from exc
        return _("The installer {source} is in the local mirror folder (its SHA-256 is checked when the run "
                 "copies it).").format(source=source)
    folder = Path(plan.download_dir).expanduser() if plan.download_dir else default_download_dir()
    have = [folder / choice.filename]
    if plan.use_cache and choice.sha256:
        from app.core import cache  # noqa: PLC0415 - cache imports this module

        have.append(cache.cache_root() / choice.sha256.lower() / choice.filename)
    if any(p.is_file() for p in have):
        return _("A copy of {name} is already on this machine ({path}); the run checks its SHA-256 and downloads "
                 "only if it differs, so the server was not asked.").format(
            name=choice.filename, path=next(p for p in have if p.is_file()))
    try:
        resp = net.get(session, url, cancel, headers={"Range": "bytes=0-0", "Accept-Encoding": "identity"},
                       timeout=(net.CONNECT_TIMEOUT, net.READ_TIMEOUT))
    except _NETWORK_ERRORS as exc:
        raise DownloadError(
            _('Downloading {url} failed: {reason}.').format(url=url, reason=net.describe_error(exc)),
            fix=net.PROXY_AUTH_FIX if net.is_proxy_auth(exc) else
            _('Check the network connection and proxy settings (HTTPS_PROXY), then try again. Or choose another '
              'mirror (--mirror in silent mode).'),
            detail=str(exc)) from exc
    with resp:
        if resp.status_code >= 400 and resp.status_code != 416:  # 416: an empty file; the real run says more
            raise _http_error(url, resp)
    return _("The server has {url} (asked for its first byte; its SHA-256 is checked after the real "
             "download).").format(url=url)


def fetch_installer(plan: InstallPlan, choice: InstallerChoice, session: requests.Session,
                    reporter: Reporter, cancel: CancelToken) -> Path:
    """Return the path of the installer, downloaded and verified (step 2 of the wizard).

    Local file: hashed (progress, cancel) and checked when a hash is known; returned in place.
    Remote: into ``plan.download_dir`` or :func:`default_download_dir`. A file already there with
    the right SHA-256 is reused. Otherwise the bytes stream into ``<filename>.part`` (an existing
    ``.part`` is resumed with ``Range``; a connection that drops is resumed up to
    :data:`MAX_RESUMES` times), the byte count is checked against ``Content-Length``, the SHA-256
    against ``choice.sha256``, and only then the file is renamed to its final name.

    Progress: ``Progress(Stage.DOWNLOAD, bytes done, bytes total|None, bytes/s|None, eta s|None, text)``,
    at most every :data:`PROGRESS_INTERVAL` s.

    Raises:
        UnverifiedInstallerError: no SHA-256 is known and ``plan.allow_unverified`` is false
            (raised before anything is downloaded).
        HashMismatchError: the file's SHA-256 differs (the ``.part`` is deleted).
        DownloadError: HTTP error status, the connection failed too often, the byte count is wrong,
            too little free space in the download folder (checked before writing; the message names the
            folder and the bytes needed), or the disk could not be written (a full disk and a used-up
            quota are named as such; the ``.part`` is kept).
        Cancelled: on cancel (within ~0.1 s); the ``.part`` stays for a later resume.
    """
    cancel.raise_if_cancelled()
    if choice.local_path is not None:
        return _fetch_local(plan, choice, reporter, cancel)
    if not choice.url:
        raise DownloadError(_('No download address is known for {filename}.').format(filename=choice.filename),
                            fix=_('Choose an installer from the index, or use a local installer file (--installer-file in silent mode).'))
    expected = choice.sha256.lower() if choice.sha256 else None
    if expected is None:
        if not plan.allow_unverified:
            raise UnverifiedInstallerError(
                _('No SHA-256 is published for {filename}, so the download could not be verified.').format(filename=choice.filename),
                fix=_('Give the expected SHA-256 (--sha256 in silent mode; the official page https://repo.anaconda.com/miniconda/ publishes it), or allow unverified installers (--allow-unverified).'),
            )
        reporter.log(Stage.DOWNLOAD, _('No SHA-256 is known for {filename}; it will NOT be verified (unverified installers are allowed: --allow-unverified).').format(filename=choice.filename), "warning")

    folder = Path(plan.download_dir).expanduser() if plan.download_dir else default_download_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(folder, exc) from exc
    final = folder / choice.filename
    part = folder / (choice.filename + ".part")
    if choice.size:
        have = part.stat().st_size if part.is_file() else 0
        _check_space(folder, choice.size - have, plan.skip_space_check, reporter)

    # A file of that name in a folder the user chose (not our cache) is theirs: never overwritten, set aside.
    theirs = os.path.lexists(final) and folder.resolve() != default_download_dir().resolve()
    if final.is_file() and expected is not None:
        reporter.log(Stage.DOWNLOAD, _('Found {final}; checking whether it can be reused.').format(final=final))
        try:
            actual = sha256_file(final, cancel, reporter)
        except OSError:
            actual = None
        if actual == expected:
            reporter.log(Stage.DOWNLOAD, _('Reusing the already downloaded {final} (SHA-256 verified).').format(final=final))
            reporter.info(Stage.DOWNLOAD, "sha256", actual)
            reporter.info(Stage.DOWNLOAD, "verified", True)
            reporter.info(Stage.DOWNLOAD, "reused", True)
            return final
        reporter.log(Stage.DOWNLOAD, _('{final} does not have the expected SHA-256; downloading it again.').format(final=final))

    if choice.url.lower().startswith("file:"):  # a local mirror folder (catalog.list_folder): a verified copy
        return _copy_from_folder(choice, final, part, expected, reporter, cancel, theirs)
    resumed_from_old_part = part.is_file() and part.stat().st_size > 0
    hasher, size = _fetch_remote(choice.url, part, session, reporter, cancel, choice.size, plan)
    actual = hasher.hexdigest()
    if expected is not None and actual != expected and resumed_from_old_part:
        # The .part came from an earlier run: the file on the server may have changed since
        # ("latest" moves). Start once more from zero before calling it a mismatch.
        reporter.log(Stage.DOWNLOAD, _('The resumed download does not match; the old partial file may be from another version. Downloading again from the start.'), "warning")
        _remove(part)
        hasher, size = _fetch_remote(choice.url, part, session, reporter, cancel, choice.size, plan)
        actual = hasher.hexdigest()
    reporter.info(Stage.DOWNLOAD, "sha256", actual)
    if expected is not None and actual != expected:
        _remove(part)
        raise _mismatch(choice, expected, actual, choice.filename, local=False)
    path = _put_in_place(part, final, theirs, reporter, expected, actual, size, keep_part=True)
    segments.remove_state(part)
    return path


def _fetch_remote(url: str, part: Path, session: requests.Session, reporter: Reporter, cancel: CancelToken,
                  size_hint: int | None, plan: InstallPlan):
    """Fill ``part`` with the file at ``url``; returns ``(sha256 hasher, bytes)``.

    Segmented (:mod:`app.core.segments`) when a sidecar of an earlier segmented run is there, or when more than one
    connection is allowed (``plan.connections``, default :data:`segments.DEFAULT_CONNECTIONS`), the index gives a
    size of at least :data:`segments.MIN_SEGMENTED_SIZE` and no one-stream ``.part`` waits to be continued; the
    SHA-256 is then computed over the whole file once it is complete. Otherwise, or when the server ignores
    ``Range``, or when the first request fails before anything is written: one stream (:func:`_download`).

    Raises:
        DownloadError, Cancelled: as :func:`fetch_installer`.
    """
    connections = plan.connections or segments.DEFAULT_CONNECTIONS
    stall = float(plan.stall_timeout or net.READ_TIMEOUT)
    has_state = segments.state_path(part).is_file()
    if has_state or (connections > 1 and size_hint and size_hint >= segments.MIN_SEGMENTED_SIZE
                     and not (part.is_file() and part.stat().st_size > 0)):
        meter = _Meter(reporter, size_hint, _DOWNLOADING_TEXT)
        started = {}

        def on_progress(done: int, total: int, conns: int, retries: int) -> None:
            if not started:
                started["yes"] = True
                reporter.info(Stage.DOWNLOAD, "url", url)
                reporter.info(Stage.DOWNLOAD, "size", total)
            meter.total = total
            meter.update(done, force=conns == 0, connections=conns, retries=retries)

        try:
            complete = segments.download(url, part, session, reporter, cancel, size_hint or 0, connections, stall,
                                         on_progress)
        except segments._HttpError as exc:
            raise _http_error(url, exc.response) from None
        except _NETWORK_ERRORS as exc:
            if has_state:
                raise DownloadError(
                    _('Downloading {url} failed: {reason}. The partial download {name} is kept and is continued by the next run.').format(url=url, reason=net.describe_error(exc), name=part.name),
                    fix=_('Check the network connection and proxy settings (HTTPS_PROXY), then try again; or choose another mirror (--mirror in silent mode).'),
                    detail=str(exc)) from exc
            reporter.log(Stage.DOWNLOAD, _('The first request failed ({reason}); trying one stream.').format(reason=net.describe_error(exc)), "warning")
            complete = False
        except OSError as exc:
            if getattr(exc, "_disk", False):
                state = segments.load_state(part, url)
                have = sum(seg.next - seg.start for seg in state["segments"]) if state else None
                raise _disk_error(part, exc, have) from exc
            raise
        if complete:
            hasher = hashlib.sha256()
            try:
                size = _hash_into(part, hasher, cancel, reporter, _CHECKING_FILE_TEXT)
            except OSError as exc:
                raise _disk_error(part, exc) from exc
            return hasher, size
        if not has_state:
            reporter.log(Stage.DOWNLOAD, _('The server does not send parts of the file; downloading in one stream.'))
    return _download(url, part, session, reporter, cancel, size_hint, plan.skip_space_check, stall)


def _put_in_place(part: Path, final: Path, theirs: bool, reporter: Reporter, expected: str | None, actual: str,
                  size: int, keep_part: bool) -> Path:
    """Rename the checked ``part`` to ``final`` and report it. A file of that name that is the user's
    (``theirs``: a folder the user chose) is set aside as ``NAME.bak`` first, never overwritten.

    Raises:
        DownloadError: the rename failed (disk full, quota, permissions); ``part`` is kept for a resume when
            ``keep_part``, else removed.
    """
    try:
        if theirs and os.path.lexists(final):
            backup = free_name(final.with_name(final.name + ".bak"))
            os.replace(final, backup)
            reporter.log(Stage.DOWNLOAD, _('{final} was already there with other content; it is kept as {backup}.').format(final=final, backup=backup),
                         "warning")
        os.replace(part, final)
    except OSError as exc:
        if not keep_part:
            _remove(part)
        raise _disk_error(final, exc) from exc
    reporter.info(Stage.DOWNLOAD, "verified", expected is not None)
    reporter.info(Stage.DOWNLOAD, "path", str(final))
    if expected is not None:
        reporter.log(Stage.DOWNLOAD, _('SHA-256 verified: {actual}').format(actual=actual))
    reporter.log(Stage.DOWNLOAD, _('Saved {final} ({size}).').format(final=final, size=format_bytes(size)))
    return final


def free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2`` ... : the first name that is not taken."""
    candidate, n = path, 0
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def _copy_from_folder(choice: InstallerChoice, final: Path, part: Path, expected: str | None, reporter: Reporter,
                      cancel: CancelToken, theirs: bool = False) -> Path:
    """"Download" from a local mirror folder (a ``file:///`` URL from :func:`app.core.catalog.list_folder`):
    copy into ``part`` in 1 MiB pieces, hashing as it goes (progress, cancel), check the SHA-256, then
    rename to ``final``. The mirror's file is never changed; a mismatch or failure leaves no ``.part``.

    Raises:
        HashMismatchError, DownloadError (the mirror file cannot be read, the copy cannot be written), Cancelled.
    """
    from app.core.plan import local_mirror_path

    source = local_mirror_path(choice.url or "") or Path(choice.url or "")
    if os.path.lexists(final) and os.path.realpath(final) == os.path.realpath(source):
        # the download folder is the mirror folder: use the mirror's own file, never copy over or set it aside
        actual = sha256_file(source, cancel, reporter)
        reporter.info(Stage.DOWNLOAD, "sha256", actual)
        if expected is not None and actual != expected:
            raise _mismatch(choice, expected, actual, str(source), local=False)
        reporter.info(Stage.DOWNLOAD, "verified", expected is not None)
        reporter.info(Stage.DOWNLOAD, "path", str(final))
        reporter.log(Stage.DOWNLOAD, _('Using {final} in place: the download folder is the mirror folder.').format(final=final))
        return final
    reporter.log(Stage.DOWNLOAD, _('Copying {source} from the local mirror folder.').format(source=source))
    hasher = hashlib.sha256()
    try:
        total = source.stat().st_size
    except OSError as exc:
        raise DownloadError(_('Cannot read {source} in the mirror folder: {reason}.').format(source=source, reason=exc.strerror or exc),
                            fix=_('Check the mirror folder (--mirror) and its permissions.')) from exc
    meter = _Meter(reporter, total, _DOWNLOADING_TEXT)
    done = 0
    try:
        with open(source, "rb") as src:
            try:
                with open(part, "wb") as dst:
                    while True:
                        cancel.raise_if_cancelled()
                        chunk = src.read(CHUNK_SIZE)
                        if not chunk:
                            break
                        hasher.update(chunk)
                        dst.write(chunk)
                        done += len(chunk)
                        meter.update(done)
            except OSError as exc:
                _remove(part)
                raise _disk_error(part, exc) from exc
    except Cancelled:
        _remove(part)
        raise
    except OSError as exc:
        _remove(part)
        raise DownloadError(_('Cannot read {source} in the mirror folder: {reason}.').format(source=source, reason=exc.strerror or exc),
                            fix=_('Check the mirror folder (--mirror) and its permissions.')) from exc
    meter.update(done, force=True)
    actual = hasher.hexdigest()
    reporter.info(Stage.DOWNLOAD, "sha256", actual)
    if expected is not None and actual != expected:
        _remove(part)
        raise _mismatch(choice, expected, actual, str(source), local=False)
    return _put_in_place(part, final, theirs, reporter, expected, actual, done, keep_part=False)


def _remove(path: Path) -> None:
    if path.name.endswith(".part"):
        segments.remove_state(path)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


def _http_error(url: str, resp: requests.Response) -> DownloadError:
    if resp.status_code == 407:
        return DownloadError(_('Downloading {url} failed: {proxy_auth_reason}.').format(url=url, proxy_auth_reason=net.PROXY_AUTH_REASON), fix=net.PROXY_AUTH_FIX)
    reason = f" {resp.reason}" if resp.reason else ""
    return DownloadError(
        _('Downloading {url} failed: the server answered HTTP {status_code}{reason}.').format(url=url, status_code=resp.status_code, reason=reason),
        fix=_('Choose another installer or another mirror (--mirror in silent mode).')
        if resp.status_code in (403, 404, 410)
        else _('The mirror may be busy or down: try again later, or choose another mirror (--mirror in silent mode).'),
    )


def _content_range(resp: requests.Response) -> tuple[int, int | None] | None:
    """``Content-Range: bytes START-END/TOTAL`` -> ``(START, TOTAL or None)``."""
    value = resp.headers.get("Content-Range", "")
    unit, _sep, rest = value.strip().partition(" ")
    if unit.lower() != "bytes" or "-" not in rest:
        return None
    span, _sep, total = rest.partition("/")
    start = span.split("-", 1)[0].strip()
    if not start.isdigit():
        return None
    return int(start), int(total) if total.strip().isdigit() else None


def _download(url: str, part: Path, session: requests.Session, reporter: Reporter, cancel: CancelToken,
              size_hint: int | None, skip_space_check: bool = False, stall_timeout: float = net.READ_TIMEOUT):
    """Fill ``part`` with the whole body of ``url`` in one stream; returns ``(sha256 hasher, bytes)``.

    Stall detector: nothing for ``stall_timeout`` s (the read timeout), or less than
    :data:`segments.STALL_MIN_RATE` bytes/s over ``stall_timeout`` s, counts as a dropped connection
    (resumed with ``Range``, at most :data:`MAX_RESUMES` times; each retry logged as ``retry N/M: ...``).

    Before each body is written, the bytes still to come (``Content-Length``) are checked against the free
    space of the folder (:func:`_check_space`)."""
    hasher = hashlib.sha256()
    offset = 0
    if part.is_file() and part.stat().st_size > 0:
        reporter.log(Stage.DOWNLOAD, _('Found a partial download ({size}); checking it before resuming.').format(size=format_bytes(part.stat().st_size)))
        try:
            offset = _hash_into(part, hasher, cancel, reporter, _CHECKING_PART_TEXT)
        except OSError as exc:
            raise _disk_error(part, exc) from exc

    failures = 0
    total: int | None = None
    meter: _Meter | None = None
    while True:
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = net.get(session, url, cancel, headers=headers, timeout=(net.CONNECT_TIMEOUT, stall_timeout))
        except _NETWORK_ERRORS as exc:
            failures += 1
            if failures > MAX_RESUMES or net.is_proxy_auth(exc):
                raise DownloadError(
                    _('Downloading {url} failed: {reason}.').format(url=url, reason=net.describe_error(exc)),
                    fix=net.PROXY_AUTH_FIX + _(" The partial download is kept and will be continued.")
                    if net.is_proxy_auth(exc) else
                    _('Check the network connection and proxy settings (HTTPS_PROXY), then try again; the partial download is kept and will be continued. Or choose another mirror (--mirror in silent mode).'),
                    detail=str(exc),
                ) from exc
            reporter.log(Stage.DOWNLOAD, _('retry {failures}/{max_resumes}: Request failed ({reason}); retrying.').format(failures=failures, max_resumes=MAX_RESUMES, reason=net.describe_error(exc)), "warning")
            reporter.info(Stage.DOWNLOAD, "retries", failures)
            if cancel.wait(min(0.5 * 2 ** (failures - 1), 4.0)):
                raise Cancelled(_("cancelled by the user")) from None
            continue
        with resp:
            status = resp.status_code
            if offset and status == 416:
                # Our .part is already as long as the file (or longer): check what the server says.
                cr = resp.headers.get("Content-Range", "")
                full = int(cr.rsplit("/", 1)[-1]) if cr.rsplit("/", 1)[-1].strip().isdigit() else None
                if full == offset:
                    reporter.log(Stage.DOWNLOAD, _('The partial download is already complete.'))
                    return hasher, offset
                reporter.log(Stage.DOWNLOAD, _('The partial download is longer than the file; starting over.'),
                             "warning")
                hasher, offset, meter = hashlib.sha256(), 0, None
                _truncate(part)
                continue
            if status >= 400:
                raise _http_error(url, resp)
            if offset and status == 206:
                cr = _content_range(resp)
                if cr is None or cr[0] != offset:
                    reporter.log(Stage.DOWNLOAD, _('The server sent another byte range than asked; starting over.'),
                                 "warning")
                    hasher, offset, meter = hashlib.sha256(), 0, None
                    _truncate(part)
                    continue
                if cr[1] is not None:
                    total = cr[1]
            elif offset:
                # 200 (or anything but 206) to a Range request: the whole file comes again.
                reporter.log(Stage.DOWNLOAD, _('The server does not resume downloads (HTTP {status}); starting over.').format(status=status),
                             "warning")
                hasher, offset, meter = hashlib.sha256(), 0, None
            encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
            length = resp.headers.get("Content-Length")
            body_len = int(length) if length and length.isdigit() and not encoded else None
            if status != 206 or total is None:
                total = offset + body_len if body_len is not None else (total or size_hint)
            if meter is None:
                meter = _Meter(reporter, total, _DOWNLOADING_TEXT, offset)
                reporter.info(Stage.DOWNLOAD, "url", url)
                if total is not None:
                    reporter.info(Stage.DOWNLOAD, "size", total)
            else:
                meter.total = total
            if body_len is not None:
                _check_space(part.parent, body_len, skip_space_check, reporter)
            try:
                fh = _open_part(part, "ab" if offset else "wb")
            except OSError as exc:
                raise _disk_error(part, exc) from exc
            got = 0
            window_start, window_got = time.monotonic(), 0
            error: BaseException | None = None
            write_error: OSError | None = None
            try:
                with fh:
                    try:
                        for chunk in net.iter_body(resp, cancel, CHUNK_SIZE):
                            try:
                                fh.write(chunk)
                            except OSError as exc:  # disk full, quota, I/O error: stop, close, then report
                                write_error = exc
                                break
                            hasher.update(chunk)
                            got += len(chunk)
                            meter.update(offset + got, connections=1, retries=failures)
                            now = time.monotonic()
                            if now - window_start >= stall_timeout:
                                if got - window_got < segments.STALL_MIN_RATE * (now - window_start):
                                    error = TimeoutError(
                                        _('the connection stalled ({size} in {value:.0f} s, under {size2}/s)').format(size=format_bytes(got - window_got), value=now - window_start, size2=format_bytes(segments.STALL_MIN_RATE)))
                                    break
                                window_start, window_got = now, got
                    except _NETWORK_ERRORS as exc:
                        error = exc
                    except OSError as exc:  # socket errors not wrapped by urllib3
                        error = exc
                    if write_error is None:
                        fh.flush()
                        os.fsync(fh.fileno())
            except OSError as exc:  # flush, fsync or close failed
                write_error = write_error or exc
            if write_error is not None:
                # The .part keeps its name (never renamed, so never taken for a complete file).
                raise _disk_error(part, write_error) from write_error
            offset += got
            if error is None and body_len is not None and got < body_len:
                error = ConnectionError(_('the connection closed after {got} of {body_len} bytes').format(got=got, body_len=body_len))
            if error is None:
                if body_len is not None and got > body_len:
                    _remove(part)
                    raise DownloadError(
                        _('Downloading {url} failed: the server sent {got} bytes but announced {body_len}.').format(url=url, got=got, body_len=body_len),
                        fix=_('Try again, or choose another mirror (--mirror in silent mode).'),
                    )
                meter.update(offset, force=True)
                return hasher, offset
        # The body stopped early: resume from where it stopped.
        if encoded:
            # Our byte count is of decoded bytes; a Range on the encoded stream would not line up.
            hasher, offset, meter = hashlib.sha256(), 0, None
            _truncate(part)
        failures += 1
        if failures > MAX_RESUMES:
            raise DownloadError(
                _('Downloading {url} failed: {reason} (after {max_resumes} resumes, {size} kept).').format(url=url, reason=net.describe_error(error), max_resumes=MAX_RESUMES, size=format_bytes(offset)),
                fix=_('Check the network connection and try again; the partial download is kept and will be continued. Or choose another mirror (--mirror in silent mode).'),
                detail=str(error),
            )
        reporter.log(Stage.DOWNLOAD, _('retry {failures}/{max_resumes}: The connection dropped after {size} ({reason}); resuming.').format(failures=failures, max_resumes=MAX_RESUMES, size=format_bytes(offset), reason=net.describe_error(error)),
                     "warning")
        reporter.info(Stage.DOWNLOAD, "retries", failures)
        if cancel.wait(min(0.25 * 2 ** (failures - 1), 4.0)):
            raise Cancelled(_("cancelled by the user"))


def _truncate(part: Path) -> None:
    try:
        with open(part, "wb"):
            pass
    except OSError as exc:
        raise _disk_error(part, exc) from exc
