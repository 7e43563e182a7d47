"""``--mirror auto``: probe every named mirror in parallel and pick the fastest that has the installer.

Each mirror of the table (:mod:`app.core.mirrors`; ``MINICONDA_WIZARD_MIRRORS`` substitutes rows in tests)
gets one small ranged GET of the same installer file (``Range: bytes=0-65535``, :data:`PROBE_BYTES`),
all at once, each with a short timeout. A mirror *has the file* when it answers 206 (or 200: a server
that ignores ``Range``; only the first 64 KiB are read), the body is the bytes asked for, it is not an
HTML page (a captive portal or an error page), and the file's full size (``Content-Range`` total or
``Content-Length``) is what most mirrors report: a mirror that lags holds another file under a
``latest`` name. Among those, the one whose 64 KiB arrived soonest (connect included) wins.

The probed file is the plan's installer, else ``Miniconda3-latest-<platform>.<ext>`` (every mirror carries
it; when glibc rules that one out, the catalog later picks an older file from the *chosen* mirror's index:
the probe measures the server, not the file). The result sets ``plan.mirror`` to the chosen name before
anything is downloaded, so every later part of the run (installer, conda channels, pip, PyTorch wheels)
follows it (:func:`app.core.mirrors.sources`).

Threads: one per mirror, each with its own ``requests.Session``; cancel (the caller's token, or the
overall deadline) ends them all within a second (:func:`app.core.net.get` / :func:`app.core.net.iter_body`).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.core import mirrors
from app.core.lazy import lazy_module
from app.core.errors import Cancelled, CatalogError, Stage
from app.core.events import CancelToken, Reporter
from app.core.platform_info import EXTENSIONS, PlatformInfo
from app.i18n import _

# imported on first use: the wizard's first page reads AUTO and is_auto before anything is downloaded (issue 9)
requests, urllib3, net = lazy_module("requests"), lazy_module("urllib3"), lazy_module("app.core.net")

#: The ``--mirror`` value that probes the mirrors.
AUTO = "auto"
#: Bytes asked for per mirror (``Range: bytes=0-65535``).
PROBE_BYTES = 64 << 10
#: (connect, read) seconds per probe.
PROBE_TIMEOUT = (3.0, 5.0)
#: Seconds after which the probes still running are stopped (and count as "too slow").
PROBE_DEADLINE = 8.0
#: A file smaller than this is not a Miniconda installer (they are 50-150 MB).
MIN_INSTALLER_BYTES = 1 << 20

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def is_auto(mirror: str | None) -> bool:
    """Whether ``mirror`` (``plan.mirror``) asks for the probe."""
    return (mirror or "").strip().lower() == AUTO


@dataclass(frozen=True)
class ProbeResult:
    """One mirror's answer.

    Attributes:
        name: the mirror's name in the table (``tuna``); title: its display name (``TUNA``).
        url: the file probed.
        ok: the mirror has the file (see the module docstring).
        status: the HTTP status, or ``None`` when no answer came.
        seconds: from the request to the last probe byte (connect included), or ``None``.
        received: body bytes read.
        total: the file's full size in bytes as the mirror states it, or ``None``.
        error: why ``ok`` is False (a sentence), else ``None``.
    """

    name: str
    title: str
    url: str
    ok: bool
    status: int | None = None
    seconds: float | None = None
    received: int = 0
    total: int | None = None
    error: str | None = None

    @property
    def speed(self) -> float | None:
        """Bytes per second of the probe (``received / seconds``), or ``None``."""
        return self.received / self.seconds if self.seconds and self.received else None

    def describe(self) -> str:
        """``"tuna: 206, 64 KiB in 0.21 s (305 KiB/s), file 98.4 MiB"`` or ``"ustc: no answer (...)"``."""
        from app.core.units import format_bytes  # noqa: PLC0415 - small helper

        if self.ok:
            speed = _(" ({format_bytes}/s)").format(format_bytes=format_bytes(int(self.speed))) if self.speed else ""
            size = _(", file {format_bytes}").format(format_bytes=format_bytes(self.total)) if self.total else ""
            return _("{name}: HTTP {status}, {format_bytes} in {seconds:.2f} s{speed}{size}").format(
                     name=self.name, status=self.status, format_bytes=format_bytes(self.received),
                     seconds=self.seconds, speed=speed, size=size)
        return f"{self.name}: {self.error}"


def probe_file_name(plan) -> str:
    """The file every mirror is asked for: ``plan.installer``, else ``Miniconda3-latest-<tag>.<ext>``."""
    if plan.installer:
        return plan.installer.strip()
    platform: PlatformInfo = plan.platform
    if getattr(plan, "distribution", "miniconda") == "miniforge":  # issue 7: Miniforge3-<tag>.<ext>
        from app.core import distributions  # noqa: PLC0415

        return distributions.MINIFORGE.default_filename(platform) or ""
    ext = (EXTENSIONS.get(platform.os) or (".sh",))[0]
    return f"Miniconda3-latest-{platform.tag}{ext}"


def candidates() -> dict[str, tuple[str, str]]:
    """Mirror name -> ``(title, installer folder URL)`` of every row of the mirror table, in table order."""
    return {n: (m.title, m.installer) for n, m in mirrors.load().items()}


def _session() -> requests.Session:
    # no retries: a probe measures one try; a mirror that needs retries is not the fastest
    return net.make_session(retry=net.make_retry(total=0, connect=0, read=0, status=0, backoff_factor=0))


def probe_one(name: str, title: str, url: str, cancel: CancelToken, *,
              timeout: tuple[float, float] = PROBE_TIMEOUT,
              session_factory: Callable[[], requests.Session] = _session) -> ProbeResult:
    """One ranged GET of ``url`` (see the module docstring). Never raises but :class:`Cancelled`
    when ``cancel`` was set from outside; network errors become ``ok=False`` with a reason."""
    start = time.monotonic()
    with session_factory() as session:
        try:
            resp = net.get(session, url, cancel, timeout=timeout,
                           headers={"Range": f"bytes=0-{PROBE_BYTES - 1}", "Accept-Encoding": "identity"})
        except Cancelled:
            return ProbeResult(name, title, url, False, error=_("too slow: stopped at the probe deadline"))
        except requests.RequestException as exc:
            return ProbeResult(name, title, url, False, error=_("no answer ({describe_error})").format(
                                                                describe_error=net.describe_error(exc)))
        with resp:
            status = resp.status_code
            if status not in (200, 206):
                what = _("does not have the file") if status in (403, 404, 410) else _("answered an error")
                return ProbeResult(name, title, url, False, status, error=_("{what} (HTTP {status})").format(
                                                                            what=what, status=status))
            if "html" in resp.headers.get("Content-Type", "").lower():
                return ProbeResult(name, title, url, False, status,
                                   error=_("answered a web page, not the installer (HTTP {status}, {content_type})").format(
                                           status=status, content_type=resp.headers.get("Content-Type")))
            total: int | None = None
            if status == 206:
                m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
                if not m or int(m.group(1)) != 0:
                    return ProbeResult(name, title, url, False, status,
                                       error=_("answered another byte range than the one asked for "
                                               "(Content-Range {content_range!r})").format(
                                               content_range=resp.headers.get("Content-Range")))
                total = int(m.group(3)) if m.group(3) != "*" else None
            elif (length := resp.headers.get("Content-Length", "")).isdigit():
                total = int(length)
            want = min(PROBE_BYTES, total) if total is not None else PROBE_BYTES
            received = 0
            try:
                for chunk in net.iter_body(resp, cancel, PROBE_BYTES):
                    received += len(chunk)
                    if received >= want:
                        break
            except Cancelled:
                return ProbeResult(name, title, url, False, status, received=received, total=total,
                                   error=_("too slow: stopped at the probe deadline"))
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                return ProbeResult(name, title, url, False, status, received=received, total=total,
                                   error=_("the connection broke after {received} bytes ({__name__})").format(
                                           received=received, __name__=exc.__class__.__name__))
            seconds = time.monotonic() - start
    if received < want:
        return ProbeResult(name, title, url, False, status, seconds, received, total,
                           error=_("sent {received} bytes instead of {want}").format(received=received, want=want))
    if total is not None and total < MIN_INSTALLER_BYTES:
        return ProbeResult(name, title, url, False, status, seconds, received, total,
                           error=_("the file is only {total} bytes: not an installer").format(total=total))
    return ProbeResult(name, title, url, True, status, seconds, received, total)


def probe_all(filename: str, cancel: CancelToken, *, mirror_urls: dict[str, tuple[str, str]] | None = None,
              timeout: tuple[float, float] = PROBE_TIMEOUT, deadline: float = PROBE_DEADLINE) -> list[ProbeResult]:
    """Probe ``filename`` on every mirror at once; the results best first (:func:`rank`).

    Args:
        filename: the installer file name (:func:`probe_file_name`).
        cancel: the caller's token; cancel stops every probe within a second and raises.
        mirror_urls: name -> (title, installer folder URL); default :func:`candidates`.
        timeout: (connect, read) seconds per probe.
        deadline: seconds after which the probes still running are stopped ("too slow").

    Raises:
        Cancelled: ``cancel`` was set.
    """
    rows = mirror_urls if mirror_urls is not None else candidates()
    inner = CancelToken()
    results: dict[str, ProbeResult] = {}
    lock = threading.Lock()

    def run(name: str, title: str, base: str) -> None:
        url = base if base.endswith("/") else base + "/"
        res = probe_one(name, title, url + filename, inner, timeout=timeout)
        with lock:
            results[name] = res

    pool = ThreadPoolExecutor(max_workers=max(1, len(rows)), thread_name_prefix="mirror-probe")
    try:
        futures = [pool.submit(run, n, t, u) for n, (t, u) in rows.items()]
        end = time.monotonic() + deadline
        while not all(f.done() for f in futures):
            if cancel.cancelled or time.monotonic() > end:
                inner.cancel()
            if cancel.wait(0.05):
                inner.cancel()
    finally:
        pool.shutdown(wait=True)
    cancel.raise_if_cancelled()
    return rank([results[n] for n in rows if n in results])


def rank(results: list[ProbeResult]) -> list[ProbeResult]:
    """Mark a mirror whose file size differs from the size most mirrors report as not having the file
    (ties: the official mirror's size, else the larger group), then sort: mirrors with the file first,
    fastest first; the others after, in their given order."""
    sizes = Counter(r.total for r in results if r.ok and r.total is not None)
    if len(sizes) > 1:
        official = next((r.total for r in results if r.ok and r.name == "official" and r.total is not None), None)
        top = max(sizes.values())
        common = [s for s, n in sizes.items() if n == top]
        size = official if official in common else common[0]
        results = [r if not r.ok or r.total in (None, size) else
                   ProbeResult(r.name, r.title, r.url, False, r.status, r.seconds, r.received, r.total,
                               _("has another file under this name ({total} bytes; most mirrors have "
                                 "{size}): it may not be up to date").format(total=r.total, size=size))
                   for r in results]
    good = sorted((r for r in results if r.ok), key=lambda r: r.seconds or 0.0)
    return good + [r for r in results if not r.ok]


def table_lines(results: list[ProbeResult]) -> list[str]:
    """One log line per mirror, best first, the chosen one marked."""
    return [("* " if i == 0 and r.ok else "  ") + r.describe() for i, r in enumerate(results)]


def resolve_auto(plan, reporter: Reporter, cancel: CancelToken, *,
                 mirror_urls: dict[str, tuple[str, str]] | None = None,
                 timeout: tuple[float, float] = PROBE_TIMEOUT, deadline: float = PROBE_DEADLINE) -> list[ProbeResult]:
    """For ``plan.mirror == "auto"``: probe, log the table, and set ``plan.mirror`` to the fastest mirror
    that has the file. Does nothing (returns ``[]``) for any other mirror.

    Returns:
        The probe results, best first.

    Raises:
        CatalogError: no mirror has the file (the message lists each mirror's answer).
        Cancelled: on cancel.
    """
    if not is_auto(plan.mirror):
        return []
    filename = probe_file_name(plan)
    rows = mirror_urls if mirror_urls is not None else candidates()
    reporter.log(Stage.CATALOG, _("--mirror auto: asking {count} mirrors ({names}) for the first "
                                  "{probe_bytes} KiB of {filename} at once.").format(
                                  count=len(rows), names=', '.join(rows), probe_bytes=PROBE_BYTES >> 10,
                                  filename=filename))
    results = probe_all(filename, cancel, mirror_urls=rows, timeout=timeout, deadline=deadline)
    for line in table_lines(results):
        reporter.log(Stage.CATALOG, line)
    best = results[0] if results and results[0].ok else None
    if best is None:
        raise CatalogError(
            _("No mirror has {filename}: ").format(filename=filename) + "; ".join(r.describe() for r in results) + ".",
            fix=_("Check the network connection (behind a proxy, set HTTPS_PROXY and HTTP_PROXY), or name a "
                  "mirror (--mirror {rows}) or a mirror URL instead of auto.").format(rows=' / '.join(rows)),
        )
    plan.mirror = best.name
    reporter.log(Stage.CATALOG, _("Chosen mirror: {name} ({title}), the fastest that has {filename}; it "
                                  "applies to everything this run downloads.").format(
                                  name=best.name, title=best.title, filename=filename))
    reporter.info(Stage.CATALOG, "mirror", best.name)
    return results
