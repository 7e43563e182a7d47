"""The install manifest: what the wizard did to one Miniconda prefix, so that it can be repaired or undone.

Why a record of its own: the journal (:mod:`app.core.journal`) lists every rc-file and registry change of
every run, but not which prefix a run was for, whether the wizard *made* that prefix (and so may remove it),
or which envs and conda user files came with it. ``--uninstall`` and ``--if-exists repair`` need exactly
that, and must refuse to remove anything the wizard did not make.

Where (one manifest per prefix):

* ``<user state dir>/installs/<key>.json`` (platformdirs ``user_state_dir("miniconda-wizard")``;
  ``~/.local/state/miniconda-wizard/installs`` on Linux), ``key`` = the first 20 hex digits of the SHA-256 of
  the absolute prefix, as for :func:`app.core.installer.in_progress_marker`;
* a copy inside the prefix, ``<prefix>/.miniconda-wizard-install.json`` (:data:`MARKER_NAME`), written once
  the installer has finished, so that the proof travels with the folder even when the state dir is lost.

Shape (JSON, ``version`` 1; unknown keys are kept readable by :meth:`Manifest.from_dict`)::

    {"version": 1, "product_version": "0.1.0", "prefix": "/home/u/miniconda3", "made_by_us": true,
     "status": "installing" | "complete", "installed": "2026-11-30T05:11:02+0000",
     "installer": "Miniconda3-latest-Linux-x86_64.sh", "installer_sha256": "<hex>", "conda_version": "26.7.2",
     "updates": [{"time": ..., "installer": ..., "installer_sha256": ..., "how": "update"|"reuse"|"repair"}],
     "shell_runs": ["<journal run id>", ...], "shell_changes": [<journal entry>, ...],
     "envs": [{"name": "llm", "prefix": "...", "time": ...}],
     "conda_user_dir": {"path": "/home/u/.conda", "existed": false, "files_before": {"rel": "<sha>"},
                        "files_made": {"rel": "<sha>"}}}

``shell_changes`` are copies of the journal entries (files edited with their backups and hashes, registry
values before and after); the journal stays the authority for what was undone since.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import APP_NAME, __version__
from app.core.file_edit import atomic_write, iso_now, sha256_file

#: The copy of the manifest inside the prefix.
MARKER_NAME = ".miniconda-wizard-install.json"
VERSION = 1


def _key(prefix: Path) -> str:
    return hashlib.sha256(str(Path(prefix).absolute()).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def state_dir() -> Path:
    """``platformdirs.user_state_dir("miniconda-wizard")/installs``: the folder of all manifests."""
    import platformdirs  # noqa: PLC0415 - light, but only needed here

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "installs"


def manifest_path(prefix: Path) -> Path:
    """The manifest of ``prefix`` in the state dir (see the module docstring)."""
    return state_dir() / f"{_key(prefix)}.json"


def marker_path(prefix: Path) -> Path:
    """The copy of the manifest inside ``prefix``."""
    return Path(prefix) / MARKER_NAME


@dataclass
class Manifest:
    """What the wizard did to one prefix (fields as in the module docstring). Edit, then :func:`save`."""

    prefix: str
    made_by_us: bool = False
    status: str = "complete"
    installed: str = ""
    installer: str | None = None
    installer_sha256: str | None = None
    conda_version: str | None = None
    product_version: str = __version__
    updates: list[dict[str, Any]] = field(default_factory=list)
    shell_runs: list[str] = field(default_factory=list)
    shell_changes: list[dict[str, Any]] = field(default_factory=list)
    envs: list[dict[str, Any]] = field(default_factory=list)
    conda_user_dir: dict[str, Any] | None = None
    #: The names right inside the prefix just after the installer ran (``bin``, ``conda-meta``, ``pkgs`` ...):
    #: what the installer made; anything else there later is the user's (``None``: not recorded, older record).
    prefix_entries: list[str] | None = None
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        """Build from JSON; unknown keys are ignored (a newer manifest stays readable).

        Raises:
            ValueError: ``data`` is not a mapping with a ``prefix``.
        """
        if not isinstance(data, dict) or not isinstance(data.get("prefix"), str):
            raise ValueError("not an install manifest")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def add_shell_changes(self, entries: list[dict[str, Any]]) -> None:
        """Record journal entries (dicts of :class:`~app.core.journal.JournalEntry`) and their run ids."""
        for e in entries:
            if e.get("run_id") and e["run_id"] not in self.shell_runs:
                self.shell_runs.append(e["run_id"])
            if all(old.get("id") != e.get("id") for old in self.shell_changes):
                self.shell_changes.append(e)

    def add_env(self, name: str, env_prefix: Path) -> None:
        """Record an env this wizard created (a reused env is the user's and is not recorded)."""
        if all(e.get("prefix") != str(env_prefix) for e in self.envs):
            self.envs.append({"name": name, "prefix": str(env_prefix), "time": iso_now()})


def _read(path: Path) -> Manifest | None:
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def load(prefix: Path) -> Manifest | None:
    """The manifest of ``prefix``: the state dir's, else the copy inside the prefix, else ``None``.

    A copy inside the prefix counts only when it names this prefix (a folder copied elsewhere is not the
    install the wizard made).
    """
    prefix = Path(prefix)
    found = _read(manifest_path(prefix))
    if found is None:
        found = _read(marker_path(prefix))
        if found is not None and os.path.normcase(str(Path(found.prefix).absolute())) != \
                os.path.normcase(str(prefix.absolute())):
            return None
    return found


def save(m: Manifest) -> Path:
    """Write the manifest to the state dir (atomically) and, when the install is complete and the prefix
    exists, the copy inside the prefix.

    Returns:
        The state-dir path.

    Raises:
        OSError: the state dir cannot be written.
    """
    path = manifest_path(Path(m.prefix))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(m.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    atomic_write(path, data, 0o600, None, sha256_file(path))
    marker = marker_path(Path(m.prefix))
    if m.status == "complete" and marker.parent.is_dir():
        try:
            atomic_write(marker, data, 0o644, None, sha256_file(marker))
        except OSError:
            pass  # the state dir has it; a read-only prefix (AllUsers without rights) keeps no copy
    return path


def forget(prefix: Path) -> None:
    """Remove the manifest of ``prefix`` (state dir and the copy inside; no error when absent)."""
    for path in (manifest_path(prefix), marker_path(prefix)):
        try:
            path.unlink()
        except OSError:
            pass


def all_manifests() -> list[Manifest]:
    """Every manifest in the state dir (for finding the installs this wizard made)."""
    try:
        files = sorted(state_dir().glob("*.json"))
    except OSError:
        return []
    return [m for m in (_read(p) for p in files) if m is not None]


def top_entries(prefix: Path) -> list[str]:
    """The names right inside ``prefix``, sorted (``[]`` when it cannot be listed)."""
    try:
        return sorted(os.listdir(prefix))
    except OSError:
        return []


def file_sha256(path: Path) -> str | None:
    """SHA-256 (hex) of a file, read in chunks (an installer is ~100 MB); ``None`` when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def snapshot_dir(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every regular file under ``folder`` (``{}`` when absent); folders are
    listed with the value ``"dir"``, the folder itself as ``"."`` (so an empty folder gives ``{".": "dir"}``).
    Used for conda's user folder ``~/.conda``, which holds a few small files."""
    out: dict[str, str] = {}
    folder = Path(folder)
    if not folder.is_dir():
        return out
    out["."] = "dir"  # the folder itself exists (an empty ~/.conda is not a missing one)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), folder)] = "dir"
        for f in files:
            p = Path(root) / f
            if p.is_file() and not p.is_symlink():
                out[os.path.relpath(p, folder)] = sha256_file(p) or ""
    return out
