"""A stand-in Miniconda installer directory (``.../miniconda/``) for the local test HTTP server.

:func:`build_mirror` writes ``root/index.html`` listing every real installer row from the official conda-docs
hash table (``tests/data/miniconda/miniconda_hashes_conda-docs_2023-07-13.csv``: 777 rows, Miniconda-1.6.0 to
Miniconda3-py311_23.5.2-0, copied from conda/conda-docs ``docs/source/miniconda_hashes.rst`` @ 05a5cb4b) plus one
row per given stand-in installer (real size and SHA-256 of its bytes), and copies those installers into ``root``.
The real rows have no file behind them: fetching one gives 404, which tests can use.

Layouts:

* ``"official"``: the repo.anaconda.com table. Columns ``Filename | Size | Last Modified | SHA256``, one ``<tr>``
  per file, ``<td><a href="NAME">NAME</a></td><td>98.4M</td><td>2023-07-13 13:55:51</td><td>HEX</td>``.
  Sources: the same server's ``/pkgs/misc/conda-execs`` listing (docs corpus: columns Filename, Size,
  Last Modified, MD5; sizes like ``14.8M``; dates like ``2021-10-01 12:36:25``), a public script's grep pattern
  ``Miniconda3-latest-Linux-x86_64.sh</a></td><td>[^<]*</td><td>)[a-f0-9]{64}`` and the-littlest-jupyterhub
  PR #570 (SHA256 column). The surrounding HTML (title, header row markup) is an inference; no raw copy of the
  page was found. Sizes under 1 MiB are written ``12.3K`` (also an inference).
* ``"fancyindex"``: the nginx ngx-fancyindex table TUNA-style mirrors serve (aperezdc/ngx-fancyindex
  ``template.html`` / module source; tuna/mirror-web ``fancyindex_time_format "%d %b %Y %H:%M:%S +0000"``,
  ``exact_size off``): ``<table id="list">``, a ``Parent directory/`` row, then
  ``<tr><td colspan="2" class="link"><a href="NAME">NAME</a></td><td class="size">98.4 MiB</td>
  <td class="date">13 Jul 2023 13:55:51 +0000</td></tr>`` - and NO hash column.

Stand-in rows come first (newest), then the real rows in the conda-docs order.
"""

from __future__ import annotations

import csv
import hashlib
import html
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REAL_HASHES_CSV = DATA_DIR / "miniconda" / "miniconda_hashes_conda-docs_2023-07-13.csv"


@dataclass(frozen=True)
class Row:
    """One installer in an index: name, size in bytes (approximate for real rows), UTC time, SHA-256 hex."""

    filename: str
    size: int
    last_modified: datetime
    sha256: str


def real_rows() -> list[Row]:
    """The 777 real rows of the conda-docs table (sizes from ``76.4 MiB`` text, so rounded to 0.1 MiB)."""
    rows = []
    with REAL_HASHES_CSV.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            number, unit = rec["size"].split()
            assert unit == "MiB", rec
            rows.append(Row(
                rec["filename"],
                round(float(number) * 1024 * 1024),
                datetime.strptime(rec["last_modified"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc),
                rec["sha256"].lower(),
            ))
    return rows


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_row(path: Path) -> Row:
    """The row for a real file: its name, byte size, mtime (UTC, whole seconds) and SHA-256."""
    st = path.stat()
    return Row(path.name, st.st_size, datetime.fromtimestamp(int(st.st_mtime), timezone.utc), sha256_file(path))


def build_mirror(root: Path, installers: list[Path], layout: str = "official") -> Path:
    """Copy ``installers`` into ``root`` and write ``root/index.html`` listing them and the real rows.

    Args:
        root: the directory to serve (created if missing).
        installers: stand-in installer files (for example from ``build_standin_installer``).
        layout: ``"official"`` (repo.anaconda.com table with SHA256) or ``"fancyindex"`` (TUNA-style, no hashes).

    Returns:
        ``root`` (give it to ``LocalServer``; the index is ``root/index.html``, served at ``/``).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    own = []
    for src in installers:
        dest = root / Path(src).name
        if Path(src).resolve() != dest.resolve():
            shutil.copy2(src, dest)
        own.append(file_row(dest))
    rows = own + [r for r in real_rows() if r.filename not in {o.filename for o in own}]
    if layout == "official":
        text = _official(rows)
    elif layout == "fancyindex":
        text = _fancyindex(rows)
    else:
        raise ValueError(f"unknown layout {layout!r}; use 'official' or 'fancyindex'")
    (root / "index.html").write_text(text, encoding="utf-8")
    return root


def _size_short(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}M"
    return f"{size / 1024:.1f}K"


def _size_fancy(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    return f"{size / 1024:.1f} KiB"


def _official(rows: list[Row]) -> str:
    out = [
        "<!DOCTYPE html>",
        "<html>",
        "<head><meta charset=\"utf-8\"><title>Index of /miniconda/</title></head>",
        "<body>",
        "<h2>Miniconda installer archive</h2>",
        "<table>",
        "<tr><th>Filename</th><th>Size</th><th>Last Modified</th><th>SHA256</th></tr>",
    ]
    for r in rows:
        name = html.escape(r.filename)
        out.append(
            f'<tr><td><a href="{name}">{name}</a></td><td>{_size_short(r.size)}</td>'
            f"<td>{r.last_modified:%Y-%m-%d %H:%M:%S}</td><td>{r.sha256}</td></tr>"
        )
    out += ["</table>", "</body>", "</html>", ""]
    return "\n".join(out)


def _fancyindex(rows: list[Row]) -> str:
    out = [
        "<!DOCTYPE html>",
        "<html>",
        "<head><meta charset=\"utf-8\"><title>Index of /anaconda/miniconda/</title></head>",
        "<body>",
        "<h1>Index of /anaconda/miniconda/</h1>",
        '<table id="list"><thead><tr><th colspan="2"><a href="?C=N&amp;O=A">File Name</a>&nbsp;'
        '<a href="?C=N&amp;O=D">&nbsp;&darr;&nbsp;</a></th><th><a href="?C=S&amp;O=A">File Size</a>&nbsp;'
        '<a href="?C=S&amp;O=D">&nbsp;&darr;&nbsp;</a></th><th><a href="?C=M&amp;O=A">Date</a>&nbsp;'
        '<a href="?C=M&amp;O=D">&nbsp;&darr;&nbsp;</a></th></tr></thead>',
        "<tbody>",
        '<tr><td colspan="2" class="link"><a href="../">Parent directory/</a></td>'
        '<td class="size">-</td><td class="date">-</td></tr>',
    ]
    for r in rows:
        name = html.escape(r.filename)
        out.append(
            f'<tr><td colspan="2" class="link"><a href="{name}" title="{name}">{name}</a></td>'
            f'<td class="size">{_size_fancy(r.size)}</td>'
            f'<td class="date">{r.last_modified:%d %b %Y %H:%M:%S} +0000</td></tr>'
        )
    out += ["</tbody></table>", "</body>", "</html>", ""]
    return "\n".join(out)


def build_release_folder(root: Path, installers: list[Path], *, with_sha256: bool = True) -> Path:
    """A Miniforge-style release folder (issue 7): each installer under its asset name, and (``with_sha256``)
    ``<asset>.sha256`` beside it holding ``sha256sum`` output, ``HEX  NAME`` and a newline - what GitHub Releases of
    conda-forge/miniforge publish per asset and what ``…/github-release/conda-forge/miniforge/LatestRelease/`` on
    TUNA and USTC copies. No index page: nothing lists the assets (GitHub's ``releases/latest/download/`` is a
    redirect, not a listing). A mirror without the hash files is ``with_sha256=False``.

    Returns:
        ``root`` (serve it with ``LocalServer``; the installer is at ``/<asset>``).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for src in installers:
        dest = root / Path(src).name
        if Path(src).resolve() != dest.resolve():
            shutil.copy2(src, dest)
        if with_sha256:
            (root / (dest.name + ".sha256")).write_text(f"{sha256_file(dest)}  {dest.name}\n", encoding="utf-8")
    return root
