"""Reading a Miniconda directory page: which installers it links, with size, date and SHA-256.

Split out of :mod:`app.core.catalog` because understanding the many layouts of
mirror index pages is a job of its own (and most of the code), while the catalog
only decides which installer and which hash to use. Everything here is pure: text
in, :class:`InstallerEntry` rows out; no network.

Three kinds of page are read, all *by structure* (``html.parser``: a table row or a
text line that links an installer file name), never by matching a whole page layout:

* the official ``https://repo.anaconda.com/miniconda/`` page: an HTML table with
  Filename, Size (``98.4M``), Last Modified (``2023-07-13 13:55:51``) and SHA256
  columns (the column order of the generated conda-docs hash table, which was made
  from that page; see ``tests/data/README.md``);
* nginx ``autoindex`` (a ``<pre>`` with ``<a href>`` lines, date and byte count after
  each link), ngx-fancyindex as used by TUNA and the mirrorz sites (table rows with
  ``td.link``/``td.size``/``td.date``) and Apache ``mod_autoindex`` (table or ``<pre>``).
  These carry no hashes.

Cells are recognised by content: a 64-hex-digit cell is the SHA-256, a date-looking cell
the date, a size-looking cell (``98.4M``, ``76.4 MiB``, ``103197056``) the size; a header
row, when present, only breaks ties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

#: A SHA-256 as hex (either case), the whole text.
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")

_NAME_RE = re.compile(
    r"^(?P<flavor>Miniconda[23]?)-"
    r"(?P<version>latest"
    r"|py(?P<py>\d+)_(?P<conda>\d+(?:\.\d+)*)(?:-(?P<build>\d+))?"
    r"|(?P<plain>\d+(?:\.\d+)*))"
    r"-(?P<os>Linux|MacOSX|Windows)-(?P<arch>[A-Za-z0-9_]+)\.(?P<ext>sh|pkg|exe)$"
)
_SHA_SEARCH = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_SIZE_RE = re.compile(
    r"^(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<unit>[KMGTP]i?B?|B|bytes?)?$", re.IGNORECASE
)
_SIZE_SEARCH = re.compile(
    r"(?<!\S)(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<unit>[KMGTP]i?B?|B|bytes?)?(?!\S)", re.IGNORECASE
)
_UNITS = {"": 1, "B": 1, "BYTE": 1, "BYTES": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_TIME = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
_ZONE = r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
# Month names are matched by hand, not with strptime("%b"), which follows the process locale
# (Qt sets LC_ALL from the environment, and "Jul" is not a month in every language).
_DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})[ T]" + _TIME + _ZONE),      # 2023-07-13 13:55:51
    re.compile(r"(?P<d>\d{1,2})-(?P<b>[A-Za-z]{3})-(?P<y>\d{4}) " + _TIME + _ZONE),     # 13-Jul-2023 13:55
    re.compile(r"(?P<d>\d{1,2}) (?P<b>[A-Za-z]{3}) (?P<y>\d{4}) " + _TIME + _ZONE),     # 18 Apr 2014 12:26:18 +0000
    re.compile(r"(?P<y>\d{4})-(?P<b>[A-Za-z]{3})-(?P<d>\d{1,2}) " + _TIME + _ZONE),     # 2023-Jul-13 13:55
]
_BLOCK_TAGS = {"br", "p", "li", "div", "pre", "hr", "table", "tr", "ul", "ol", "dd", "dt", "h1", "h2", "h3",
               "h4", "h5", "h6", "tbody", "thead", "body"}


# ---- data ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstallerEntry:
    """One installer listed by an index page.

    Attributes:
        filename: ``Miniconda3-py311_23.5.2-0-Linux-x86_64.sh``.
        url: absolute download URL.
        size: bytes as the page states it (exact for byte counts, rounded for ``98.4M``), or ``None``.
        last_modified: ``"2023-07-13 13:55:51"`` (seconds when the page gives them; server time, zone
            unknown except for fancyindex which prints UTC), or the page's text if not understood.
        sha256: lowercase hex when the page publishes it.
        flavor: ``Miniconda3``; old names give ``Miniconda2`` (Python 2) or ``Miniconda``.
        version: ``latest``, ``py311_23.5.2-0``, ``py39_4.9.2`` or ``4.7.12.1``.
        python_tag: ``py311`` or ``None``; conda_version: ``23.5.2`` or ``None`` for ``latest``;
        build: ``0`` or ``None``.
        os, arch, ext: ``Linux``/``MacOSX``/``Windows``, the installer's architecture spelling, ``sh``/``pkg``/``exe``.
    """

    filename: str
    url: str
    size: int | None
    last_modified: str | None
    sha256: str | None
    flavor: str
    version: str
    python_tag: str | None
    conda_version: str | None
    build: str | None
    os: str
    arch: str
    ext: str

    @property
    def platform_tag(self) -> str:
        return f"{self.os}-{self.arch}"

    @property
    def is_latest(self) -> bool:
        return self.version == "latest"


# ---- names, sizes, dates ---------------------------------------------------------------------

def parse_installer_name(name: str) -> dict[str, str | None] | None:
    """Split an installer file name into its parts, or ``None`` if it is not one.

    Accepts ``<Miniconda3|Miniconda2|Miniconda>-<latest|pyXY_VER-BUILD|pyXY_VER|VER>-<Linux|MacOSX|Windows>-<arch>.<sh|pkg|exe>``
    (every name in the 2013-2023 conda-docs hash table parses).

    Returns:
        ``{"flavor", "version", "python_tag", "conda_version", "build", "os", "arch", "ext"}``.
    """
    m = _NAME_RE.match(name.strip())
    if not m:
        return None
    if m["py"]:
        python_tag, conda_version = f"py{m['py']}", m["conda"]
    else:
        python_tag, conda_version = None, m["plain"]
    return {
        "flavor": m["flavor"],
        "version": m["version"],
        "python_tag": python_tag,
        "conda_version": conda_version,
        "build": m["build"],
        "os": m["os"],
        "arch": m["arch"],
        "ext": m["ext"],
    }


def parse_size(text: str) -> int | None:
    """``"98.4M"``, ``"76.4 MiB"``, ``"1.2K"``, ``"103197056"``, ``"103,197,056"`` -> bytes; else ``None``.

    K/M/G with or without ``i``/``B`` are binary (1024-based), as autoindex pages and the official
    page print them (98.4M there is 103,197,056 bytes).
    """
    m = _SIZE_RE.match(text.strip().replace("\xa0", " "))
    return _size_from_match(m) if m else None


def _size_from_match(m: re.Match[str]) -> int | None:
    num = m["num"].replace(",", "")
    unit = (m["unit"] or "").upper()
    key = unit if unit in _UNITS else unit[:1]
    if key not in _UNITS:
        return None
    value = float(num) * _UNITS[key]
    return int(round(value))


def parse_date(text: str) -> str | None:
    """A listing date in any of the known layouts -> ``"YYYY-MM-DD HH:MM[:SS]"``; else ``None``."""
    t = " ".join(text.replace("\xa0", " ").split())
    for pat in _DATE_PATTERNS:
        m = pat.fullmatch(t)
        if m:
            return _format_date(m)
    return None


def _format_date(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    month = int(g["m"]) if g.get("m") else _MONTHS.get((g.get("b") or "").lower())
    if not month or not 1 <= month <= 12:
        return None
    out = f"{int(g['y']):04d}-{month:02d}-{int(g['d']):02d} {int(g['H']):02d}:{g['M']}"
    return out + (f":{g['S']}" if g.get("S") else "")


# ---- HTML structure ------------------------------------------------------------------------

@dataclass
class _Cell:
    col: int
    span: int
    header: bool
    parts: list[str]
    links: list[tuple[str, str]]

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).replace("\xa0", " ").split())


@dataclass
class _Line:
    href: str
    link_text: str
    tail: list[str]


class _IndexParser(HTMLParser):
    """Collects table rows (cells with their text and links) and loose ``<a>`` lines (link + text after it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[int, list[_Cell]]] = []  # (table number, cells)
        self.lines: list[_Line] = []
        self._table = 0
        self._tr: list[_Cell] | None = None
        self._cell: _Cell | None = None
        self._next_col = 0
        self._a_href: str | None = None
        self._a_text: list[str] = []
        self._line: _Line | None = None
        self._skip = 0  # inside <script>/<style>

    # -- helpers
    def _end_line(self) -> None:
        if self._line is not None:
            self.lines.append(self._line)
            self._line = None

    def _end_cell(self) -> None:
        if self._cell is not None and self._tr is not None:
            self._tr.append(self._cell)
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._tr:
            self.rows.append((self._table, self._tr))
        self._tr = None

    # -- HTMLParser hooks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
            return
        if tag == "table":
            self._end_row()
            self._end_line()
            self._table += 1
        elif tag == "tr":
            self._end_row()
            self._end_line()
            self._tr = []
            self._next_col = 0
        elif tag in ("td", "th"):
            self._end_line()
            if self._tr is None:  # a cell without <tr>: tolerate
                self._tr = []
                self._next_col = 0
            self._end_cell()
            span = 1
            for k, v in attrs:
                if k == "colspan" and v and v.strip().isdigit():
                    span = max(1, int(v.strip()))
            self._cell = _Cell(self._next_col, span, tag == "th", [], [])
            self._next_col += span
        elif tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), None)
            if self._cell is None:
                self._end_line()
            self._a_href = href.strip() if href else None
            self._a_text = []
        elif tag in _BLOCK_TAGS:
            self._end_line()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
            return
        if tag == "a":
            if self._a_href is not None:
                text = "".join(self._a_text).strip()
                if self._cell is not None:
                    self._cell.links.append((self._a_href, text))
                else:
                    self._line = _Line(self._a_href, text, [])
            self._a_href = None
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table", "tbody", "thead", "tfoot"):
            self._end_row()
        elif tag in _BLOCK_TAGS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._a_href is not None:
            self._a_text.append(data)
        if self._cell is not None:
            self._cell.parts.append(data)
        elif self._line is not None and self._a_href is None:
            head, newline, _ = data.partition("\n")
            self._line.tail.append(head)
            if newline:
                self._end_line()

    def close(self) -> None:
        super().close()
        self._end_row()
        self._end_line()


def _header_role(text: str) -> str | None:
    t = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
    if not t:
        return None
    compact = t.replace(" ", "")
    if "sha256" in compact:
        return "sha256"
    if any(k in compact for k in ("md5", "sha1", "sha512", "sha384", "sha224", "blake", "checksum", "hash")):
        return "other"
    if "size" in t or t in ("bytes", "length"):
        return "size"
    if any(k in t for k in ("modified", "date", "time", "mtime", "updated")):
        return "date"
    if "name" in t or t in ("file", "installer", "link"):
        return "name"
    if any(k in t for k in ("description", "type", "comment")):
        return "other"
    return None


def _installer_link(base_url: str, href: str, text: str) -> tuple[str, str] | None:
    """``(filename, absolute url)`` if the link points at (or is labelled with) an installer name."""
    if href.startswith(("#", "?", "javascript:", "mailto:")):
        return None
    url = urljoin(base_url, href)
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if parse_installer_name(name):
        return name, url
    label = text.strip()
    if parse_installer_name(label) and not urlsplit(url).path.endswith("/"):
        return label, url
    return None


def _pick_fields(values: list[tuple[str | None, str]]) -> tuple[int | None, str | None, str | None]:
    """From ``(header role, cell text)`` pairs pick size, date and SHA-256 by content."""
    sha = date = None
    size_candidates: list[tuple[bool, int]] = []
    for role, text in values:
        if not text:
            continue
        if sha is None and role != "other" and SHA256_RE.match(text):
            sha = text.lower()
            continue
        if role in ("other", "sha256", "name"):
            continue
        if date is None:
            d = parse_date(text)
            if d is not None:
                date = d
                continue
        s = parse_size(text)
        if s is not None and role in (None, "size"):
            size_candidates.append((role == "size", s))
    size = None
    if size_candidates:
        size = sorted(size_candidates, key=lambda c: not c[0])[0][1]
    return size, date, sha


def _fields_from_text(text: str) -> tuple[int | None, str | None, str | None]:
    """Size, date and SHA-256 from the text after a link on a ``<pre>`` line."""
    t = " ".join(text.replace("\xa0", " ").split())
    sha = None
    m = _SHA_SEARCH.search(t)
    if m:
        sha = m.group(0).lower()
        t = t[: m.start()] + " " + t[m.end():]
    date = None
    for pat in _DATE_PATTERNS:
        m = pat.search(t)
        if m:
            date = _format_date(m)
            t = t[: m.start()] + " " + t[m.end():]
            break
    size = None
    for m in _SIZE_SEARCH.finditer(t):
        size = _size_from_match(m)
        if size is not None:
            break
    return size, date, sha


def _make_entry(name: str, url: str, size: int | None, date: str | None, sha: str | None) -> InstallerEntry:
    parts = parse_installer_name(name)
    assert parts is not None
    return InstallerEntry(filename=name, url=url, size=size, last_modified=date, sha256=sha, **parts)  # type: ignore[arg-type]


def parse_index(html: str, base_url: str) -> list[InstallerEntry]:
    """Every installer an index page links, in page order (a name listed twice is merged).

    Args:
        html: the page text.
        base_url: the page's URL (after redirects); relative, absolute and %-encoded links resolve against it.

    Returns:
        :class:`InstallerEntry` list; empty when the page links no installer.
    """
    parser = _IndexParser()
    parser.feed(html)
    parser.close()

    found: dict[str, InstallerEntry] = {}

    def add(entry: InstallerEntry) -> None:
        old = found.get(entry.filename)
        if old is None:
            found[entry.filename] = entry
            return
        found[entry.filename] = InstallerEntry(
            filename=old.filename, url=old.url,
            size=old.size if old.size is not None else entry.size,
            last_modified=old.last_modified or entry.last_modified,
            sha256=old.sha256 or entry.sha256,
            flavor=old.flavor, version=old.version, python_tag=old.python_tag,
            conda_version=old.conda_version, build=old.build, os=old.os, arch=old.arch, ext=old.ext,
        )

    headers: dict[int, dict[int, str]] = {}
    for table, cells in parser.rows:
        link_cell = None
        link = None
        for cell in cells:
            for href, text in cell.links:
                link = _installer_link(base_url, href, text)
                if link:
                    link_cell = cell
                    break
            if link:
                break
        if link is None:
            roles = {c.col: r for c in cells if (r := _header_role(c.text))}
            if len(roles) >= 2 or (cells and all(c.header for c in cells) and roles):
                headers[table] = roles
            continue
        roles = headers.get(table, {})
        values = [(roles.get(c.col), c.text) for c in cells if c is not link_cell]
        size, date, sha = _pick_fields(values)
        add(_make_entry(link[0], link[1], size, date, sha))

    for line in parser.lines:
        link = _installer_link(base_url, line.href, line.link_text)
        if link is None:
            continue
        size, date, sha = _fields_from_text("".join(line.tail))
        add(_make_entry(link[0], link[1], size, date, sha))
    return list(found.values())
