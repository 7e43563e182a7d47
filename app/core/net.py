"""HTTP plumbing shared by the catalog and the downloader: one configured session, cancellable requests.

Why a custom adapter instead of ``truststore.inject_into_ssl()``: injecting replaces
``ssl.SSLContext`` for the whole process (every library, every thread). Passing a
``truststore.SSLContext`` into our own adapter's pool managers gives *our* requests
the operating system's trust store (so a corporate TLS-intercepting proxy whose root
CA is installed in Windows/macOS/Linux works) and touches nothing else. This is the
same approach pip takes (``pip._internal.network.session._SSLContextAdapterMixin``).
requests still adds its certifi bundle on top (``HTTPAdapter.cert_verify``), as pip does.

Retries: urllib3 :class:`~urllib3.util.Retry` retries connection failures, reads that
fail before the response starts and the statuses 429/500/502/503/504, for GET and HEAD
only, with exponential backoff (capped) and ``Retry-After`` (capped). It cannot resume
a body that drops midway; :mod:`app.core.download` does that itself with ``Range``.

Proxies: requests reads ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (and, on Windows
and macOS, the system proxy settings through :func:`urllib.request.getproxies`);
:func:`make_session` keeps that behaviour (``trust_env``). PAC/WPAD scripts are not
supported by requests.

Cancel: a blocking ``session.get`` can sit in ``connect()`` or a backoff sleep for many
seconds. :func:`get` therefore runs the request on a helper thread and returns to the
caller within 0.1 s of a cancel; :func:`iter_body` shuts the socket down from a watcher
thread on cancel, so even a stalled body read ends at once.
"""

from __future__ import annotations

import inspect
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import truststore
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from app import __version__
from app.core.errors import Cancelled
from app.core.events import CancelToken
from app.i18n import N_, _

#: Seconds to wait for a TCP/TLS connection to open.
CONNECT_TIMEOUT = 10.0
#: Seconds to wait for the next bytes of a response (headers or body) before giving up.
READ_TIMEOUT = 30.0
#: The ``timeout=`` every request of a :func:`make_session` session gets unless it passes its own.
TIMEOUT = (CONNECT_TIMEOUT, READ_TIMEOUT)
#: Identifies the wizard to mirror operators.
USER_AGENT = f"miniconda-wizard/{__version__}"
#: Statuses worth retrying: rate limited, or a server/gateway error that is often transient.
RETRY_STATUSES = (429, 500, 502, 503, 504)

#: Connections kept open per host: enough for a segmented download's 16 (``--connections``).
POOL_SIZE = 16

_POLL = 0.05  # seconds between cancel checks while waiting for a helper thread


def default_ssl_context() -> ssl.SSLContext:
    """An SSL context that verifies servers against the operating system's trust store (truststore)."""
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


#: Where :class:`ReportingRetry` finds the listener and the tries of the request on this thread (set by :func:`get`).
_tls = threading.local()


class ReportingRetry(Retry):
    """urllib3's :class:`~urllib3.util.Retry` that says each retry before it happens.

    After each successful :meth:`increment` (a retry will follow), the request's listener (the
    ``on_retry`` attribute of the session, through :func:`get`) gets a line such as
    ``"retry 2/2 of GET http://host/ after the server sent nothing for 30 s (61 s since the first try)"``,
    and the reason is kept so that the final error can say how many tries it took
    (:func:`describe_error`).
    """

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # noqa: D102
        if error is not None and _reason(error) == _(_PROXY_AUTH_REASON):
            # A proxy that wants a password answers 407 again on every try: no retry.
            raise MaxRetryError(_pool, url, error)
        new = super().increment(method, url, response, error, _pool, _stacktrace)  # raises when exhausted
        tries = getattr(_tls, "tries", None)
        if error is not None:
            reason = describe_error(error)
            kind = "connect" if isinstance(error, Exception) and self._is_connection_error(error) else "read"
        elif response is not None:
            reason = f"HTTP {response.status}"
            kind = "status"
        else:
            reason, kind = "a redirect", "redirect"
        if tries is not None:
            tries.append(reason)
        limit = min(x for x in (self.total, getattr(self, kind, None)) if isinstance(x, int))
        started = getattr(_tls, "started", None)
        since = _(" ({seconds:.0f} s since the first try)").format(seconds=time.monotonic() - started) if started is not None else ""
        if url and "://" not in url and _pool is not None:  # a path: the pool knows the host
            url = f"{_pool.scheme}://{_pool.host}:{_pool.port}{url}"
        where = f"{method or 'GET'} {url or '?'}"
        wait = new.get_backoff_time()
        line = (_("retry {attempt}/{limit} of {where} after {reason}{since}").format(
                  attempt=len(new.history), limit=len(self.history) + limit, where=where, reason=reason,
                  since=since)
                + (_("; waiting {wait:.1f} s").format(wait=wait) if wait else ""))
        listener = getattr(_tls, "listener", None)
        if listener is not None and kind != "redirect":
            try:
                listener(line)
            except Exception:  # noqa: BLE001 - a broken listener must not break the download
                pass
        return new


def make_retry(total: int = 5, connect: int = 3, read: int = 2, status: int = 3,
               backoff_factor: float = 0.5, backoff_max: float = 4.0) -> Retry:
    """The retry policy of :func:`make_session`.

    Backoff sleeps ``backoff_factor * 2**(n-1)`` seconds before the n-th retry (none before
    the first), at most ``backoff_max``; a ``Retry-After`` header is honoured up to 10 s.
    After the last status retry the final response is returned (not raised), so callers can
    report "HTTP 503" themselves.
    """
    kwargs: dict[str, Any] = dict(
        total=total,
        connect=connect,
        read=read,
        status=status,
        other=0,
        redirect=5,
        backoff_factor=backoff_factor,
        backoff_max=backoff_max,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    # ``retry_after_max`` appeared in urllib3 2.x; without it a server's "Retry-After: 3600" would be obeyed.
    if "retry_after_max" in inspect.signature(Retry.__init__).parameters:
        kwargs["retry_after_max"] = 10
    return ReportingRetry(**kwargs)


class TruststoreAdapter(HTTPAdapter):
    """An :class:`~requests.adapters.HTTPAdapter` whose connections (direct and through proxies)
    use a given SSL context, and whose requests default to :data:`TIMEOUT`.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        # Set before super().__init__, which calls init_poolmanager.
        self._ssl_context = ssl_context if ssl_context is not None else default_ssl_context()
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK,
                         **pool_kwargs: Any) -> None:
        pool_kwargs.setdefault("ssl_context", self._ssl_context)
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs.setdefault("ssl_context", self._ssl_context)
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # noqa: D102
        return super().send(request, stream=stream, timeout=TIMEOUT if timeout is None else timeout,
                            verify=verify, cert=cert, proxies=proxies)


def make_session(retry: Retry | None = None, ssl_context: ssl.SSLContext | None = None) -> requests.Session:
    """A :class:`requests.Session` for the index and the installer downloads.

    * http and https go through a :class:`TruststoreAdapter` (OS trust store, :func:`make_retry`);
    * every request times out after :data:`CONNECT_TIMEOUT` s to connect and :data:`READ_TIMEOUT` s
      without data, unless it passes ``timeout=``;
    * ``User-Agent: miniconda-wizard/<version>``;
    * proxies come from the environment / system settings, as requests does by default.

    Args:
        retry: another retry policy (tests pass ``make_retry(backoff_factor=0)``).
        ssl_context: another SSL context (default: :func:`default_ssl_context`).
    """
    session = requests.Session()
    adapter = TruststoreAdapter(ssl_context=ssl_context, max_retries=retry if retry is not None else make_retry(),
                                pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.trust_env = True
    return session


def get(session: requests.Session, url: str, cancel: CancelToken, *,
        headers: Mapping[str, str] | None = None, stream: bool = True,
        timeout: float | tuple[float, float] | None = None) -> requests.Response:
    """``session.get(url)`` that returns within 0.1 s of a cancel.

    The request runs on a daemon thread; on cancel this function raises at once and the
    thread closes its response whenever it arrives. Each retry is told to ``session.on_retry``
    (a ``Callable[[str], None]``, if the caller set one; see :class:`ReportingRetry`); an error
    raised after retries carries ``tries`` (the reason of each failed try but the last) and
    ``elapsed`` (seconds since the first try) for :func:`describe_error`.

    Returns:
        The response (status not checked; with ``stream=True`` the body is not read yet).

    Raises:
        Cancelled: the token was cancelled before the response headers arrived.
        requests.RequestException: whatever ``session.get`` raised.
    """
    cancel.raise_if_cancelled()
    box: dict[str, Any] = {}
    finished = threading.Event()
    lock = threading.Lock()

    def work() -> None:
        _tls.listener = getattr(session, "on_retry", None)
        _tls.tries = []
        _tls.started = time.monotonic()
        try:
            resp = session.get(url, headers=dict(headers or {}), stream=stream, timeout=timeout)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            try:
                exc.tries = list(_tls.tries)  # type: ignore[attr-defined]
                exc.elapsed = time.monotonic() - _tls.started  # type: ignore[attr-defined]
            except AttributeError:
                pass
            box["error"] = exc
        else:
            with lock:
                if box.get("abandoned"):
                    resp.close()
                    return
                box["response"] = resp
        finally:
            finished.set()

    threading.Thread(target=work, name="http-get", daemon=True).start()
    while not finished.wait(_POLL):
        if cancel.cancelled:
            with lock:
                box["abandoned"] = True
                late = box.pop("response", None)
            if late is not None:
                late.close()
            raise Cancelled(_("cancelled by the user"))
    if "error" in box:
        raise box["error"]
    return box["response"]


def _shutdown_socket(resp: requests.Response) -> None:
    """Shut down the socket under ``resp`` so that a read blocked in another thread returns."""
    raw = resp.raw
    sock = None
    conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    if conn is not None:
        sock = getattr(conn, "sock", None)
    if sock is None:
        # http.client.HTTPResponse.fp is a BufferedReader over socket.SocketIO (private attributes).
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is None:
        return
    try:
        # socket.socket.shutdown, not SSLSocket.shutdown: the latter drops the SSL object
        # that the reading thread is still using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def iter_body(resp: requests.Response, cancel: CancelToken, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Yield the body of a streamed response as it arrives, at most ``chunk_size`` bytes at a time.

    Unlike ``iter_content``, each read returns what the socket has (``read1``), so a slow
    link still yields often and cancel is checked between reads; a watcher thread shuts the
    socket down on cancel, so a stalled read ends too. Content-Encoding is decoded.

    Raises:
        Cancelled: the token was cancelled.
        urllib3.exceptions.HTTPError / OSError / requests.RequestException: the connection
            failed or closed before ``Content-Length`` bytes came (the caller may resume).
    """
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if cancel.wait(0.1):
                if not done.is_set():
                    _shutdown_socket(resp)
                return

    watcher = threading.Thread(target=watch, name="http-cancel-watch", daemon=True)
    watcher.start()
    try:
        while True:
            cancel.raise_if_cancelled()
            try:
                data = resp.raw.read1(chunk_size, decode_content=True)
            except Exception:
                if cancel.cancelled:
                    raise Cancelled(_("cancelled by the user")) from None
                raise
            if not data:
                cancel.raise_if_cancelled()
                return
            yield data
    finally:
        done.set()


#: A proxy answered HTTP 407 Proxy Authentication Required (RFC 9110 15.5.8): to the CONNECT of an https
#: URL (requests raises ProxyError "Tunnel connection failed: 407 ...") or to a plain-http request (a 407 response).
_PROXY_AUTH_REASON = N_("the proxy needs a user name and password (HTTP 407 Proxy Authentication Required)")
#: How to give them: requests reads them from the proxy URL in HTTPS_PROXY / HTTP_PROXY.
_PROXY_AUTH_FIX = N_("Give the proxy's user name and password in the proxy URL before starting the wizard, for example "
                  "HTTPS_PROXY=http://USER:PASSWORD@proxy.example.com:8080 and the same in HTTP_PROXY "
                  "(write special characters in the password as %XX, for example @ as %40). "
                  "Ask your IT department for the account if you do not have one.")


def __getattr__(name: str) -> str:
    """``PROXY_AUTH_REASON`` and ``PROXY_AUTH_FIX`` in the language in force (read as ``net.PROXY_AUTH_FIX``)."""
    if name == "PROXY_AUTH_REASON":
        return _(_PROXY_AUTH_REASON)
    if name == "PROXY_AUTH_FIX":
        return _(_PROXY_AUTH_FIX)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_proxy_auth(exc_or_status: BaseException | int) -> bool:
    """Whether an error (or an HTTP status) is a proxy's 407 "authentication required"."""
    if isinstance(exc_or_status, int):
        return exc_or_status == 407
    return _reason(exc_or_status) == _(_PROXY_AUTH_REASON)


def describe_error(exc: BaseException) -> str:
    """A short human reason for a requests/urllib3 failure ("connection refused", "timed out" ...).

    requests' own messages nest several exceptions ("HTTPSConnectionPool(...): Max retries
    exceeded ... Caused by NewConnectionError(...)"); the full text belongs in the log detail.
    When :func:`get` retried first, the reason ends with the real count and time, e.g.
    ``"the server sent nothing for 30 s (3 tries, 92 s in all)"``.
    """
    reason = _reason(exc)
    tries = getattr(exc, "tries", None)
    elapsed = getattr(exc, "elapsed", None)
    if tries and isinstance(elapsed, (int, float)):
        reason += _(" ({tries} tries, {elapsed:.0f} s in all)").format(tries=len(tries) + 1, elapsed=elapsed)
    return reason


def _reason(exc: BaseException) -> str:
    text = str(exc)
    low = text.lower()
    if "407" in text and ("proxy" in low or isinstance(exc, requests.exceptions.ProxyError)):
        return _(_PROXY_AUTH_REASON)
    if isinstance(exc, requests.exceptions.ProxyError) or "proxyerror" in low or "unable to connect to proxy" in low:
        return _("the proxy could not be reached or refused the connection")
    if isinstance(exc, requests.exceptions.SSLError) or "certificate verify failed" in low:
        return _("the TLS certificate could not be verified (is the network intercepting HTTPS?)")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _("no connection within {connect_timeout:.0f} s").format(connect_timeout=CONNECT_TIMEOUT)
    if isinstance(exc, requests.exceptions.ReadTimeout) or "read timed out" in low:
        m = re.search(r"read timeout=([0-9.]+)", text)
        seconds = float(m.group(1)) if m else READ_TIMEOUT
        return _("the server sent nothing for {seconds:g} s").format(seconds=seconds)
    if type(exc) in (ConnectionError, TimeoutError) and text.startswith("the connection "):
        return text  # the downloader's own words ("the connection stalled (...)")
    for needle, reason in (
        ("name or service not known", N_("the host name could not be resolved")),
        ("nodename nor servname", N_("the host name could not be resolved")),
        ("getaddrinfo failed", N_("the host name could not be resolved")),
        ("temporary failure in name resolution", N_("the host name could not be resolved")),
        ("connection refused", N_("the connection was refused")),
        ("network is unreachable", N_("the network is unreachable")),
        ("connection reset", N_("the connection was reset")),
        ("connection aborted", N_("the connection was aborted")),
        ("incompleteread", N_("the connection closed before the whole file came")),
        ("timed out", N_("the connection timed out")),
    ):
        if needle in low:
            return _(reason)
    return type(exc).__name__ + (f": {text}" if text else "")
