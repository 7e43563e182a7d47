"""``--mirror auto`` (issue 5, Mirrors): six local mirrors on 127.0.0.1 stand in for the named ones.

``MINICONDA_WIZARD_MIRRORS`` points every row of the table (official, tuna, bfsu, ustc, aliyun, nju) at a local
server: one fast, one slow (answers after a pause), one without the file, one down (nothing listens), one with
another file under the same name (a lagging mirror), one answering HTTP 500. The tests assert the choice and
each mirror's verdict, never a speed.
"""

from __future__ import annotations

import io
import socket
import threading
from pathlib import Path

import pytest

from app import silent
from app.cli import main
from app.core import mirror_probe, mirrors
from app.core.errors import Cancelled, CatalogError
from app.core.events import CancelToken, RecordingReporter
from app.core.mirror_probe import ProbeResult, probe_all, rank, resolve_auto
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import Fault, LocalServer
from tests.support.mirror import build_mirror

NAME = "Miniconda3-latest-Linux-x86_64.sh"
SIZE = 256 * 5300  # bigger than MIN_INSTALLER_BYTES (1 MiB), a multiple of 256


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def six_mirrors(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    good = src / NAME
    good.write_bytes(bytes(range(256)) * (SIZE // 256))
    stale = tmp_path / "stale" / NAME
    stale.parent.mkdir()
    stale.write_bytes(b"\x01" * (SIZE + 4096))
    other = tmp_path / "other" / "Miniconda3-latest-Linux-aarch64.sh"
    other.parent.mkdir()
    other.write_bytes(b"\x02" * SIZE)
    servers = {
        "official": LocalServer(build_mirror(tmp_path / "official", [good])),
        "tuna": LocalServer(build_mirror(tmp_path / "tuna", [good])),
        "bfsu": LocalServer(build_mirror(tmp_path / "bfsu", [other])),      # lacks the file
        "aliyun": LocalServer(build_mirror(tmp_path / "aliyun", [stale])),  # another file under the name
        "nju": LocalServer(build_mirror(tmp_path / "nju", [good])),
    }
    for srv in servers.values():
        srv.start()
    servers["official"].fault("/" + NAME, Fault(delay_before=1.5))
    servers["nju"].fault("/" + NAME, Fault(status=500))
    urls = {n: s.base_url for n, s in servers.items()}
    urls["ustc"] = f"http://127.0.0.1:{_closed_port()}/anaconda/miniconda/"  # down
    table = tmp_path / "mirrors.toml"
    rows = []
    for name in ("official", "tuna", "bfsu", "ustc", "aliyun", "nju"):
        rows.append(f'[mirrors.{name}]\ntitle = "{name.upper()}"\ninstaller = "{urls[name]}"\n')
    rows[1] += 'pip_index = "http://127.0.0.1:9/tuna-pypi/simple"\n'
    table.write_text("schema = 1\n" + "\n".join(rows), encoding="utf-8")
    monkeypatch.setenv(mirrors.TABLE_ENV, str(table))
    try:
        yield servers
    finally:
        for srv in servers.values():
            srv.stop()


def _verdicts(results: list[ProbeResult]) -> dict[str, ProbeResult]:
    return {r.name: r for r in results}


def test_probe_picks_the_fastest_mirror_that_has_the_file(six_mirrors):
    results = probe_all(NAME, CancelToken())
    v = _verdicts(results)
    assert results[0].name == "tuna" and results[0].ok
    assert results[0].status == 206 and results[0].received == mirror_probe.PROBE_BYTES and results[0].total == SIZE
    assert v["official"].ok  # slow, but it has the file: second
    assert [r.name for r in results[:2]] == ["tuna", "official"]
    assert not v["bfsu"].ok and "does not have the file (HTTP 404)" in v["bfsu"].error
    assert not v["ustc"].ok and v["ustc"].error.startswith("no answer")
    assert not v["aliyun"].ok and "has another file under this name" in v["aliyun"].error
    assert not v["nju"].ok and "HTTP 500" in v["nju"].error
    # each server was asked for the first 64 KiB only
    asked = [h.get("Range") for _m, p, h in six_mirrors["tuna"].state.requests if p == "/" + NAME]
    assert asked == ["bytes=0-65535"]


def test_resolve_auto_sets_the_plan_mirror_and_logs_the_table(six_mirrors, tmp_path):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="auto", prefix=tmp_path / "mc")
    assert plan.problems() == []
    assert "Mirror:          auto (the fastest mirror" in plan.summary()
    rec = RecordingReporter()
    resolve_auto(plan, rec, CancelToken())
    assert plan.mirror == "tuna" and plan.mirror_url == six_mirrors["tuna"].base_url
    lines = [line for _s, line, _l in rec.of("log")]
    assert lines[0].startswith("--mirror auto: asking 6 mirrors (official, tuna, bfsu, ustc, aliyun, nju)")
    assert lines[1].startswith("* tuna: HTTP 206, 64.0 KiB in ")
    assert any(line.startswith("  bfsu: does not have the file") for line in lines)
    assert "Chosen mirror: tuna (TUNA)" in lines[-1]
    # the choice applies to every part of the run: pip now comes from that mirror
    assert mirrors.sources(plan).pip_index == "http://127.0.0.1:9/tuna-pypi/simple"


def test_dry_run_with_mirror_auto_reads_the_chosen_mirrors_index(six_mirrors, tmp_path, capsys):
    code = main(["--dry-run", "--mirror", "auto", "--platform", "Linux-x86_64", "--prefix", str(tmp_path / "mc"),
                 "--download-dir", str(tmp_path / "dl"), "--accept-tos", "--log-file", str(tmp_path / "log.txt")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Mirror:          {six_mirrors['tuna'].base_url}" in out
    assert f"Chosen installer: {NAME}" in out
    index_reads = {n: [p for _m, p, _h in s.state.requests if p == "/"] for n, s in six_mirrors.items()}
    assert index_reads["tuna"] == ["/"]
    assert all(not reads for n, reads in index_reads.items() if n != "tuna")


def test_no_mirror_has_the_file_is_a_catalog_error(six_mirrors, tmp_path):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="auto", prefix=tmp_path / "mc",
                       installer="Miniconda3-py399_99.0.0-0-Linux-x86_64.sh")
    with pytest.raises(CatalogError) as info:
        resolve_auto(plan, RecordingReporter(), CancelToken())
    assert "No mirror has Miniconda3-py399_99.0.0-0-Linux-x86_64.sh" in info.value.message
    assert "tuna: does not have the file (HTTP 404)" in info.value.message
    assert "--mirror official / tuna" in info.value.fix
    assert plan.mirror == "auto"


def test_a_named_mirror_is_not_probed(six_mirrors, tmp_path):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="nju", prefix=tmp_path / "mc")
    assert resolve_auto(plan, RecordingReporter(), CancelToken()) == []
    assert plan.mirror == "nju" and not six_mirrors["nju"].state.requests


def test_cancel_stops_every_probe(six_mirrors):
    for srv in six_mirrors.values():
        srv.fault("/" + NAME, Fault(delay_before=20))
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    with pytest.raises(Cancelled):
        probe_all(NAME, cancel)


def test_probes_past_the_deadline_count_as_too_slow(six_mirrors):
    six_mirrors["tuna"].fault("/" + NAME, Fault(delay_before=20))
    v = _verdicts(probe_all(NAME, CancelToken(), deadline=0.8))
    assert not v["tuna"].ok and v["tuna"].error.startswith("too slow")
    assert v["official"].ok is False  # 1.5 s pause: past the 0.8 s deadline too


def test_rank_uses_the_size_most_mirrors_report():
    def ok(name, total, seconds):
        return ProbeResult(name, name, "u", True, 206, seconds, 65536, total)

    out = rank([ok("official", 100 << 20, 0.5), ok("tuna", 100 << 20, 0.2), ok("nju", 99 << 20, 0.1)])
    assert [r.name for r in out] == ["tuna", "official", "nju"] and not out[2].ok
    # a tie: the official mirror's size wins
    out = rank([ok("official", 100 << 20, 0.5), ok("tuna", 99 << 20, 0.1)])
    assert out[0].name == "official" and not out[1].ok
