"""Regenerate the sample index pages in this folder from the pinned hash table.

Run from the repository root: ``python tests/data/index_pages/make_samples.py``.
Rows (names, MiB sizes, dates, SHA-256) are real, from resources/miniconda_hashes.csv
(conda-docs miniconda_hashes.rst, 2023-07-13). The ``latest`` aliases carry the values of
their py311_23.5.2-0 twins (conda-docs miniconda.rst of the same date; Windows-x86 latest =
py39_4.12.0). Byte counts on the nginx page are MiB x 1048576, rounded (the table only
has MiB). The page layouts follow each server's source, see README.md here.
"""

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
PLATS = ["Linux-aarch64.sh", "Linux-ppc64le.sh", "Linux-s390x.sh", "Linux-x86_64.sh", "MacOSX-arm64.pkg",
         "MacOSX-arm64.sh", "MacOSX-x86_64.pkg", "MacOSX-x86_64.sh", "Windows-x86_64.exe"]


def load_entries():
    rows = {r["filename"]: r for r in csv.DictReader(open(ROOT / "resources" / "miniconda_hashes.csv"))}
    latest = [(f"Miniconda3-latest-{p}", f"Miniconda3-py311_23.5.2-0-{p}") for p in PLATS]
    latest.append(("Miniconda3-latest-Windows-x86.exe", "Miniconda3-py39_4.12.0-Windows-x86.exe"))
    versioned = ([f"Miniconda3-py311_23.5.2-0-{p}" for p in PLATS] + [f"Miniconda3-py310_23.5.2-0-{p}" for p in PLATS]
                 + ["Miniconda3-py39_4.12.0-Windows-x86.exe", "Miniconda3-py38_4.10.1-MacOSX-arm64.sh",
                    "Miniconda3-4.7.12.1-Linux-x86_64.sh", "Miniconda2-4.7.12.1-Linux-x86_64.sh",
                    "Miniconda-3.16.0-Linux-x86_64.sh", "Miniconda-1.6.0-Linux-x86_64.sh"])
    entries = []
    for alias, twin in latest:
        r = rows[twin]
        entries.append((alias, r["size"], r["last_modified"], r["sha256"]))
    for v in versioned:
        r = rows[v]
        entries.append((v, r["size"], r["last_modified"], r["sha256"]))
    return entries


def mib(s):
    return float(s.split()[0])


def nbytes(s):
    return int(round(mib(s) * 1048576))


def official(entries):
    lines = ["<!DOCTYPE html>", "<html>", "<head>", '  <meta charset="utf-8">', "  <title>Index of /miniconda/</title>",
             "  <style>", "    body { font-family: sans-serif; }", "    td.s { text-align: right; }", "  </style>",
             "</head>", "<body>", "<h1>Index of /miniconda/</h1>", "<table>", "    <tr>", "        <th>Filename</th>",
             "        <th>Size</th>", "        <th>Last Modified</th>", "        <th>SHA256</th>", "    </tr>"]
    for n, s, d, h in entries:
        lines += ["    <tr>", f'        <td><a href="/miniconda/{n}">{n}</a></td>', f'        <td class="s">{mib(s):.1f}M</td>',
                  f"        <td>{d}</td>", f"        <td>{h}</td>", "    </tr>"]
    lines += ["</table>", "</body>", "</html>", ""]
    return "\n".join(lines).encode()


def nginx(entries):
    def ndate(d):
        y, m, rest = d.split("-")
        day, t = rest.split(" ")
        return f"{day}-{MON[int(m) - 1]}-{y} {t[:5]}"
    # ngx_http_autoindex_module: name padded to 50 columns, " ", date, " ", size "%19O", CRLF.
    buf = ("<html>\r\n<head><title>Index of /anaconda/miniconda/</title></head>\r\n<body>\r\n"
           "<h1>Index of /anaconda/miniconda/</h1><hr><pre><a href=\"../\">../</a>\r\n")
    for n, s, d, _ in sorted(entries):
        buf += f'<a href="{n}">{n}</a>' + " " * (50 - len(n)) + " " + ndate(d) + " " + f"{nbytes(s):>19}" + "\r\n"
    buf += "</pre><hr></body>\r\n</html>\r\n"
    return buf.encode()


def fancyindex(entries):
    def fdate(d):
        y, m, rest = d.split("-")
        day, t = rest.split(" ")
        return f"{day} {MON[int(m) - 1]} {y} {t} +0000"
    buf = ('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
           '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
           '<title>Index of /anaconda/miniconda/</title>\n'
           '<link rel="stylesheet" href="/static/css/mirror-index.css">\n</head>\n<body>\n<div class="container">\n'
           '<h1>Index of /anaconda/miniconda/</h1>\n'
           '<table id="list"><thead><tr><th colspan="2"><a href="?C=N&amp;O=A">File Name</a>&nbsp;'
           '<a href="?C=N&amp;O=D">&nbsp;&darr;&nbsp;</a></th><th><a href="?C=S&amp;O=A">File Size</a>&nbsp;'
           '<a href="?C=S&amp;O=D">&nbsp;&darr;&nbsp;</a></th><th><a href="?C=M&amp;O=A">Date</a>&nbsp;'
           '<a href="?C=M&amp;O=D">&nbsp;&darr;&nbsp;</a></th></tr></thead>\n<tbody>\n'
           '<tr><td colspan="2" class="link"><a href="../?C=N&amp;O=A">Parent directory/</a></td>'
           '<td class="size">-</td><td class="date">-</td></tr>\r\n')
    for n, s, d, _ in sorted(entries):
        buf += (f'<tr><td colspan="2" class="link"><a href="{n}" title="{n}">{n}</a></td>'
                f'<td class="size">{mib(s):.1f} MiB</td><td class="date">{fdate(d)}</td></tr>\r\n')
    buf += "</tbody></table>\n</div>\n<footer>Mirror footer</footer>\n</body>\n</html>\n"
    return buf.encode()


def asize(s):
    v = mib(s)
    return f"{v:.1f}M" if v < 9.95 else f"{v:.0f}M"


APACHE_HEAD = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n'
               '  <title>Index of /miniconda</title>\n </head>\n <body>\n<h1>Index of /miniconda</h1>\n')


def apache_table(entries):
    # Debian's autoindex.conf: IndexOptions FancyIndexing VersionSort HTMLTable NameWidth=* ...
    buf = APACHE_HEAD + (
        '  <table>\n   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th>'
        '<th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>'
        '<th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>\n'
        '   <tr><th colspan="5"><hr></th></tr>\n'
        '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a>'
        '</td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>\n')
    for n, s, d, _ in sorted(entries):
        buf += (f'<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="{n}">{n}</a></td>'
                f'<td align="right">{d[:16]}  </td><td align="right">{asize(s):>4}</td><td>&nbsp;</td></tr>\n')
    buf += ('   <tr><th colspan="5"><hr></th></tr>\n</table>\n'
            '<address>Apache/2.4.57 (Debian) Server at mirror.example.org Port 443</address>\n</body></html>\n')
    return buf.encode()


def apache_pre(entries):
    # FancyIndexing without HTMLTable: <pre>, NameWidth 23 (names cut to 20 chars + "..>").
    buf = APACHE_HEAD + (
        '<pre><img src="/icons/blank.gif" alt="Icon "> <a href="?C=N;O=D">Name</a>                    '
        '<a href="?C=M;O=A">Last modified</a>      <a href="?C=S;O=A">Size</a>  <a href="?C=D;O=A">Description</a>'
        '<hr><img src="/icons/back.gif" alt="[PARENTDIR]"> <a href="/">Parent Directory</a>                             -   \n')
    for n, s, d, _ in sorted(entries):
        shown = n if len(n) <= 23 else n[:20] + "..&gt;"
        pad = " " * (23 - min(len(n), 23))
        buf += f'<img src="/icons/unknown.gif" alt="[   ]"> <a href="{n}">{shown}</a>{pad} {d[:16]}  {asize(s):>4}  \n'
    buf += ('<hr></pre>\n<address>Apache/2.4.57 (Debian) Server at mirror.example.org Port 80</address>\n'
            '</body></html>\n')
    return buf.encode()


def main():
    entries = load_entries()
    (HERE / "official.html").write_bytes(official(entries))
    (HERE / "nginx_autoindex.html").write_bytes(nginx(entries))
    (HERE / "fancyindex.html").write_bytes(fancyindex(entries))
    (HERE / "apache_table.html").write_bytes(apache_table(entries))
    (HERE / "apache_pre.html").write_bytes(apache_pre(entries))
    with open(HERE / "expected.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["filename", "size", "last_modified", "sha256"])
        for n, s, d, h in entries:
            w.writerow([n, s, d, h])


if __name__ == "__main__":
    main()
