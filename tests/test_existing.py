"""Finding existing conda installations (issue 11): conda on PATH, ``~/.conda/environments.txt``, the Windows
uninstall keys (a fake registry), the usual prefixes (``~/opt/miniconda3`` of old macOS .pkg installers
included), and which of them this wizard made. Real folders; no process is started."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from app.core import existing, installer, manifest


def conda_root(prefix: Path, version: str | None = "24.7.1") -> Path:
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    (prefix / "condabin").mkdir()
    (prefix / "bin" / "conda").write_text("#!/bin/sh\n")
    (prefix / "bin" / "conda").chmod(0o755)
    if version:
        (prefix / "conda-meta" / f"conda-{version}-py312h06a4308_0.json").write_text("{}")
    return prefix


class FakeUninstallKeys:
    def __init__(self, rows):
        self.rows = rows

    def entries(self):
        return list(self.rows)


def test_finds_each_kind_once_with_how_and_version(tmp_path, isolated_home):
    home = isolated_home
    usual = conda_root(home / "miniconda3")
    old_pkg = conda_root(home / "opt" / "miniconda3", "4.12.0")
    on_path = conda_root(tmp_path / "tools" / "mf", "25.3.1")
    listed = conda_root(tmp_path / "shared" / "anaconda", None)
    (listed / "envs" / "proj").mkdir(parents=True)
    (home / ".conda").mkdir()
    (home / ".conda" / "environments.txt").write_text(f"{listed / 'envs' / 'proj'}\n{usual}\n/gone/envs/x\n")
    (home / "anaconda3").mkdir()  # an empty folder is no installation
    environ = {"PATH": f"{tmp_path / 'nothing'}{os.pathsep}{on_path / 'condabin'}{os.pathsep}{on_path / 'bin'}"}

    found = existing.find_installs(os_name="MacOSX", home=home, environ=environ, which=shutil.which)
    by_prefix = {f.prefix: f for f in found}
    assert list(by_prefix) == [on_path, listed, usual, old_pkg]
    assert by_prefix[on_path].how == ("conda on PATH",) and by_prefix[on_path].conda_version == "25.3.1"
    assert by_prefix[listed].how == ("~/.conda/environments.txt",) and by_prefix[listed].conda_version is None
    assert by_prefix[usual].how == ("~/.conda/environments.txt", "usual location")
    assert by_prefix[old_pkg].how == ("usual location",) and by_prefix[old_pkg].conda_version == "4.12.0"
    assert not any(f.made_by_us for f in found) and {f.state for f in found} == {"complete"}
    # ~/opt/miniconda3 is a macOS location only
    linux = existing.find_installs(os_name="Linux", home=home, environ=environ, which=shutil.which)
    assert old_pkg not in {f.prefix for f in linux}


def test_made_by_us_and_incomplete(tmp_path, isolated_home):
    home = isolated_home
    ours = conda_root(home / "miniconda3")
    manifest.save(manifest.Manifest(str(ours), made_by_us=True))
    half = tmp_path / "half"
    (half / "pkgs").mkdir(parents=True)
    marker = installer.in_progress_marker(half)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"prefix": str(half), "pid": 2 ** 22 + 12345, "started": "x", "create_time": 1.0}))
    found = {f.prefix: f for f in existing.find_installs(os_name="Linux", home=home, environ={"PATH": ""})}
    assert found[ours].made_by_us and found[ours].state == "complete"
    assert "made by this wizard" in found[ours].describe()
    # a killed run's prefix is found through its in-progress marker, and is ours and incomplete
    assert found[half].state == "incomplete" and found[half].made_by_us
    assert found[half].how == ("a run of the wizard that was stopped",)
    marker.unlink()
    manifest.save(manifest.Manifest(str(half), made_by_us=True, status="installing"))
    found = {f.prefix: f for f in existing.find_installs(os_name="Linux", home=home, environ={"PATH": ""})}
    assert found[half].state == "incomplete" and found[half].how == ("the wizard's install record",)
    assert found[half].describe().startswith(f"{half}: an incomplete installation, made by this wizard")


def test_windows_uninstall_keys_and_usual_places(tmp_path):
    rows = [
        {"hive": "HKCU", "key": "Miniconda3 py313_25.9.1-3 (Python 3.13.9 64-bit)",
         "UninstallString": '"C:\\Users\\o\'brien\\miniconda3\\Uninstall-Miniconda3.exe"'},
        {"hive": "HKLM", "key": "Anaconda3 2024.10-1 (Python 3.12.7 64-bit)", "InstallLocation": "C:\\ProgramData\\anaconda3"},
        {"hive": "HKCU", "key": "Miniforge3", "QuietUninstallString": "C:\\mf\\Uninstall-Miniforge3.exe /S"},
        {"hive": "HKCU", "key": "Python 3.13.0 (64-bit)", "InstallLocation": "C:\\Python313"},
    ]
    assert [existing.prefix_from_uninstall_entry(r) for r in rows] == [
        "C:\\Users\\o'brien\\miniconda3", "C:\\ProgramData\\anaconda3", "C:\\mf", None]
    home = Path("C:/Users/u")
    places = existing.usual_prefixes("Windows", home, {"LOCALAPPDATA": "C:/Users/u/AppData/Local",
                                                       "ProgramData": "C:/ProgramData"})
    assert places == [home / "miniconda3", home / "anaconda3", home / "miniforge3",
                      Path("C:/Users/u/AppData/Local/miniconda3"), Path("C:/ProgramData/miniconda3")]
    # through the adapter: a registered prefix that exists here is found, with the key named
    root = tmp_path / "reg-root"
    (root / "conda-meta").mkdir(parents=True)
    (root / "Scripts").mkdir()
    (root / "Scripts" / "conda.exe").write_bytes(b"MZ")
    keys = FakeUninstallKeys([{"hive": "HKCU", "key": "Miniconda3 py313", "InstallLocation": str(root)}])
    found = existing.find_installs(os_name="Windows", home=tmp_path / "h", environ={"PATH": ""}, registry=keys)
    assert [(f.prefix, f.how) for f in found] == [(root, ("registry HKCU ...\\Uninstall\\Miniconda3 py313",))]


def test_usual_places_on_linux_and_macos(tmp_path):
    home = tmp_path
    assert existing.usual_prefixes("Linux", home, {}) == [home / "miniconda3", home / "anaconda3",
                                                          home / "miniforge3", Path("/opt/miniconda3")]
    mac = existing.usual_prefixes("MacOSX", home, {})
    assert home / "opt" / "miniconda3" in mac and home / "opt" / "anaconda3" in mac
