"""The proxy this run uses: read it (environment first, then the system setting), check it answers, hand it on.

Where it comes from, in the order of :func:`urllib.request.getproxies` (which requests, conda and pip follow):

* the environment: ``<scheme>_proxy`` variables, lowercase winning over uppercase, ``NO_PROXY`` as the bypass
  list (:func:`environment_proxies`, a copy of ``urllib.request.getproxies_environment``);
* else, on Windows, ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings``: ``ProxyEnable``
  (DWORD), ``ProxyServer`` (``host:port`` for every scheme, or ``http=h:p;https=h:p;socks=h:p``) and
  ``ProxyOverride`` (``;``-separated globs, ``<local>`` = host names without a dot). :func:`registry_proxies`
  copies the parsing of CPython 3.11's ``urllib.request.getproxies_registry``: one value without ``=`` or ``;``
  serves http, https and ftp; an address without ``scheme://`` gets ``http://`` (``socks://`` for socks), so
  Clash's ``127.0.0.1:7890`` is ``http://127.0.0.1:7890`` for https too (the form bpo-42627 fixed); a socks
  entry serves http/https as ``socks4://`` when they have none. :func:`bypassed` copies
  ``proxy_bypass_registry``'s matching (without its DNS look-ups);
* else, on macOS, the System Settings proxies (``urllib.request.getproxies``, SystemConfiguration).

Children (conda, pip, the env's Python) get the system proxy as ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY``
(:func:`child_env_vars`), so they use what the wizard uses; a proxy from the environment is inherited as it is.

A proxy that is set but not listening (Clash not running) gets its own message before anything is downloaded
(:func:`check_before_download`, :class:`~app.core.errors.DownloadError`, exit 4): "The system proxy
127.0.0.1:7890 is not answering (...)"; the fix says to start it or turn it off.

Only :class:`WinRegProxyReader` touches Windows; everything else is pure and tested with the real value forms.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.core.errors import DownloadError, Stage
from app.i18n import _, language
from app.core.events import Reporter
from app.core.logfile import mask_url_password

#: The registry key of the per-user (Internet Explorer / WinINet) proxy settings.
INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
#: Seconds to wait for a TCP connection to the proxy before calling it "not answering".
CONNECT_TIMEOUT = 3.0
#: Default ports when a proxy URL names none (the scheme's usual port; 1080 for SOCKS, RFC 1928).
_DEFAULT_PORTS = {"http": 80, "https": 443, "socks": 1080, "socks4": 1080, "socks4a": 1080, "socks5": 1080,
                  "socks5h": 1080}
SOURCE_ENV = "environment"
SOURCE_WINDOWS = "windows"
SOURCE_MACOS = "macos"


@dataclass(frozen=True)
class RegistryValues:
    """The three values of :data:`INTERNET_SETTINGS` (``None`` where the value is missing)."""

    enable: int | None = None
    server: str | None = None
    override: str | None = None


class RegistryReader(Protocol):
    """Reads :class:`RegistryValues` (the narrow Windows interface)."""

    def read(self) -> RegistryValues: ...  # noqa: D102


class WinRegProxyReader:
    """The real reader: ``winreg`` on ``HKEY_CURRENT_USER\\`` :data:`INTERNET_SETTINGS` (Windows only)."""

    def read(self) -> RegistryValues:  # pragma: no cover - Windows only
        try:
            import winreg  # noqa: PLC0415
        except ImportError:
            return RegistryValues()
        values: dict[str, Any] = {}
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, INTERNET_SETTINGS) as key:
                for name in ("ProxyEnable", "ProxyServer", "ProxyOverride"):
                    try:
                        values[name] = winreg.QueryValueEx(key, name)[0]
                    except OSError:
                        values[name] = None
        except OSError:
            return RegistryValues()
        enable = values.get("ProxyEnable")
        return RegistryValues(enable if isinstance(enable, int) else None,
                              None if values.get("ProxyServer") is None else str(values["ProxyServer"]),
                              None if values.get("ProxyOverride") is None else str(values["ProxyOverride"]))


#: The reader :func:`current` uses (``None`` off Windows). Tests replace it with a fake.
registry_reader: RegistryReader | None = WinRegProxyReader() if os.name == "nt" else None


def registry_proxies(values: RegistryValues) -> dict[str, str]:
    """Scheme -> proxy URL from the registry values, by ``urllib.request.getproxies_registry``'s rules (see the
    module docstring). ``{}`` when ``ProxyEnable`` is 0 or missing, or ``ProxyServer`` is empty. A part
    without ``=`` among several is skipped (urllib stops there and keeps what it read so far: the same for the
    usual trailing ``;``).

    Examples: ``"127.0.0.1:7890"`` -> ``{"http": "http://127.0.0.1:7890", "https": "http://127.0.0.1:7890",
    "ftp": "http://127.0.0.1:7890"}``; ``"socks=127.0.0.1:7891"`` -> ``{"socks": "socks://127.0.0.1:7891",
    "http": "socks4://127.0.0.1:7891", "https": "socks4://127.0.0.1:7891"}``.
    """
    if not values.enable or not values.server or not values.server.strip():
        return {}
    server = values.server.strip()
    if "=" not in server and ";" not in server:
        server = "http={0};https={0};ftp={0}".format(server)
    proxies: dict[str, str] = {}
    for part in server.split(";"):
        if "=" not in part:
            continue
        protocol, address = part.split("=", 1)  # as urllib: no case folding, no trimming
        if not re.match("(?:[^/:]+)://", address):
            if protocol in ("http", "https", "ftp"):
                address = "http://" + address
            elif protocol == "socks":
                address = "socks://" + address
        proxies[protocol] = address
    if proxies.get("socks"):
        address = re.sub(r"^socks://", "socks4://", proxies["socks"])
        proxies["http"] = proxies.get("http") or address
        proxies["https"] = proxies.get("https") or address
    return proxies


def override_entries(value: str | None) -> tuple[str, ...]:
    """``ProxyOverride`` split at ``;``, blanks dropped: ``"localhost;127.*;<local>"`` ->
    ``("localhost", "127.*", "<local>")``."""
    return tuple(p.strip() for p in (value or "").split(";") if p.strip())


def environment_proxies(environ: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Scheme -> proxy URL from ``<scheme>_proxy`` variables (``no`` = ``NO_PROXY``), and scheme -> the variable
    it came from. A copy of ``urllib.request.getproxies_environment``: any case, lowercase wins; an empty
    lowercase variable removes the scheme; ``HTTP_PROXY`` is ignored in a CGI request (``REQUEST_METHOD``)."""
    proxies: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, value in environ.items():
        low = name.lower()
        if value and low[-6:] == "_proxy":
            proxies[low[:-6]], names[low[:-6]] = value, name
    if "REQUEST_METHOD" in environ:
        proxies.pop("http", None)
    for name, value in environ.items():
        if name[-6:] == "_proxy":
            low = name.lower()
            if value:
                proxies[low[:-6]], names[low[:-6]] = value, name
            else:
                proxies.pop(low[:-6], None)
    return proxies, names


@dataclass(frozen=True)
class ProxySettings:
    """The proxies in effect.

    Attributes:
        proxies: scheme (``http``, ``https``, ``ftp``, ``socks``) -> proxy URL; ``NO_PROXY`` is not in it.
        source: :data:`SOURCE_ENV`, :data:`SOURCE_WINDOWS`, :data:`SOURCE_MACOS`, or ``""`` (no proxy).
        bypass: hosts that go direct (``NO_PROXY`` entries, or the ``ProxyOverride`` entries).
        names: scheme -> the environment variable it came from (source ``environment`` only).
    """

    proxies: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    bypass: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether http or https goes through a proxy."""
        return bool(self.proxies.get("http") or self.proxies.get("https"))

    def source_text(self) -> str:
        """``"the Windows system proxy setting"``, ``"HTTPS_PROXY"``, ..."""
        if self.source == SOURCE_WINDOWS:
            return _("the Windows system proxy setting")
        if self.source == SOURCE_MACOS:
            return _("the macOS system proxy setting")
        if self.source == SOURCE_ENV:
            used = sorted({self.names.get(s, s.upper() + "_PROXY") for s in ("https", "http") if self.proxies.get(s)})
            return _(" and ").join(used) or _("the environment")
        return ""

    def describe(self) -> str:
        """One line for the log and the first page: ``"http://127.0.0.1:7890 (from the Windows system proxy
        setting; not for: localhost, <local>)"`` or ``"none (direct connection)"``; a password in a proxy URL
        is shown as ``****`` (:func:`app.core.logfile.mask_url_password`)."""
        if not self.active:
            return _("none (direct connection)")
        urls = list(dict.fromkeys(mask_url_password(u) for s in ("https", "http") if (u := self.proxies.get(s))))
        text = ", ".join(urls if len(urls) == 1 else
                         [f"{s} {mask_url_password(u)}" for s in ("https", "http") if (u := self.proxies.get(s))])
        inner = _("from {source}").format(source=self.source_text())
        if self.bypass:
            shown = ", ".join(self.bypass[:6]) + (_(" and {count} more").format(count=len(self.bypass) - 6)
                                                  if len(self.bypass) > 6 else "")
            inner = _("{before}; not for: {hosts}").format(before=inner, hosts=shown)
        return _("{text} ({inner})").format(text=text, inner=inner)


def resolve(environ: Mapping[str, str], registry: RegistryValues | None = None,
            macos: Mapping[str, str] | None = None) -> ProxySettings:
    """The :class:`ProxySettings` from the given facts (pure): the environment wins when it names any proxy
    (as in urllib), else the Windows registry values, else the macOS system proxies (scheme -> URL, with
    ``no`` = bypass list as urllib gives it)."""
    env, names = environment_proxies(environ)
    if env:
        no = env.pop("no", "")
        return ProxySettings(env, SOURCE_ENV, tuple(p.strip() for p in no.split(",") if p.strip()), names)
    if registry is not None:
        reg = registry_proxies(registry)
        if reg:
            return ProxySettings(reg, SOURCE_WINDOWS, override_entries(registry.override))
    if macos:
        mac = dict(macos)
        no = mac.pop("no", "")
        if mac:
            return ProxySettings(mac, SOURCE_MACOS, tuple(p.strip() for p in no.split(",") if p.strip()))
    return ProxySettings()


def current(environ: Mapping[str, str] | None = None) -> ProxySettings:
    """The proxies of this machine now: :func:`resolve` of ``os.environ`` (or ``environ``), the registry through
    :data:`registry_reader` (Windows) and ``urllib.request.getproxies`` (macOS)."""
    env = os.environ if environ is None else environ
    registry = registry_reader.read() if registry_reader is not None else None
    macos = None
    if sys.platform == "darwin" and registry is None:  # pragma: no cover - macOS only
        import urllib.request  # noqa: PLC0415

        try:
            macos = urllib.request.getproxies_macosx_sysconf()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - SystemConfiguration not available
            macos = None
    return resolve(env, registry, macos)


# ---- hand it on to children --------------------------------------------------------------------------------

def _glob_to_no_proxy(entry: str) -> list[str]:
    """One ``ProxyOverride`` entry in ``NO_PROXY`` form (requests: host suffixes and CIDR blocks), or ``[]``
    when it has no such form (a ``*`` or ``?`` in the middle of a name)."""
    if entry.lower() == "<local>":
        return ["localhost", "127.0.0.1", "::1"]
    parts = entry.split(".")
    if parts and all(p.isdigit() or p == "*" for p in parts) and 1 <= len(parts) <= 4:
        fixed = [p for p in parts if p != "*"]
        if parts[:len(fixed)] == fixed and fixed:  # stars only at the end: a network
            try:
                net = ipaddress.ip_network(".".join(fixed + ["0"] * (4 - len(fixed))) + f"/{8 * len(fixed)}")
            except ValueError:
                return []
            return [str(net)]
    if entry.startswith("*.") and not any(c in entry[2:] for c in "*?"):
        return ["." + entry[2:]]
    if not any(c in entry for c in "*?"):
        return [entry]
    return []


def no_proxy_value(settings: ProxySettings) -> str:
    """The ``NO_PROXY`` for children: the system bypass list in ``NO_PROXY`` form (``<local>`` ->
    ``localhost,127.0.0.1,::1``; ``127.*`` -> ``127.0.0.0/8``; ``*.corp.example`` -> ``.corp.example``)."""
    out: list[str] = []
    for entry in settings.bypass:
        out.extend(_glob_to_no_proxy(entry) if settings.source == SOURCE_WINDOWS else [entry])
    return ",".join(dict.fromkeys(out))


def child_env_vars(settings: ProxySettings | None = None) -> dict[str, str]:
    """The variables that give a child the system proxy: ``HTTP_PROXY``, ``HTTPS_PROXY`` and ``NO_PROXY``
    (``{}`` when no system proxy is set, or the proxy comes from the environment, which children inherit)."""
    settings = current() if settings is None else settings
    if not settings.active or settings.source == SOURCE_ENV:
        return {}
    out = {}
    if settings.proxies.get("http"):
        out["HTTP_PROXY"] = settings.proxies["http"]
    if settings.proxies.get("https"):
        out["HTTPS_PROXY"] = settings.proxies["https"]
    if no := no_proxy_value(settings):
        out["NO_PROXY"] = no
    return out


# ---- does it apply, does it answer --------------------------------------------------------------------------

def bypassed(settings: ProxySettings, url: str) -> bool:
    """Whether ``url`` goes direct: Windows ``ProxyOverride`` matching as ``proxy_bypass_registry`` does it
    (``<local>`` = a host without a dot; ``*`` and ``?`` globs matched from the start, case-insensitive; no DNS),
    or ``NO_PROXY`` matching as ``urllib.request.proxy_bypass_environment`` does it."""
    host = urlsplit(url).hostname or ""
    if settings.source == SOURCE_WINDOWS:
        for test in settings.bypass:
            if test == "<local>" and "." not in host:
                return True
            pattern = test.replace(".", r"\.").replace("*", r".*").replace("?", r".")
            if re.match(pattern, host, re.I):
                return True
        return False
    if not settings.bypass:
        return False
    import urllib.request  # noqa: PLC0415

    return bool(urllib.request.proxy_bypass_environment(host, {"no": ",".join(settings.bypass)}))


def proxy_for(settings: ProxySettings, url: str) -> str | None:
    """The proxy URL ``url`` goes through, or ``None`` (no proxy for its scheme, or bypassed)."""
    scheme = urlsplit(url).scheme.lower()
    proxy = settings.proxies.get(scheme)
    if not proxy or bypassed(settings, url):
        return None
    return proxy


def endpoint(proxy_url: str) -> tuple[str, int] | None:
    """``(host, port)`` of a proxy URL (``http://127.0.0.1:7890`` -> ``("127.0.0.1", 7890)``; a URL without a
    scheme is read as http; no port: the scheme's usual one); ``None`` when it has no host or a bad port."""
    text = proxy_url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, port if port is not None else _DEFAULT_PORTS.get(parts.scheme.lower(), 80)


def _connect(host: str, port: int, timeout: float) -> None:
    socket.create_connection((host, port), timeout=timeout).close()


def not_answering(settings: ProxySettings, urls: Iterable[str], *, timeout: float = CONNECT_TIMEOUT,
                  connect: Callable[[str, int, float], None] = _connect) -> list[tuple[str, str]]:
    """The proxies ``urls`` would go through that do not accept a TCP connection within ``timeout`` seconds:
    ``[("127.0.0.1:7890", "the connection was refused"), ...]`` (each proxy once)."""
    seen: set[tuple[str, int]] = set()
    out: list[tuple[str, str]] = []
    for url in urls:
        proxy = proxy_for(settings, url)
        ep = endpoint(proxy) if proxy else None
        if ep is None or ep in seen:
            continue
        seen.add(ep)
        try:
            connect(ep[0], ep[1], timeout)
        except ConnectionRefusedError:
            reason = _("the connection was refused: nothing listens there")
        except socket.gaierror:
            reason = _("its host name could not be resolved")
        except (TimeoutError, socket.timeout):
            reason = _("no connection within {seconds} s").format(seconds=f"{timeout:g}")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
        else:
            continue
        host = f"[{ep[0]}]" if ":" in ep[0] else ep[0]
        out.append((f"{host}:{ep[1]}", reason))
    return out


def not_answering_error(settings: ProxySettings, where: str, reason: str) -> DownloadError:
    """The :class:`DownloadError` (exit 4) for a proxy at ``where`` (``host:port``) that does not answer."""
    if settings.source == SOURCE_ENV:
        names = settings.source_text()
        return DownloadError(
            _("The proxy {where} set in {names} is not answering ({reason}).").format(
                where=where, names=names, reason=reason),
            fix=_("Start the proxy program, or unset {names} (and the lowercase form) to connect directly, then run "
                  "again.").format(names=names))
    where_set = (_("Windows Settings > Network & Internet > Proxy, \"Use a proxy server\"") if settings.source ==
                 SOURCE_WINDOWS else _("System Settings > Network > Details > Proxies"))
    fix = _("Start the proxy program (for example Clash or v2rayN) and run again, or turn the system proxy off "
            "({where_set}).").format(where_set=where_set)
    if language() != "zh_CN":  # the Chinese hint stays for Chinese users with another UI language (zh_CN: the fix is Chinese)
        fix += " " + "系统代理 {where} 没有响应：请启动代理程序（如 Clash），或关闭系统代理。".format(where=where)
    return DownloadError(
        _("The system proxy {where} is not answering ({reason}).").format(
            where=where, reason=reason), fix=fix)


#: Where conda finds a channel given by name (conda's default ``channel_alias``) and Anaconda's defaults.
CONDA_ALIAS = "https://conda.anaconda.org/"
DEFAULTS_URL = "https://repo.anaconda.com/pkgs/main"


def _channel_url(channel: str, custom: Mapping[str, str], defaults: Iterable[str]) -> list[str]:
    ch = channel.strip()
    if "://" in ch:
        return [ch]
    if ch == "defaults":
        return list(defaults) or [DEFAULTS_URL]
    if ch in custom:
        return [custom[ch].rstrip("/") + "/" + ch]
    return [CONDA_ALIAS + ch] if ch else []


def env_urls(plan: Any, src: Any = None) -> list[str]:
    """The URLs the env step reaches (``[]`` when the plan creates no env): its conda channels (``--channels``,
    else the mirror's ``.condarc`` channels, else the distribution's own: Anaconda's defaults or conda-forge; a
    name is ``https://conda.anaconda.org/<name>``), its pip index (``--pip-index``, the mirror's, else PyPI), and the
    PyTorch wheel index (the mirror's, else download.pytorch.org). ``src``: :func:`app.core.mirrors.sources`."""
    from app.core import mirrors  # noqa: PLC0415

    if not getattr(plan, "create_env", False):
        return []
    cc = getattr(src, "conda_channels", None) if src is not None else None
    custom = dict(cc.custom_channels) if cc is not None else {}
    defaults = tuple(cc.default_channels) if cc is not None else ()
    channels = tuple(getattr(plan, "channels", ()) or ())
    if not channels:
        if cc is not None and cc.channels:
            channels = tuple(cc.channels)
        else:
            channels = ("conda-forge",) if getattr(plan, "distribution", "miniconda") == "miniforge" else ("defaults",)
    urls = [u for ch in channels for u in _channel_url(ch, custom, defaults)]
    urls.append((src.pip_index if src is not None else None) or mirrors.PYPI)
    try:
        urls.append(src.torch_index("cpu")[0] if src is not None else mirrors.OFFICIAL_TORCH.format(variant="cpu"))
    except Exception:  # noqa: BLE001 - a torch_url template the table check names
        pass
    return urls


def plan_urls(plan: Any) -> list[str]:
    """The URLs a run reaches: the installer folder (unless a local file is installed), and, when the plan creates
    an env, the env step's conda channels, pip index and PyTorch index (:func:`env_urls`). Each may go through
    another proxy (``HTTP_PROXY`` for an http:// mirror, ``HTTPS_PROXY`` for conda, pip and PyTorch)."""
    from app.core import mirrors  # noqa: PLC0415

    urls: list[str] = []
    try:
        src = mirrors.sources(plan)
    except Exception:  # noqa: BLE001 - the plan check names a broken mirror table
        src = None
    if getattr(plan, "installer_file", None) is None:
        urls.append(src.installer if src is not None else str(getattr(plan, "mirror_url", "") or ""))
    urls += env_urls(plan, src)
    return list(dict.fromkeys(u for u in urls if u))


def check_before_download(plan: Any, reporter: Reporter, settings: ProxySettings | None = None, *,
                          timeout: float = CONNECT_TIMEOUT,
                          connect: Callable[[str, int, float], None] = _connect) -> ProxySettings:
    """Log the proxy in use, and check that it answers before anything is downloaded.

    Returns:
        The settings (:func:`current` when not given).

    Raises:
        DownloadError: a proxy the run's URLs (:func:`plan_urls`) go through does not accept a connection
            (exit 4; the message names it: "The system proxy 127.0.0.1:7890 is not answering (...)"; the
            fix says what to do).
    """
    settings = current() if settings is None else settings
    stage = Stage.DOWNLOAD
    reporter.log(stage, _("Proxy: {proxy}.").format(proxy=settings.describe()))
    if not settings.active:
        return settings
    if child := child_env_vars(settings):
        reporter.log(stage, _("conda and pip get it as {variables}.").format(
            variables=", ".join(f"{k}={mask_url_password(v)}" for k, v in child.items())))
    for where, reason in not_answering(settings, plan_urls(plan), timeout=timeout, connect=connect):
        raise not_answering_error(settings, where, reason)
    return settings
