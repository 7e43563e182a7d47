"""Segmented download: one large file over N HTTP connections, each segment written in place.

Modelled on aria2c's ``-x N -s N`` (split the file into N byte ranges, one connection each) with the
safety of :mod:`app.core.download`:

* the bytes go into ``NAME.part`` (made full-size, sparse, with ``ftruncate``); each connection writes its
  segment at its own offset (``os.pwrite``); the file keeps the ``.part`` name until its SHA-256 (over the
  whole file, computed by the caller) matched;
* the progress of each segment is kept in a sidecar ``NAME.part.segments`` (JSON: URL, size, validator,
  ``[start, end, next]`` per segment), written about once a second and whenever the download stops, after
  an ``fsync`` of the ``.part``; a later run resumes every segment where it stopped. A sidecar that claims
  more than the disk got (a crash between the two) costs at most a hash mismatch, after which the caller
  downloads the file again from zero;
* stall detector: a connection that brings less than :data:`STALL_MIN_RATE` bytes/s over ``stall_timeout``
  seconds (or nothing: the socket's read timeout is ``stall_timeout``) is closed and its segment resumed on
  a new one; every retry is logged (``retry 2/4: segment 3 ...``) and counted in
  :attr:`Progress.retries <app.core.events.Progress.retries>`; after :data:`MAX_RETRIES` the download stops
  with :class:`~app.core.errors.DownloadError` (exit 4), keeping the ``.part`` and the sidecar;
* cancel: every connection's socket is shut down within 0.1 s (:func:`app.core.net.iter_body`), all
  threads are joined, the state is saved, then :class:`~app.core.errors.Cancelled` is raised.

A server that answers the first ranged request with ``200`` (it ignores ``Range``) gets :func:`download`
returning ``None``: the caller falls back to one stream.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import requests
import urllib3

from app.i18n import _
from app.core import net
from app.core.errors import Cancelled, DownloadError, Stage
from app.core.events import CancelToken, Reporter
from app.core.units import format_bytes

#: Connections when ``--connections`` is not given. Measured: docs/benchmarks.md, "Downloads" (8 connections
#: reach aria2c -x8 on a link limited per connection; more gain little and load the mirror).
DEFAULT_CONNECTIONS = 8
#: The most connections ``--connections`` accepts.
MAX_CONNECTIONS = 16
#: Files at least this large (bytes) are fetched in segments; smaller ones in one stream.
MIN_SEGMENTED_SIZE = 8 << 20
#: No segment smaller than this (bytes): a 10 MiB file gets at most 10 segments.
MIN_SEGMENT = 1 << 20
#: Bytes asked for per socket read (``read1`` returns what has arrived, up to this). 256 KiB keeps the peak RSS
#: of 16 connections under 100 MB (docs/benchmarks.md) at no loss of speed.
CHUNK_SIZE = 256 << 10
#: A connection that brings less than this many bytes/s, averaged over the stall timeout, is stalled.
STALL_MIN_RATE = 1024
#: Reconnects (stalls, dropped connections, failed requests) per download before giving up.
MAX_RETRIES = 4
#: Seconds between two saves of the sidecar while the download runs.
SAVE_INTERVAL = 1.0
#: Suffix of the sidecar next to ``NAME.part``.
STATE_SUFFIX = ".segments"

_NETWORK_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)

#: ``os.pwrite`` (one place, so that a test can stand in for a disk that fills up).
_pwrite: Callable[[int, bytes, int], int] = os.pwrite


def state_path(part: Path) -> Path:
    """The sidecar of ``part``: ``NAME.part.segments``."""
    return part.with_name(part.name + STATE_SUFFIX)


@dataclass
class Segment:
    """Bytes ``start..end`` (inclusive) of the file; ``next`` is the first byte not yet written."""

    start: int
    end: int
    next: int

    @property
    def left(self) -> int:
        return self.end + 1 - self.next


def plan_segments(size: int, connections: int) -> list[Segment]:
    """``size`` bytes cut into ``min(connections, size // MIN_SEGMENT)`` (at least 1) near-equal segments."""
    n = max(1, min(connections, size // MIN_SEGMENT))
    bounds = [size * i // n for i in range(n + 1)]
    return [Segment(bounds[i], bounds[i + 1] - 1, bounds[i]) for i in range(n)]


def load_state(part: Path, url: str) -> dict[str, Any] | None:
    """The sidecar of ``part`` when it is whole and fits (same URL, the ``.part`` as long as the file), else ``None``."""
    try:
        data = json.loads(state_path(part).read_text(encoding="utf-8"))
        segs = [Segment(int(a), int(b), int(c)) for a, b, c in data["segments"]]
        size = int(data["size"])
        if data.get("url") != url or part.stat().st_size != size:
            return None
        if segs[0].start != 0 or segs[-1].end != size - 1 or any(not s.start <= s.next <= s.end + 1 for s in segs):
            return None
        if any(a.end + 1 != b.start for a, b in zip(segs, segs[1:])):
            return None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return {"size": size, "validator": data.get("validator"), "segments": segs}


def save_state(part: Path, url: str, size: int, validator: str | None, segs: list[Segment]) -> None:
    """Write the sidecar atomically (temporary file + ``os.replace``). Errors are left to the caller."""
    path = state_path(part)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": 1, "url": url, "size": size, "validator": validator,
                               "segments": [[s.start, s.end, s.next] for s in segs]}), encoding="utf-8")
    os.replace(tmp, path)


def remove_state(part: Path) -> None:
    """Delete the sidecar of ``part`` (and a leftover temporary one), if any."""
    for path in (state_path(part), state_path(part).with_name(state_path(part).name + ".tmp")):
        try:
            path.unlink()
        except OSError:
            pass


def _content_range(resp: requests.Response) -> tuple[int, int, int | None] | None:
    """``Content-Range: bytes START-END/TOTAL`` -> ``(START, END, TOTAL or None)``."""
    unit, _sep, rest = resp.headers.get("Content-Range", "").strip().partition(" ")
    span, _sep, total = rest.partition("/")
    a, _sep, b = span.partition("-")
    if unit.lower() != "bytes" or not a.strip().isdigit() or not b.strip().isdigit():
        return None
    return int(a), int(b), int(total) if total.strip().isdigit() else None


def _validator(resp: requests.Response) -> str | None:
    return resp.headers.get("ETag") or resp.headers.get("Last-Modified")


class _Stop(Exception):
    """A worker's reason to stop the whole download (kept for the coordinator)."""


class _Run:
    """One segmented download in progress: the shared state of the worker threads."""

    def __init__(self, url: str, part: Path, fd: int, segs: list[Segment], session: requests.Session,
                 reporter: Reporter, cancel: CancelToken, stall_timeout: float, size: int) -> None:
        self.url, self.part, self.fd, self.segs = url, part, fd, segs
        self.session, self.reporter, self.cancel = session, reporter, cancel
        self.stall_timeout = stall_timeout
        self.size = size
        self.stop = CancelToken()  # the user's cancel, a fatal error, or giving up
        self.lock = threading.Lock()
        self.retries = 0
        self.active = 0
        self.error: BaseException | None = None  # the first fatal one
        self.queue = [i for i, s in enumerate(segs) if s.left > 0]

    # ---- shared bookkeeping -------------------------------------------------------------------
    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc
        self.stop.cancel()

    def take(self) -> int | None:
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def retry(self, index: int, reason: str) -> bool:
        """Count one retry of segment ``index``; log it; ``False`` when the limit is reached (the caller stops)."""
        with self.lock:
            self.retries += 1
            n = self.retries
        seg = self.segs[index]
        if n > MAX_RETRIES:
            self.fail(DownloadError(
                _('Downloading {url} failed: {reason} (segment {value} of {count}, after {max_retries} retries). The partial download {name} ({size} of {size2}) is kept and is continued by the next run.').format(url=self.url, reason=reason, value=index + 1, count=len(self.segs), max_retries=MAX_RETRIES, name=self.part.name, size=format_bytes(self.done()), size2=format_bytes(self.size)),
                fix=_('Check the network connection and try again, or choose another mirror (--mirror in silent mode); a slow but working link may need a longer stall timeout (--stall-timeout) or fewer connections (--connections).'),
                detail=reason,
            ))
            return False
        self.reporter.log(Stage.DOWNLOAD, _('retry {n}/{max_retries}: segment {value} of {count}: {reason}; resuming at byte {next} ({size} left in it).').format(n=n, max_retries=MAX_RETRIES, value=index + 1, count=len(self.segs), reason=reason, next=seg.next, size=format_bytes(seg.left)), "warning")
        self.reporter.info(Stage.DOWNLOAD, "retries", n)
        return True

    def done(self) -> int:
        return sum(s.next - s.start for s in self.segs)

    # ---- one connection -----------------------------------------------------------------------
    def worker(self, first: tuple[int, requests.Response] | None) -> None:
        try:
            if first is not None:
                self.fetch(first[0], first[1])
            while not self.stop.cancelled:
                index = self.take()
                if index is None:
                    return
                self.fetch(index, None)
        except BaseException as exc:  # noqa: BLE001 - handed to the coordinator
            self.fail(exc)

    def fetch(self, index: int, resp: requests.Response | None) -> None:
        """Bring segment ``index`` to its end, reconnecting on drops and stalls."""
        seg = self.segs[index]
        while seg.left > 0 and not self.stop.cancelled:
            reason = None
            try:
                if resp is None:
                    resp = net.get(self.session, self.url, self.stop, timeout=(net.CONNECT_TIMEOUT, self.stall_timeout),
                                   headers={"Accept-Encoding": "identity", "Range": f"bytes={seg.next}-{seg.end}"})
                with resp:
                    cr = _content_range(resp)
                    if resp.status_code >= 400:
                        raise _Stop(resp.status_code)
                    if resp.status_code != 206 or cr is None or cr[0] != seg.next or cr[2] not in (None, self.size):
                        raise DownloadError(
                            _('Downloading {url} failed: the server stopped answering byte ranges as asked (HTTP {status_code}, Content-Range {get!r} for bytes {next}-{end}); the file may have changed on the mirror.').format(url=self.url, status_code=resp.status_code, get=resp.headers.get('Content-Range'), next=seg.next, end=seg.end),
                            fix=_('Try again (the download then starts over), or choose another mirror (--mirror in silent mode), or use one connection (--connections 1).'))
                    reason = self.read(seg, resp)
            except Cancelled:
                return
            except _Stop as stop:
                code = stop.args[0]
                if code in (429, 500, 502, 503, 504):  # urllib3 already retried these; count one more try
                    reason = _("the server answered HTTP {code}").format(code=code)
                else:
                    raise DownloadError(_('Downloading {url} failed: the server answered HTTP {code} for a byte range of the file.').format(url=self.url, code=code),
                                        fix=_('Choose another installer or another mirror (--mirror in silent mode).'))
            except _NETWORK_ERRORS as exc:
                if self.stop.cancelled:
                    return
                reason = net.describe_error(exc)
            except OSError as exc:
                if self.stop.cancelled:
                    return
                if getattr(exc, "_disk", False):
                    raise
                reason = net.describe_error(exc)
            resp = None
            if seg.left > 0 and reason is not None and not self.stop.cancelled:
                if not self.retry(index, reason):
                    return
                if self.stop.wait(min(0.25 * 2 ** (self.retries - 1), 4.0)):
                    return

    def read(self, seg: Segment, resp: requests.Response) -> str | None:
        """Write the body at ``seg.next`` onwards; the reason it stopped early (``None``: the segment is done)."""
        with self.lock:
            self.active += 1
        try:
            window_start, window_bytes = time.monotonic(), 0
            for chunk in net.iter_body(resp, self.stop, CHUNK_SIZE):
                take = min(len(chunk), seg.left)
                if take <= 0:
                    break
                view = memoryview(chunk)[:take]
                off = seg.next
                while view:
                    try:
                        n = _pwrite(self.fd, view, off)
                    except OSError as exc:
                        exc._disk = True  # type: ignore[attr-defined]
                        raise
                    view, off = view[n:], off + n
                seg.next += take
                window_bytes += take
                now = time.monotonic()
                if now - window_start >= self.stall_timeout:
                    if window_bytes < STALL_MIN_RATE * (now - window_start):
                        return (_("the connection stalled ({format_bytes} in {now:.0f} s, under "
                                  "{format_bytes2}/s)").format(
                                  format_bytes=format_bytes(window_bytes), now=now - window_start,
                                  format_bytes2=format_bytes(STALL_MIN_RATE)))
                    window_start, window_bytes = now, 0
            if seg.left > 0:
                return _("the connection closed with {format_bytes} of the segment left").format(
                         format_bytes=format_bytes(seg.left))
            return None
        finally:
            with self.lock:
                self.active -= 1


def download(url: str, part: Path, session: requests.Session, reporter: Reporter, cancel: CancelToken,
             size: int, connections: int, stall_timeout: float,
             on_progress: Callable[[int, int, int, int], None]) -> bool:
    """Fill ``part`` (``size`` bytes) over up to ``connections`` connections. ``True`` when complete;
    ``False`` when the server ignores ``Range`` (nothing written; the caller falls back to one stream).

    Args:
        size: the file's size in bytes (from the index); a different size in the server's
            ``Content-Range`` wins.
        on_progress: ``(bytes done, bytes in all, connections open, retries so far)``, called about 10 times a second
            from this thread.

    Raises:
        DownloadError: an HTTP error status, too many retries, the server changed its answers, or the disk
            could not be written (``OSError`` with ``_disk`` set, for the caller to name; the ``.part`` and
            sidecar are kept).
        Cancelled: on cancel; every connection is closed and the state saved first.
    """
    state = load_state(part, url)
    if state is None:
        remove_state(part)
        segs = plan_segments(size, connections)
        validator = None
    else:
        size, validator, segs = state["size"], state["validator"], state["segments"]
        reporter.log(Stage.DOWNLOAD, _('Resuming the segmented download of {name}: {size} of {size2} already there, in {count} segments.').format(name=part.name, size=format_bytes(sum(s.next - s.start for s in segs)), size2=format_bytes(size), count=len(segs)))
    pending = [i for i, s in enumerate(segs) if s.left > 0]
    first: tuple[int, requests.Response] | None = None
    if pending:
        # The first request probes: a 206 with our range says the server takes ranges (and gives the size).
        resp = _ranged_get(session, url, cancel, stall_timeout, segs[pending[0]])
        cr = _content_range(resp)
        if resp.status_code == 206 and cr is not None and cr[2] is not None and cr[0] == segs[pending[0]].next \
                and (cr[2] != size or (validator and _validator(resp) not in (None, validator))):
            # Another size than the index said, or the file changed since the sidecar: plan again from zero.
            resp.close()
            if state is not None:
                reporter.log(Stage.DOWNLOAD, _('The file on the server changed since the partial download; starting it over.'), "warning")
            size, validator, state = cr[2], _validator(resp), None
            segs = plan_segments(size, connections)
            pending = list(range(len(segs)))
            resp = _ranged_get(session, url, cancel, stall_timeout, segs[0])
            cr = _content_range(resp)
        if resp.status_code != 206 or cr is None or cr[2] != size or cr[0] != segs[pending[0]].next:
            resp.close()
            if resp.status_code >= 400:
                raise _HttpError(resp)
            # The server ignores Range (200): one stream; a sparse .part of an earlier run is useless to it.
            remove_state(part)
            if state is not None:
                _unlink(part)
            return False
        validator = validator or _validator(resp)
        first = (pending[0], resp)
    try:
        fd = os.open(part, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as exc:
        if first is not None:
            first[1].close()
        exc._disk = True  # type: ignore[attr-defined]
        raise
    try:
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)  # sparse: the free-space check ran before
        except OSError as exc:
            if first is not None:
                first[1].close()
            exc._disk = True  # type: ignore[attr-defined]
            raise
        run = _Run(url, part, fd, segs, session, reporter, cancel, stall_timeout, size)
        if first is not None:
            run.queue.remove(first[0])
        count = min(connections, len(pending))
        if pending:
            reporter.log(Stage.DOWNLOAD, _('Downloading {size} in {count} segments over {count2} connections.').format(size=format_bytes(sum(segs[i].left for i in pending)), count=len(pending), count2=count))
        threads = [threading.Thread(target=run.worker, args=(first if k == 0 else None,),
                                    name=f"dl-segment-{k + 1}", daemon=True) for k in range(count)]
        try:
            save_state(part, url, size, validator, segs)
            for t in threads:
                t.start()
            last_save = time.monotonic()
            while any(t.is_alive() for t in threads):
                if cancel.wait(0.1) or run.stop.cancelled:
                    break
                on_progress(run.done(), size, run.active, run.retries)
                if time.monotonic() - last_save >= SAVE_INTERVAL:
                    _checkpoint(fd, part, url, size, validator, segs)
                    last_save = time.monotonic()
        finally:
            if any(t.is_alive() for t in threads):  # cancel, a fatal error, or an error of this thread
                run.stop.cancel()
            for t in threads:
                if t.ident is not None:
                    t.join()
            if run.stop.cancelled or cancel.cancelled:
                # Close the pool too: a finished segment's keep-alive connection waits there, and a request that
                # was still connecting closes when it comes back. requests keeps the session usable (new pools).
                session.close()
        on_progress(run.done(), size, 0, run.retries)
        _checkpoint(fd, part, url, size, validator, segs)
        if run.error is not None and not cancel.cancelled:
            raise run.error
        if cancel.cancelled or any(s.left for s in segs):
            raise Cancelled(_("cancelled by the user"))
    finally:
        os.close(fd)
    return True


def _ranged_get(session: requests.Session, url: str, cancel: CancelToken, stall_timeout: float,
                seg: Segment) -> requests.Response:
    return net.get(session, url, cancel, timeout=(net.CONNECT_TIMEOUT, stall_timeout),
                   headers={"Accept-Encoding": "identity", "Range": f"bytes={seg.next}-{seg.end}"})


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _checkpoint(fd: int, part: Path, url: str, size: int, validator: str | None, segs: list[Segment]) -> None:
    """``fsync`` the ``.part``, then record the segments (so the record never claims bytes the disk lacks)."""
    snapshot = [Segment(s.start, s.end, s.next) for s in segs]
    try:
        os.fsync(fd)
        save_state(part, url, size, validator, snapshot)
    except OSError as exc:
        exc._disk = True  # type: ignore[attr-defined]
        raise


class _HttpError(Exception):
    """The probe got an HTTP error status (the caller turns ``response`` into its DownloadError)."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response
