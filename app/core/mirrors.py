"""One mirror choice for the whole run: where the installer, conda's channels, pip and PyTorch wheels come from.

The named mirrors are data, ``resources/mirrors.toml`` (sources of every URL are in that file);
``MINICONDA_WIZARD_MIRRORS=/path/to/mirrors.toml`` adds rows to the table or replaces rows by name
(tests point a row at the local test server). :func:`sources` turns a plan into one :class:`Sources`: the mirror the user picked
(``plan.mirror``) applies to every part, and ``plan.condarc_mirror`` / ``plan.pip_index`` override
the conda and pip parts separately.

Shapes written for conda follow the mirrors' documented ``.condarc`` (mirrorz-org/mirrorz-docs
``anaconda/usage.zh.md``): ``channels: [defaults]``, ``default_channels`` = ``<endpoint>/pkgs/main``,
``/pkgs/r``, ``/pkgs/msys2`` and ``custom_channels`` ``conda-forge`` / ``pytorch`` = ``<endpoint>/cloud``.
A ``--condarc-mirror URL`` is read as such an endpoint (for example
``https://mirrors.tuna.tsinghua.edu.cn/anaconda``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from app.i18n import N_, _, language

#: Environment variable naming another mirror table (a TOML file shaped like resources/mirrors.toml).
TABLE_ENV = "MINICONDA_WIZARD_MIRRORS"
#: The official PyTorch wheel index; ``{variant}`` is cpu, cu126, cu130, ...
#: Source: https://pytorch.org/get-started/locally/ (``--index-url https://download.pytorch.org/whl/cu126``).
OFFICIAL_TORCH = "https://download.pytorch.org/whl/{variant}"
PYPI = "https://pypi.org/simple"
#: ``--condarc-mirror`` value that leaves conda's channels as the installer wrote them.
NONE = "none"
TORCH_STYLES = ("index-url", "find-links")


class MirrorTableError(ValueError):
    """The mirror table cannot be read or has a wrong shape (message names the file and the key)."""


@dataclass(frozen=True)
class CondaChannels:
    """What a mirror writes into ``.condarc``: ``channels``, ``default_channels``, ``custom_channels``
    (name -> base URL) and other plain settings (``show_channel_urls``)."""

    channels: tuple[str, ...] = ()
    default_channels: tuple[str, ...] = ()
    custom_channels: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_endpoint(cls, endpoint: str) -> "CondaChannels":
        """The mirrorz-documented layout under ``endpoint`` (``https://HOST/anaconda``)."""
        ep = endpoint.rstrip("/")
        return cls(channels=("defaults",),
                   default_channels=(f"{ep}/pkgs/main", f"{ep}/pkgs/r", f"{ep}/pkgs/msys2"),
                   custom_channels=(("conda-forge", f"{ep}/cloud"), ("pytorch", f"{ep}/cloud")),
                   settings=(("show_channel_urls", True),))

    def conda_forge_only(self) -> "CondaChannels | None":
        """The same mirror for a Miniforge install: ``channels: [conda-forge]`` with ``conda-forge`` mapped to this
        mirror's conda-forge (its ``custom_channels`` entry), the plain settings kept; ``None`` when the mirror
        does not carry conda-forge (issue 7: "a chosen mirror maps conda-forge to the mirror")."""
        custom = dict(self.custom_channels)
        if "conda-forge" not in custom:
            return None
        return CondaChannels(channels=("conda-forge",), custom_channels=(("conda-forge", custom["conda-forge"]),),
                             settings=self.settings)

    def urls(self) -> list[str]:
        """Every URL named (for reports and tests)."""
        return [*self.default_channels, *(u for _n, u in self.custom_channels)]

    def describe(self) -> str:
        """``https://HOST/anaconda`` when all URLs share one base, else the first URL."""
        urls = self.urls()
        if not urls:
            return ", ".join(self.channels)
        common = os.path.commonprefix(urls).rstrip("/")
        if "/" in common.split("://", 1)[-1]:
            for tail in ("/pkgs", "/cloud"):
                common = common.removesuffix(tail)
            return common.rstrip("/")
        return urls[0]


@dataclass(frozen=True)
class Mirror:
    """One row of the table. ``conda`` None: leave conda's channels; ``pip_index`` None: PyPI;
    ``torch_url`` None: the official wheel index."""

    name: str
    title: str
    installer: str
    conda: CondaChannels | None = None
    pip_index: str | None = None
    torch_url: str | None = None
    torch_style: str = "index-url"
    source: str = ""
    #: The Miniforge release folder (``.../github-release/conda-forge/miniforge/LatestRelease/``), or ``None``
    #: when the mirror carries no Miniforge installers (issue 7).
    miniforge: str | None = None

    def folder(self, distribution: str = "miniconda") -> str | None:
        """The installer folder of ``distribution`` on this mirror (ends in ``/``), or ``None`` when it has none."""
        return self.miniforge if distribution == "miniforge" else self.installer


def _table_path() -> Path:
    given = os.environ.get(TABLE_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    from app.resources import resource  # noqa: PLC0415

    return resource("mirrors.toml")


_cache: dict[tuple[str, int, int], dict[str, Mirror]] = {}


#: Rows added in this process through :class:`InstallerMap` (``MIRRORS["name"] = url``): installer only.
_added: dict[str, str] = {}


def load(path: Path | None = None) -> dict[str, Mirror]:
    """The mirror table: name (lower case) -> :class:`Mirror`, in file order.

    Args:
        path: a TOML file; default ``$MINICONDA_WIZARD_MIRRORS`` or ``resources/mirrors.toml``. Rows of
            another file add to (or replace by name) the built-in rows.

    Raises:
        MirrorTableError: the file is missing, not TOML, or a row lacks ``installer`` / has a bad
            ``torch.style``.
    """
    if path is None and _added:
        rows = dict(load(_table_path()))
        for name, url in _added.items():
            rows[name] = Mirror(name, name, url if url.endswith("/") else url + "/")
        return rows
    path = Path(path) if path is not None else _table_path()
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key in _cache:
            return _cache[key]
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MirrorTableError(_("The mirror table {path} cannot be read: {exc}").format(path=path, exc=exc)) from exc
    out: dict[str, Mirror] = {}
    for name, row in (doc.get("mirrors") or {}).items():
        if not isinstance(row, dict) or not isinstance(row.get("installer"), str):
            raise MirrorTableError(_("The mirror table {path}: [mirrors.{name}] needs installer = \"URL\".").format(
                                     path=path, name=name))
        conda = None
        if isinstance(row.get("conda"), dict):
            c = dict(row["conda"])
            conda = CondaChannels(
                channels=tuple(c.pop("channels", ())),
                default_channels=tuple(c.pop("default_channels", ())),
                custom_channels=tuple((str(k), str(v)) for k, v in (c.pop("custom_channels", {}) or {}).items()),
                settings=tuple(c.items()),
            )
        torch = row.get("torch") or {}
        style = torch.get("style", "index-url")
        if style not in TORCH_STYLES:
            raise MirrorTableError(_("The mirror table {path}: [mirrors.{name}.torch] style must be one of "
                                     "{torch_styles}, not {style!r}.").format(
                                     path=path, name=name, torch_styles=', '.join(TORCH_STYLES), style=style))
        installer = row["installer"] if row["installer"].endswith("/") else row["installer"] + "/"
        forge = row.get("miniforge") or None
        if forge is not None and not isinstance(forge, str):
            raise MirrorTableError(_("The mirror table {path}: [mirrors.{name}] miniforge must be a URL "
                                     "string.").format(path=path, name=name))
        out[name.lower()] = Mirror(name.lower(), row.get("title", name), installer, conda,
                                   row.get("pip_index") or None, torch.get("url") or None, style,
                                   row.get("source", ""),
                                   (forge if forge.endswith("/") else forge + "/") if forge else None)
    if not out:
        raise MirrorTableError(_("The mirror table {path} names no mirrors ([mirrors.NAME] tables).").format(
                                 path=path))
    from app.resources import resource  # noqa: PLC0415

    builtin = resource("mirrors.toml")
    if Path(path).resolve() != builtin.resolve():  # a substituted table adds to / replaces rows of the built-in one
        out = {**load(builtin), **out}
    _cache[key] = out
    return out


def carrying(distribution: str) -> dict[str, str]:
    """Mirror name -> installer folder URL of ``distribution`` (``miniconda`` / ``miniforge``), for the mirrors
    that carry it, in table order."""
    return {n: f for n, m in load().items() if (f := m.folder(distribution))}


def installer_urls() -> dict[str, str]:
    """Mirror name -> installer folder URL (ending in ``/``), in table order."""
    return {n: m.installer for n, m in load().items()}


class InstallerMap(MutableMapping[str, str]):
    """An always current view of :func:`installer_urls` (``app.core.plan.MIRRORS``), so a table substituted
    with :data:`TABLE_ENV` is seen by code that imported the name earlier. Setting an item adds an
    installer-only mirror for this process (tests); deleting removes only such an added one."""

    def __setitem__(self, key: str, value: str) -> None:
        _added[key.lower()] = value

    def __delitem__(self, key: str) -> None:
        del _added[key.lower()]

    def __getitem__(self, key: str) -> str:
        return installer_urls()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(installer_urls())

    def __len__(self) -> int:
        return len(installer_urls())

    def __repr__(self) -> str:
        return f"InstallerMap({installer_urls()!r})"


def _norm(url: str) -> str:
    return url.strip().rstrip("/").lower()


def find(name_or_url: str | None) -> Mirror | None:
    """The named mirror, or the one whose installer folder is this URL; else ``None``."""
    if not name_or_url:
        return None
    table = load()
    text = name_or_url.strip().lower()
    if text in table:
        return table[text]
    for m in table.values():
        if _norm(m.installer) == _norm(text) or (m.miniforge and _norm(m.miniforge) == _norm(text)):
            return m
    return None


def url_problem(url: str, what: str, example: str) -> str | None:
    """Why ``url`` is not an ``http(s)://HOST/...`` URL (a sentence naming ``what`` and an example), or None."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return _("The {what} {url!r} cannot be read: {exc} (for example {example}).").format(
                 what=what, url=url, exc=exc, example=example)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url.strip()):
        return _("The {what} {url!r} is not an http:// or https:// URL (for example {example}).").format(
                 what=what, url=url, example=example)
    return None


@dataclass(frozen=True)
class Sources:
    """Where each part of the run downloads from.

    Fields:
        installer: the installer folder URL (ends in ``/``).
        conda: the mirror name or endpoint URL used for conda's channels; ``None`` = conda's own.
        pip_index: the env's pip ``index-url``; ``None`` = PyPI.
        conda_channels: what goes into the new install's ``.condarc`` (``None`` = nothing).
        torch_url / torch_style: the PyTorch wheel location with ``{variant}``; ``None`` = official.
        notes: why a part is not mirrored, per part ("installer", "conda", "pip", "torch").
    """

    installer: str
    conda: str | None
    pip_index: str | None
    conda_channels: CondaChannels | None = None
    installer_label: str = ""
    conda_label: str = ""
    pip_label: str = ""
    torch_label: str = ""
    torch_url: str | None = None
    torch_style: str = "index-url"
    notes: dict[str, str] = field(default_factory=dict)
    #: ``plan.mirror`` is a URL or folder, not a named mirror: it gives only the installer (said once, by the
    #: caller, rather than on every part).
    url_only: bool = False
    #: ``plan.distribution``: what conda's own channels are when nothing is written (issue 7).
    distribution: str = "miniconda"

    def torch_index(self, variant: str) -> tuple[str, str]:
        """``(url, style)`` of the PyTorch wheels for ``variant`` (``cpu``, ``cu126``, ...); style is
        ``"index-url"`` (pip ``--index-url``) or ``"find-links"`` (pip ``--find-links``, a flat folder).
        Without a mirror: ``("https://download.pytorch.org/whl/<variant>", "index-url")``."""
        if self.torch_url:
            return self.torch_url.format(variant=variant), self.torch_style
        return OFFICIAL_TORCH.format(variant=variant), "index-url"

    def torch_is_official(self, variant: str) -> bool:
        """Whether the PyTorch wheels for ``variant`` come from download.pytorch.org."""
        return self.torch_index(variant)[0] == OFFICIAL_TORCH.format(variant=variant)

    def parts(self) -> list[tuple[str, str]]:
        """``(label, text)`` per part, for the plan summary."""
        def with_note(text: str, key: str) -> str:
            return text + (f" ({self.notes[key]})" if key in self.notes else "")

        installer = f"{self.installer_label} {self.installer}".strip() if self.installer_label else self.installer
        forge = dict(self.conda_channels.custom_channels).get("conda-forge") if self.conda_channels else None
        conda = (_("conda-forge from {conda_label} ({rstrip}/conda-forge), written to the new install's "
                   ".condarc").format(conda_label=self.conda_label, rstrip=forge.rstrip('/')) if self.distribution == "miniforge" and forge else
                 _("{conda_label} ({conda_channels}), written to the new install's .condarc").format(
                   conda_label=self.conda_label, conda_channels=self.conda_channels.describe())
                 if self.conda_channels is not None
                 else _("conda's own (defaults: repo.anaconda.com; the .condarc is left as the installer wrote it)")
                 if self.distribution != "miniforge"
                 else _("conda-forge (conda.anaconda.org; the .condarc is left as the Miniforge installer wrote it)"))
        pip = _("{pip_label} ({pip_index}), in the env's own pip config").format(
                pip_label=self.pip_label, pip_index=self.pip_index) if self.pip_index else _("PyPI ({pypi})").format(
                                                                                                           pypi=PYPI)
        torch_url = (self.torch_url or OFFICIAL_TORCH).replace("{variant}", "<variant>")
        torch = (_("{torch_label} ({torch_url}, pip --{torch_style})").format(
                   torch_label=self.torch_label, torch_url=torch_url, torch_style=self.torch_style) if self.torch_url
                 else _("official PyTorch index ({torch_url})").format(torch_url=torch_url))
        # the labels stay English (callers pick parts by label); lines() and the plan summary translate them
        return [(N_("Installer from"), installer), (N_("conda channels"), with_note(conda, "conda")),
                (N_("pip packages"), with_note(pip, "pip")), (N_("PyTorch wheels"), with_note(torch, "torch"))]

    def lines(self) -> list[str]:
        """One human line per part: ``"conda channels: TUNA (https://...), written to ..."``."""
        return [f"{_(label)}: {text}" for label, text in self.parts()]


def sources(plan: Any) -> Sources:
    """The :class:`Sources` of a plan (reads ``mirror``, ``mirror_url``, ``condarc_mirror``, ``pip_index``).

    * ``plan.mirror`` a name from the table (or that mirror's installer URL): every part from that mirror;
      a part it does not carry falls back to the official one, with a note.
    * another URL or a local folder: only the installer comes from there; conda, pip and PyTorch stay
      official unless ``--condarc-mirror`` / ``--pip-index`` say otherwise.
    * ``plan.condarc_mirror``: ``none`` (leave conda's channels), a mirror name, or an endpoint URL.
    * ``plan.pip_index``: an index URL (``.../simple``).

    Raises:
        MirrorTableError: the table cannot be read.
    """
    picked = find(plan.mirror)
    notes: dict[str, str] = {}
    installer_label = picked.title if picked else ""
    base = picked

    conda_name: str | None = base.name if base and base.conda else None
    conda_channels = base.conda if base else None
    conda_label = base.title if base else ""
    if base is not None and base.conda is None and base.name != "official":
        notes["conda"] = _("{title} has no conda channels").format(title=base.title)
    forge = getattr(plan, "distribution", "miniconda") == "miniforge"
    cm = (plan.condarc_mirror or "").strip()
    if cm:
        notes.pop("conda", None)
        if cm.lower() == NONE:
            conda_name, conda_channels, conda_label = None, None, ""
            notes["conda"] = _("--condarc-mirror none")
        elif (named := find(cm)) is not None:
            conda_name, conda_channels, conda_label = named.name, named.conda, named.title
            if named.conda is None:
                conda_name = None
        else:
            conda_name, conda_channels, conda_label = cm, CondaChannels.from_endpoint(cm), \
                _("the anaconda endpoint URL given with --condarc-mirror")
    if forge and conda_channels is not None:  # Miniforge: only conda-forge, mapped to the mirror (issue 7)
        conda_channels = conda_channels.conda_forge_only()
        if conda_channels is None:
            notes["conda"] = _("{conda_label} does not carry conda-forge").format(
                               conda_label=conda_label or _('the mirror'))
            conda_name, conda_label = None, ""

    pip_index = base.pip_index if base else None
    pip_label = base.title if base and base.pip_index else ""
    if base is not None and base.pip_index is None and base.name != "official":
        notes["pip"] = _("{title} has no PyPI mirror").format(title=base.title)
    if plan.pip_index:
        notes.pop("pip", None)
        pip_index, pip_label = plan.pip_index.strip(), "--pip-index"

    torch_url = base.torch_url if base else None
    if torch_url is None and base is not None and base.name != "official":
        notes["torch"] = _("{title} carries no PyTorch wheel index").format(title=base.title)
    return Sources(
        installer=plan.mirror_url, conda=conda_name, pip_index=pip_index, conda_channels=conda_channels,
        installer_label=installer_label, conda_label=conda_label, pip_label=pip_label,
        torch_label=base.title if base and torch_url else "", torch_url=torch_url,
        torch_style=base.torch_style if base else "index-url", notes=notes, url_only=picked is None,
        distribution=getattr(plan, "distribution", "miniconda"),
    )


def problems(plan: Any) -> list[str]:
    """Problems of ``plan.condarc_mirror`` and ``plan.pip_index`` (sentences naming the flag and an example)."""
    out: list[str] = []
    try:
        names = list(load())
    except MirrorTableError as exc:
        return [_("{exc} Fix the file named in {table_env}, or unset it.").format(exc=exc, table_env=TABLE_ENV)]
    cm = plan.condarc_mirror
    if cm is not None:
        text = cm.strip()
        if not text:
            out.append(_("The conda channels mirror (--condarc-mirror / condarc_mirror) is empty; give "
                         "{names}, none, or a mirror's anaconda URL.").format(names=', '.join(names)))
        elif text.lower() != NONE and find(text) is None:
            if "://" not in text:
                out.append(_("Unknown conda channels mirror {text!r} (--condarc-mirror / condarc_mirror): "
                             "use one of {names}, none, or a URL such as "
                             "https://mirrors.tuna.tsinghua.edu.cn/anaconda.").format(
                             text=text, names=', '.join(names)))
            elif p := url_problem(text, _("conda channels mirror URL (--condarc-mirror / condarc_mirror)"),
                                  "https://mirrors.tuna.tsinghua.edu.cn/anaconda"):
                out.append(p)
    if plan.pip_index is not None:
        if p := url_problem(plan.pip_index, _("pip index (--pip-index / pip_index)"),
                            "https://pypi.tuna.tsinghua.edu.cn/simple"):
            out.append(p)
    return out


# ---- a Chinese mirror proposed by locale (issue 7; h-zh) ---------------------------------------------------------

#: The mirrors proposed on a Chinese system, best first (each carries the installer, conda channels and PyPI).
LOCALE_MIRRORS = ("tuna", "ustc", "bfsu", "aliyun")
#: The official host counts as slow when its 64 KiB probe (:mod:`app.core.mirror_probe`) takes longer (seconds).
SLOW_PROBE_SECONDS = 2.0


def is_chinese_locale(name: str | None) -> bool:
    """Whether a locale name is Chinese: POSIX ``zh_CN.UTF-8`` / ``zh_TW``, BCP 47 ``zh-Hans-CN`` (Windows
    ``GetUserDefaultLocaleName``, Qt), or the Windows C-runtime form ``Chinese (Simplified)_China``."""
    text = (name or "").strip().lower().replace("-", "_")
    return text == "zh" or text.startswith("zh_") or text.startswith("chinese")


def system_locale(environ: Mapping[str, str] | None = None) -> str:
    """The user's locale name: ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` when set, else on Windows
    ``GetUserDefaultLocaleName`` (``zh-CN``), else :func:`locale.getlocale`; ``""`` when none is known."""
    env = os.environ if environ is None else environ
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(key):
            return env[key]
    if os.name == "nt":  # pragma: no cover - Windows only
        import ctypes  # noqa: PLC0415

        buf = ctypes.create_unicode_buffer(85)
        try:
            if ctypes.windll.kernel32.GetUserDefaultLocaleName(buf, len(buf)):  # type: ignore[attr-defined]
                return buf.value
        except (AttributeError, OSError):
            pass
    import locale  # noqa: PLC0415

    try:
        return locale.getlocale()[0] or ""
    except ValueError:
        return ""


@dataclass(frozen=True)
class MirrorSuggestion:
    """A Chinese mirror to propose: its table ``name`` and ``title``, and ``why`` (a sentence about the official
    host's probe)."""

    name: str
    title: str
    why: str

    def line(self) -> str:
        """The log / page line, in the language in force; in English with the Chinese hint after it."""
        text = _("{why}; the {title} mirror answered faster: use it with --mirror {name} (or choose it on "
                 "the first page).").format(why=self.why, title=self.title, name=self.name)
        if language() != "zh_CN":  # the Chinese hint stays for Chinese users with another UI language
            text += f" 官方服务器较慢，建议使用 {self.title} 镜像（--mirror {self.name}）。"
        return text


def locale_suggestion(locale_name: str | None, results: list[Any],
                      slow_seconds: float = SLOW_PROBE_SECONDS) -> MirrorSuggestion | None:
    """The Chinese mirror to propose, or ``None`` (pure).

    Args:
        locale_name: :func:`system_locale`; nothing is proposed unless :func:`is_chinese_locale`.
        results: :class:`app.core.mirror_probe.ProbeResult` rows (``name``, ``title``, ``ok``, ``seconds``,
            ``describe()``), one of them ``official``.
        slow_seconds: the official probe counts as slow above this.

    Returns:
        The fastest of :data:`LOCALE_MIRRORS` that has the file, when the official host has not (no answer, an
        error) or was slower than ``slow_seconds`` and than that mirror; else ``None``.
    """
    if not is_chinese_locale(locale_name):
        return None
    official = next((r for r in results if r.name == "official"), None)
    if official is not None and official.ok and (official.seconds or 0.0) <= slow_seconds:
        return None
    good = sorted((r for r in results if r.ok and r.name in LOCALE_MIRRORS), key=lambda r: r.seconds or 0.0)
    if not good:
        return None
    best = good[0]
    if official is not None and official.ok and (official.seconds or 0.0) <= (best.seconds or 0.0):
        return None
    if official is None:
        why = _("The official host was not asked")
    elif official.ok:
        why = _("The official host took {seconds:.1f} s for the first 64 KiB").format(seconds=official.seconds)
    else:
        why = _("The official host is slow or unreachable ({official})").format(official=official.describe())
    return MirrorSuggestion(best.name, best.title, why)


def propose_for_locale(plan: Any, reporter: Any, cancel: Any, *, locale_name: str | None = None,
                       mirror_urls: dict[str, tuple[str, str]] | None = None,
                       timeout: tuple[float, float] | None = None, deadline: float | None = None,
                       slow_seconds: float | None = None) -> MirrorSuggestion | None:
    """On a Chinese system using the official mirror, probe it and the Chinese mirrors once
    (:func:`app.core.mirror_probe.probe_all`) and, when it is slow or unreachable, log a warning proposing the
    fastest Chinese mirror (:meth:`MirrorSuggestion.line`). Never changes ``plan.mirror``.

    Does nothing (returns ``None``, no network) for another locale, another mirror, or a local installer file.

    Raises:
        Cancelled: on cancel.
    """
    from app.core import mirror_probe  # noqa: PLC0415 - mirror_probe imports this module
    from app.core.errors import Stage  # noqa: PLC0415

    locale_name = system_locale() if locale_name is None else locale_name
    if (not is_chinese_locale(locale_name) or getattr(plan, "installer_file", None) is not None
            or str(getattr(plan, "mirror", "")).strip().lower() != "official"):
        return None
    rows = mirror_urls if mirror_urls is not None else {
        n: v for n, v in mirror_probe.candidates().items() if n == "official" or n in LOCALE_MIRRORS}
    kwargs: dict[str, Any] = {}
    if timeout is not None:
        kwargs["timeout"] = timeout
    if deadline is not None:
        kwargs["deadline"] = deadline
    results = mirror_probe.probe_all(mirror_probe.probe_file_name(plan), cancel, mirror_urls=rows, **kwargs)
    suggestion = locale_suggestion(locale_name, results, SLOW_PROBE_SECONDS if slow_seconds is None else slow_seconds)
    if suggestion is not None:
        for line in mirror_probe.table_lines(results):
            reporter.log(Stage.CATALOG, line)
        reporter.log(Stage.CATALOG, suggestion.line(), "warning")
    return suggestion
