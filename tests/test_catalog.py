"""Step 1 (catalog): installer names, index pages of every known layout, choosing, hashes, resolve.

Index pages are served by the real test HTTP server on 127.0.0.1; the sample pages live in
tests/data/index_pages/ (see the README there for where each layout comes from).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from app.core import catalog, net
from app.core.catalog import InstallerChoice, choose, fetch_index, pinned_sha256, resolve
from app.core.errors import Cancelled, CatalogError, UsageError
from app.core.events import CancelToken, RecordingReporter
from app.core.index_page import parse_date, parse_index, parse_installer_name, parse_size
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import Fault, LocalServer

PAGES = Path(__file__).parent / "data" / "index_pages"
REPO = Path(__file__).resolve().parent.parent
BASE = "http://mirror.example.org/anaconda/miniconda/"
LINUX = PlatformInfo("Linux", "x86_64")
MAC_ARM = PlatformInfo("MacOSX", "arm64")
WIN = PlatformInfo("Windows", "x86_64")


def expected_rows() -> dict[str, dict[str, str]]:
    with open(PAGES / "expected.csv", newline="") as fh:
        return {r["filename"]: r for r in csv.DictReader(fh)}


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    # The last hash look-up goes to repo.anaconda.com by default; tests must stay on 127.0.0.1.
    monkeypatch.setattr(catalog, "OFFICIAL_INDEX_URL", "http://127.0.0.1:9/miniconda/")


@pytest.fixture
def session():
    s = net.make_session(retry=net.make_retry(backoff_factor=0))
    yield s
    s.close()


#: folder on the shared test server -> sample page served as its index.html
FOLDERS = {
    "official": "official.html",
    "nginx": "nginx_autoindex.html",
    "fancy": "fancyindex.html",
    "apache": "apache_table.html",
    "apache-pre": "apache_pre.html",
    "empty": "no_installers.html",
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """One server for the module (stopping a LocalServer takes ~0.5 s); requests and faults reset per test."""
    root = tmp_path_factory.mktemp("index-server")
    for folder, page in FOLDERS.items():
        (root / folder).mkdir()
        shutil.copy(PAGES / page, root / folder / "index.html")
    with LocalServer(root) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_server(request):
    if "srv" in request.fixturenames:
        server = request.getfixturevalue("srv")
        server.clear_faults()
        with server.state.lock:
            server.state.requests.clear()
    yield


# ---- names --------------------------------------------------------------------------------

def test_every_pinned_name_parses():
    with open(REPO / "resources" / "miniconda_hashes.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 777
    for row in rows:
        assert parse_installer_name(row["filename"]) is not None, row["filename"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Miniconda3-latest-Linux-x86_64.sh",
         dict(flavor="Miniconda3", version="latest", python_tag=None, conda_version=None, build=None,
              os="Linux", arch="x86_64", ext="sh")),
        ("Miniconda3-py311_23.5.2-0-MacOSX-arm64.pkg",
         dict(flavor="Miniconda3", version="py311_23.5.2-0", python_tag="py311", conda_version="23.5.2", build="0",
              os="MacOSX", arch="arm64", ext="pkg")),
        ("Miniconda3-py39_4.12.0-Windows-x86.exe",
         dict(flavor="Miniconda3", version="py39_4.12.0", python_tag="py39", conda_version="4.12.0", build=None,
              os="Windows", arch="x86", ext="exe")),
        ("Miniconda3-4.7.12.1-Linux-ppc64le.sh",
         dict(flavor="Miniconda3", version="4.7.12.1", python_tag=None, conda_version="4.7.12.1", build=None,
              os="Linux", arch="ppc64le", ext="sh")),
        ("Miniconda2-py27_4.8.3-Linux-x86_64.sh",
         dict(flavor="Miniconda2", version="py27_4.8.3", python_tag="py27", conda_version="4.8.3", build=None,
              os="Linux", arch="x86_64", ext="sh")),
        ("Miniconda-1.6.0-Linux-x86_64.sh",
         dict(flavor="Miniconda", version="1.6.0", python_tag=None, conda_version="1.6.0", build=None,
              os="Linux", arch="x86_64", ext="sh")),
    ],
)
def test_parse_installer_name(name, expected):
    assert parse_installer_name(name) == expected


@pytest.mark.parametrize("name", [
    "Miniconda3-latest-Linux-x86_64.sh.sha256",
    "Anaconda3-2023.07-1-Linux-x86_64.sh",
    "Miniconda3-latest-FreeBSD-x86_64.sh",
    "Miniconda3-latest-Linux-x86_64.zip",
    "Miniforge3-Linux-x86_64.sh",
    "index.html",
    "",
])
def test_parse_installer_name_rejects(name):
    assert parse_installer_name(name) is None


@pytest.mark.parametrize("text, expected", [
    ("98.4M", 103179878),
    ("76.4 MiB", 80111206),
    ("1.2 KiB", 1229),
    ("1.2K", 1229),
    ("98M", 102760448),
    ("2G", 2 << 30),
    ("103197056", 103197056),
    ("103,197,056", 103197056),
    ("512 B", 512),
    ("98.4\xa0MiB", 103179878),
    ("-", None),
    ("", None),
    ("2023-07-13", None),
    ("ten", None),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2023-07-13 13:55:51", "2023-07-13 13:55:51"),
    ("2023-07-13 13:55", "2023-07-13 13:55"),
    ("13-Jul-2023 13:55", "2023-07-13 13:55"),
    ("18 Apr 2014 12:26:18 +0000", "2014-04-18 12:26:18"),
    ("2023-Jul-13 13:55", "2023-07-13 13:55"),
    ("2023-07-13T13:55:51Z", "2023-07-13 13:55:51"),
    ("  2023-07-13\n   13:55:51 ", "2023-07-13 13:55:51"),
    ("13-Foo-2023 13:55", None),
    ("98.4M", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


# ---- index layouts ------------------------------------------------------------------------

@pytest.mark.parametrize("page, has_hash, size_tolerance, seconds", [
    ("official.html", True, 0.05 * 2**20, True),
    ("nginx_autoindex.html", False, 0, False),
    ("fancyindex.html", False, 0.05 * 2**20, True),
    ("apache_table.html", False, 0.5 * 2**20, False),
    ("apache_pre.html", False, 0.5 * 2**20, False),
])
def test_parse_index_layouts(page, has_hash, size_tolerance, seconds):
    rows = expected_rows()
    entries = parse_index((PAGES / page).read_text(encoding="utf-8"), BASE)
    assert sorted(e.filename for e in entries) == sorted(rows)
    for e in entries:
        row = rows[e.filename]
        assert e.url.endswith("/" + e.filename)
        assert e.url.startswith("http://mirror.example.org/")
        assert e.sha256 == (row["sha256"] if has_hash else None)
        exact = float(row["size"].split()[0]) * 2**20
        assert e.size is not None and abs(e.size - exact) <= size_tolerance + 1
        want_date = row["last_modified"] if seconds else row["last_modified"][:16]
        assert e.last_modified == want_date
        assert e == e  # frozen dataclass, hashable
        hash(e)


def test_official_layout_resolves_absolute_path_links():
    entries = parse_index((PAGES / "official.html").read_text(), "https://repo.anaconda.com/miniconda/")
    e = next(e for e in entries if e.filename == "Miniconda3-latest-Linux-x86_64.sh")
    assert e.url == "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh"
    assert e.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
    assert e.size == round(98.4 * 2**20)
    assert (e.flavor, e.version, e.os, e.arch, e.ext) == ("Miniconda3", "latest", "Linux", "x86_64", "sh")


def test_shuffled_columns_odd_markup():
    entries = {e.filename: e for e in parse_index((PAGES / "shuffled_odd.html").read_text(), BASE)}
    assert set(entries) == {
        "Miniconda3-latest-Linux-x86_64.sh",
        "Miniconda3-latest-MacOSX-arm64.sh",
        "Miniconda3-latest-MacOSX-arm64.pkg",
        "Miniconda3-py311_23.5.2-0-Windows-x86_64.exe",
        "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh",
    }
    linux = entries["Miniconda3-latest-Linux-x86_64.sh"]
    # %-encoded href: the name is decoded, the URL kept as the page gave it; the link inside the
    # <script> (same name, unencoded) was not taken.
    assert linux.url == BASE + "Miniconda3-latest-Linux-x86%5F64.sh"
    assert linux.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"  # upper-case on the page
    assert linux.size == round(98.4 * 2**20)
    assert linux.last_modified == "2023-07-13 13:55:51"
    mac = entries["Miniconda3-latest-MacOSX-arm64.sh"]  # cells without </TD>
    assert mac.url == "http://files.example.org/pub/miniconda/Miniconda3-latest-MacOSX-arm64.sh"
    assert mac.sha256 == "c8f436dbde130f171d39dd7b4fca669c223f130ba7789b83959adc1611a35644"
    assert mac.size == round(68.6 * 2**20)
    pkg = entries["Miniconda3-latest-MacOSX-arm64.pkg"]
    assert pkg.url == BASE + "Miniconda3-latest-MacOSX-arm64.pkg"  # ./sub/../ removed
    assert pkg.size == 71406387  # "71,406,387", and the all-digit MD5 cell was not taken as the size
    win = entries["Miniconda3-py311_23.5.2-0-Windows-x86_64.exe"]
    assert win.last_modified == "2023-07-13 13:55"
    assert win.size == round(73.2 * 2**20)
    bare = entries["Miniconda3-py310_23.5.2-0-Linux-x86_64.sh"]
    assert bare.url == "http://mirror.example.org/other/Miniconda3-py310_23.5.2-0-Linux-x86_64.sh"
    assert (bare.size, bare.sha256) == (None, None)


def test_parse_index_without_installers():
    assert parse_index((PAGES / "no_installers.html").read_text(), BASE) == []
    assert parse_index("", BASE) == []
    assert parse_index("<html><body><p>Not an index</p>", BASE) == []


def test_parse_index_merges_duplicate_rows():
    html = ("<table><tr><td><a href='Miniconda3-latest-Linux-x86_64.sh'>x</a></td><td>98.4M</td></tr></table>"
            "<pre><a href='Miniconda3-latest-Linux-x86_64.sh'>x</a> 13-Jul-2023 13:55 "
            "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817\n</pre>")
    (e,) = parse_index(html, BASE)
    assert e.size == round(98.4 * 2**20)
    assert e.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
    assert e.last_modified == "2023-07-13 13:55"


# ---- choose -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def official_entries():
    return parse_index((PAGES / "official.html").read_text(), BASE)


@pytest.mark.parametrize("platform, expected", [
    (LINUX, "Miniconda3-latest-Linux-x86_64.sh"),
    (MAC_ARM, "Miniconda3-latest-MacOSX-arm64.sh"),
    (PlatformInfo("MacOSX", "x86_64"), "Miniconda3-latest-MacOSX-x86_64.sh"),
    (WIN, "Miniconda3-latest-Windows-x86_64.exe"),
    (PlatformInfo("Linux", "aarch64"), "Miniconda3-latest-Linux-aarch64.sh"),
])
def test_choose_latest(official_entries, platform, expected):
    assert choose(official_entries, platform).filename == expected


def test_choose_mac_pkg_when_no_sh(official_entries):
    only_pkg = [e for e in official_entries if not (e.os == "MacOSX" and e.ext == "sh")]
    assert choose(only_pkg, MAC_ARM).filename == "Miniconda3-latest-MacOSX-arm64.pkg"


def test_choose_newest_versioned_without_latest(official_entries):
    versioned = [e for e in official_entries if not e.is_latest]
    assert choose(versioned, LINUX).filename == "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    assert choose(versioned, MAC_ARM).filename == "Miniconda3-py311_23.5.2-0-MacOSX-arm64.sh"
    old = [e for e in versioned if e.conda_version in ("4.7.12.1",) or e.flavor != "Miniconda3"]
    # Miniconda2/Miniconda (Python 2 era) are never picked; the newest Miniconda3 is.
    assert choose(old, LINUX).filename == "Miniconda3-4.7.12.1-Linux-x86_64.sh"
    # packaging.version, not string order: 4.10 > 4.9.
    names = ["Miniconda3-py39_4.9.2-Linux-x86_64.sh", "Miniconda3-py39_4.10.3-Linux-x86_64.sh"]
    entries = parse_index("".join(f"<a href='{n}'>{n}</a>\n" for n in names), BASE)
    assert choose(entries, LINUX).filename == "Miniconda3-py39_4.10.3-Linux-x86_64.sh"


def test_choose_by_name(official_entries):
    e = choose(official_entries, LINUX, "Miniconda3-py310_23.5.2-0-Windows-x86_64.exe")
    assert e.filename == "Miniconda3-py310_23.5.2-0-Windows-x86_64.exe"
    with pytest.raises(CatalogError) as info:
        choose(official_entries, LINUX, "Miniconda3-py312_24.1.2-0-Linux-x86_64.sh")
    assert "not listed" in info.value.message
    assert "Miniconda3-latest-Linux-x86_64.sh" in info.value.message  # suggestions for the platform
    assert "--installer" in info.value.fix


def test_choose_no_installer_for_platform(official_entries):
    with pytest.raises(CatalogError) as info:
        choose(official_entries, PlatformInfo("Windows", "arm64"))
    msg = info.value.message
    assert "Windows-arm64" in msg
    for tag in ("Linux-x86_64", "MacOSX-arm64", "Windows-x86_64"):
        assert tag in msg
    assert "--installer-file" in info.value.fix


# ---- pinned table -------------------------------------------------------------------------

def test_pinned_sha256():
    assert pinned_sha256("Miniconda3-py311_23.5.2-0-Linux-x86_64.sh") == \
        "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
    assert pinned_sha256("Miniconda-1.6.0-Linux-x86_64.sh") == \
        "fc3786cdfac455382f86a3a6fb1f09a07f68218d929cb409c0207da21d90d7be"
    # "latest" moves: never answered from the table, even though the 2023 twin is there.
    assert pinned_sha256("Miniconda3-latest-Linux-x86_64.sh") is None
    assert pinned_sha256("Miniconda3-py312_24.1.2-0-Linux-x86_64.sh") is None
    assert pinned_sha256("not-an-installer.txt") is None


def test_pinned_table_is_the_shared_fixture():
    assert (REPO / "resources" / "miniconda_hashes.csv").read_bytes().startswith(b"filename,size,last_modified,sha256")


# ---- fetch_index over HTTP ----------------------------------------------------------------

@pytest.mark.parametrize("folder", ["official", "nginx", "fancy", "apache", "apache-pre"])
def test_fetch_index_and_choose_latest(srv, session, folder):
    entries = fetch_index(srv.url(folder + "/"), session, CancelToken())
    for platform, ext in ((LINUX, "sh"), (MAC_ARM, "sh"), (WIN, "exe")):
        e = choose(entries, platform)
        assert e.filename == f"Miniconda3-latest-{platform.tag}.{ext}"
        assert e.url.startswith(srv.base_url)
        assert e.url.endswith("/" + e.filename)
    user_agents = {h.get("User-Agent") for _, _, h in srv.state.requests}
    assert user_agents == {net.USER_AGENT}


def test_fetch_index_404(srv, session):
    with pytest.raises(CatalogError) as info:
        fetch_index(srv.url("nothing/"), session, CancelToken())
    assert "404" in info.value.message
    assert "mirror URL" in info.value.fix


def test_fetch_index_server_error_after_retries(srv, session):
    srv.fault("/official/", Fault(status=503))
    with pytest.raises(CatalogError) as info:
        fetch_index(srv.url("official/"), session, CancelToken())
    gets = [r for r in srv.state.requests if r[1] == "/official/"]
    assert "503" in info.value.message
    assert len(gets) == 4  # the first try and 3 retries (urllib3 Retry, status=3)


def test_fetch_index_retries_a_transient_error(srv, session):
    srv.fault("/official/", Fault(status=502, times=1))
    entries = fetch_index(srv.url("official/"), session, CancelToken())
    assert len(entries) == 34


def test_fetch_index_unreachable_names_mirror_and_proxy(session):
    url = "http://127.0.0.1:9/miniconda/"  # discard port: nothing listens, connection refused
    with pytest.raises(CatalogError) as info:
        fetch_index(url, session, CancelToken())
    assert url in info.value.message
    assert "refused" in info.value.message
    assert "--mirror" in info.value.fix and "HTTPS_PROXY" in info.value.fix


def test_fetch_index_no_installers(srv, session):
    with pytest.raises(CatalogError) as info:
        fetch_index(srv.url("empty/"), session, CancelToken())
    assert "no Miniconda installers" in info.value.message


def test_fetch_index_cancelled(srv, session):
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        fetch_index(srv.url("official/"), session, cancel)


def test_fetch_index_links_relative_to_the_page_url(srv, session):
    entries = fetch_index(srv.url("nginx/index.html"), session, CancelToken())
    assert all(e.url.startswith(srv.url("nginx/Miniconda")) for e in entries)


# ---- resolve ------------------------------------------------------------------------------

def plan_for(mirror: str, **kw) -> InstallPlan:
    return InstallPlan(platform=LINUX, mirror=mirror, **kw)


def test_resolve_hash_from_index(srv, session):
    rep = RecordingReporter()
    choice = resolve(plan_for(srv.url("official/")), session, rep, CancelToken())
    assert isinstance(choice, InstallerChoice)
    assert choice.filename == "Miniconda3-latest-Linux-x86_64.sh"
    # The official page links "/miniconda/<name>" (absolute path): resolved against the server.
    assert choice.url == srv.url("miniconda/Miniconda3-latest-Linux-x86_64.sh")
    assert choice.local_path is None
    assert choice.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
    assert choice.hash_source == "index"
    assert choice.size == round(98.4 * 2**20)
    assert choice.entry is not None and choice.entry.filename == choice.filename
    infos = {key: value for _, key, value in rep.of("info")}
    assert infos["hash_source"] == "index" and infos["installer"] == choice.filename


def test_resolve_with_entries_already_read_does_not_fetch_again(srv, session):
    url = srv.url("official/")
    entries = fetch_index(url, session, CancelToken())
    with srv.state.lock:
        srv.state.requests.clear()
    rep = RecordingReporter()
    choice = resolve(plan_for(url), session, rep, CancelToken(), entries=entries)
    assert srv.state.requests == []  # the rows given were used
    assert choice == resolve(plan_for(url), session, RecordingReporter(), CancelToken())  # same as reading it
    assert [r[1] for r in srv.state.requests] == ["/official/"]
    assert any("read before" in line for _, line, _ in rep.of("log"))
    # a name the rows given do not list is refused like one the index does not list
    with pytest.raises(CatalogError):
        resolve(plan_for(url, installer="Miniconda3-nope.sh"), session, RecordingReporter(), CancelToken(),
                entries=entries)


def test_resolve_user_hash_that_the_index_contradicts_is_refused_before_downloading(srv, session):
    published = "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
    mine = "ab" * 32
    with pytest.raises(UsageError) as info:
        resolve(plan_for(srv.url("official/"), sha256=mine.upper()), session, RecordingReporter(), CancelToken())
    assert info.value.exit_code == 2
    msg = info.value.message
    assert mine in msg and published in msg and "--sha256" in msg and "index publishes" in msg
    assert "Nothing was downloaded" in msg
    assert [r[1] for r in srv.state.requests] == ["/official/"]  # the index only, no installer
    # the same hash, in any case, is accepted
    choice = resolve(plan_for(srv.url("official/"), sha256=published.upper()), session, RecordingReporter(),
                     CancelToken())
    assert (choice.sha256, choice.hash_source) == (published, "user")


def test_resolve_user_hash_that_the_pinned_table_contradicts_is_refused(srv, session):
    # The fancyindex mirror publishes no hashes; the pinned table knows this versioned installer.
    plan = plan_for(srv.url("fancy/"), installer="Miniconda3-py311_23.5.2-0-Linux-x86_64.sh", sha256="cd" * 32)
    with pytest.raises(UsageError) as info:
        resolve(plan, session, RecordingReporter(), CancelToken(), official_url=srv.url("official/"))
    assert "pinned hash table" in info.value.message and "634d76df" in info.value.message


def test_resolve_pinned_hash_for_a_mirror_without_hashes(srv, session):
    plan = plan_for(srv.url("fancy/"), installer="Miniconda3-py311_23.5.2-0-Linux-x86_64.sh")
    choice = resolve(plan, session, RecordingReporter(), CancelToken(), official_url=srv.url("official/"))
    assert choice.hash_source == "pinned"
    assert choice.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
    assert [r for r in srv.state.requests if r[1].startswith("/official")] == []


def test_resolve_latest_from_mirror_uses_official_index(srv, session):
    rep = RecordingReporter()
    choice = resolve(plan_for(srv.url("nginx/")), session, rep, CancelToken(), official_url=srv.url("official/"))
    assert choice.filename == "Miniconda3-latest-Linux-x86_64.sh"
    assert choice.url == srv.url("nginx/Miniconda3-latest-Linux-x86_64.sh")
    assert choice.hash_source == "official-index"
    assert choice.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"


def test_resolve_official_lookup_failure_is_only_logged(srv, session):
    rep = RecordingReporter()
    choice = resolve(plan_for(srv.url("apache/")), session, rep, CancelToken(), official_url=srv.url("missing/"))
    assert (choice.sha256, choice.hash_source) == (None, None)
    warnings = [line for _, line, level in rep.of("log") if level == "warning"]
    assert any("official index" in w for w in warnings)
    assert any("No SHA-256" in w for w in warnings)


def test_resolve_default_official_lookup_unreachable(srv, session):
    # OFFICIAL_INDEX_URL points at a closed local port here (autouse fixture).
    choice = resolve(plan_for(srv.url("apache-pre/")), session, RecordingReporter(), CancelToken())
    assert (choice.sha256, choice.hash_source) == (None, None)


def test_resolve_local_file(tmp_path, session):
    f = tmp_path / "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    f.write_bytes(b"#!/bin/sh\n")
    choice = resolve(plan_for("official", installer_file=f), session, RecordingReporter(), CancelToken())
    assert choice.local_path == f and choice.url is None
    assert (choice.hash_source, choice.size) == ("pinned", 10)
    assert choice.sha256 == "634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"

    mine = "cd" * 32
    choice = resolve(plan_for("official", installer_file=f, sha256=mine), session, RecordingReporter(), CancelToken())
    assert (choice.sha256, choice.hash_source) == (mine, "user")

    other = tmp_path / "my-installer.sh"
    other.write_bytes(b"x")
    choice = resolve(plan_for("official", installer_file=other), session, RecordingReporter(), CancelToken())
    assert (choice.sha256, choice.hash_source, choice.filename) == (None, None, "my-installer.sh")


def test_resolve_unknown_platform_lists_what_exists(srv, session):
    plan = InstallPlan(platform=PlatformInfo("Windows", "arm64"), mirror=srv.url("official/"))
    with pytest.raises(CatalogError) as info:
        resolve(plan, session, RecordingReporter(), CancelToken())
    assert "Linux-x86_64" in info.value.message
