"""Download only: stage a verified installer on a share, with a ``SHA256SUMS`` file beside it.

An IT department downloads once (``miniconda-wizard --silent --download-only --download-dir DIR``), and
each machine later installs offline from the share (``--installer-file DIR/<name>``). The installer on
the share is only as good as the hash it is checked against, so staging writes that hash next to it in
the format ``sha256sum`` writes and ``sha256sum -c`` reads (GNU coreutils, "md5sum invocation": one
``<64 hex>  <name>`` line per file; a ``*`` before the name marks binary mode and is read too).

Guarantees:

* ``SHA256SUMS`` is merged, never replaced: every other line stays byte for byte; the line for the
  staged name is added, or replaced when its hash changed, and then the old file is kept as
  ``SHA256SUMS.bak`` first (a user file is never changed without a backup). The new file is written
  next to the old one and renamed over it (``os.replace``), so a reader never sees half a file.
* A later ``--installer-file`` whose folder has a ``SHA256SUMS`` listing the file is verified against
  it before anything runs (:func:`verify_staged`); a mismatch is a :class:`HashMismatchError` (exit 5)
  with a fix, and a file that is not listed falls back to the usual rules (the pinned table, else
  "no known SHA-256", used with a warning).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.i18n import _
from app.core.errors import DownloadError, HashMismatchError, Stage
from app.core.events import CancelToken, Reporter

#: The name of the checksum file beside a staged installer (the name ``sha256sum`` users and Linux
#: distributions use; :mod:`app.core.catalog` reads the same file in a local mirror folder).
SHA256SUMS = "SHA256SUMS"
#: A coreutils checksum line: hash, one space, a space or ``*`` (text or binary mode), the name.
_LINE_RE = re.compile(rb"^\s*([0-9a-fA-F]{64}) [ *](.+?)\r?\n?$")


def sums_line(sha256: str, name: str) -> str:
    """The coreutils line for one file: ``"<64 lowercase hex>  <name>\\n"`` (two spaces: text mode)."""
    return f"{sha256.lower()}  {name}\n"


def read_sums(path: Path) -> dict[str, str]:
    """``{file name: lowercase sha256}`` of a ``SHA256SUMS`` file; ``{}`` when it is missing or unreadable.

    Lines that are not checksum lines (comments, blank lines, other formats) are skipped; a name with
    a folder part (``sub/x.sh``) is keyed by its last part, as the file is looked up beside it. When a
    name is listed twice, the last line wins (as a later ``sha256sum >> SHA256SUMS`` would mean).
    """
    try:
        data = Path(path).read_bytes()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for raw in data.splitlines(keepends=True):
        m = _LINE_RE.match(raw)
        if m:
            name = m.group(2).decode("utf-8", errors="replace")
            out[name.replace("\\", "/").rsplit("/", 1)[-1]] = m.group(1).decode("ascii").lower()
    return out


def listed_sha256(installer: Path) -> str | None:
    """The SHA-256 that a ``SHA256SUMS`` beside ``installer`` lists for it, or ``None`` (no file, not listed)."""
    installer = Path(installer)
    return read_sums(installer.parent / SHA256SUMS).get(installer.name)


def merge_sums(folder: Path, name: str, sha256: str, reporter: Reporter) -> Path:
    """Add or update the line for ``name`` in ``folder/SHA256SUMS``; returns that file's path.

    Other lines are kept byte for byte (a missing final newline is added before the new line). When the
    file already lists ``name`` with this hash nothing is written. When it lists another hash, that line
    is replaced and the old file is first copied to ``SHA256SUMS.bak`` (``.bak.1``, ... when taken).

    Raises:
        DownloadError: the file cannot be read or written (the message names it; the old file is kept).
    """
    from app.core.download import _free_name  # noqa: PLC0415 - download imports the plan; keep this module light

    path = Path(folder) / SHA256SUMS
    try:
        old = path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        raise _write_error(path, exc) from exc
    lines = old.splitlines(keepends=True)
    new_line = sums_line(sha256, name).encode("utf-8")
    found = False
    replaced = False
    out: list[bytes] = []
    for raw in lines:
        m = _LINE_RE.match(raw)
        listed = m.group(2).decode("utf-8", errors="replace").replace("\\", "/").rsplit("/", 1)[-1] if m else None
        if listed == name:
            if found:
                replaced = True  # a second line for the same name: dropped, the one line left is right
                continue
            found = True
            if m.group(1).decode("ascii").lower() == sha256.lower():
                out.append(raw)
                continue
            replaced = True
            out.append(new_line)
            continue
        out.append(raw)
    if not found:
        if out and not out[-1].endswith(b"\n"):
            out[-1] += b"\n"
        out.append(new_line)
    data = b"".join(out)
    if data == old:
        reporter.log(Stage.DOWNLOAD, _('{path} already lists {name} with this SHA-256.').format(path=path, name=name))
        return path
    tmp = path.with_name(f".{SHA256SUMS}.{os.getpid()}.tmp")
    try:
        if replaced:
            backup = _free_name(path.with_name(SHA256SUMS + ".bak"))
            backup.write_bytes(old)
            reporter.log(Stage.DOWNLOAD, _('{path} listed another SHA-256 for {name}; the old file is kept as {backup}.').format(path=path, name=name, backup=backup), "warning")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise _write_error(path, exc) from exc
    reporter.log(Stage.DOWNLOAD, f"{'Updated' if old else 'Wrote'} {path}: {sums_line(sha256, name).strip()}")
    return path


def _write_error(path: Path, exc: OSError) -> DownloadError:
    return DownloadError(_('Could not write {path}: {reason}.').format(path=path, reason=exc.strerror or exc),
                         fix=_('Check that you can write to the download folder (--download-dir), or choose another one; the installer itself was downloaded and verified.'),
                         detail=repr(exc))


def verify_staged(path: Path, expected: str, reporter: Reporter, cancel: CancelToken) -> Path:
    """Check a staged installer (``--installer-file``) against the ``SHA256SUMS`` beside it.

    ``expected`` is the hash that file lists (:func:`listed_sha256`). The pinned hash table
    (resources/miniconda_hashes.csv) is asked too: a share whose installer and ``SHA256SUMS`` were both
    changed still fails when the pinned table knows the name.

    Returns:
        ``path`` when its SHA-256 is ``expected``.

    Raises:
        HashMismatchError: the file's SHA-256 differs from the listed one, or the listed one differs from
            the pinned table (exit 5; the file is the user's and is never deleted).
        DownloadError: the file cannot be read.
        Cancelled: on cancel (checked between 1 MiB pieces).
    """
    from app.core.catalog import pinned_sha256  # noqa: PLC0415 - catalog imports the plan
    from app.core.download import sha256_file  # noqa: PLC0415

    path = Path(path)
    sums = path.parent / SHA256SUMS
    expected = expected.lower()
    fix = (f"The copy on the share is damaged or was changed after it was staged. Stage it again "
           f"(miniconda-wizard --silent --download-only --download-dir {path.parent}), or copy the installer and "
           f"its SHA256SUMS line again from where they were staged.")
    pinned = pinned_sha256(path.name)
    if pinned is not None and pinned != expected:
        raise HashMismatchError(
            _('{sums} lists {expected} for {name}, but the pinned hash table says {pinned}.').format(sums=sums, expected=expected, name=path.name, pinned=pinned), fix=fix)
    reporter.log(Stage.DOWNLOAD, _('Checking the staged installer {path} against {sums}').format(path=path, sums=sums))
    try:
        actual = sha256_file(path, cancel, reporter)
    except OSError as exc:
        raise DownloadError(_('Cannot read the installer file {path}: {reason}.').format(path=path, reason=exc.strerror or exc),
                            fix=_('Check that the share is reachable and the file is readable (--installer-file in silent mode).')) from exc
    reporter.info(Stage.DOWNLOAD, "sha256", actual)
    if actual != expected:
        raise HashMismatchError(_('The SHA-256 of {path} is {actual}, but {sums} lists {expected}.').format(path=path, actual=actual, sums=sums, expected=expected), fix=fix)
    reporter.info(Stage.DOWNLOAD, "verified", True)
    reporter.log(Stage.DOWNLOAD, _('SHA-256 verified against {sums}: {actual}').format(sums=sums, actual=actual))
    return path


def stage_summary(folder: Path, name: str) -> str:
    """The last line of a download-only run: where the installer is and how machines install from it."""
    staged = Path(folder) / name
    where = f" and its line in {Path(folder) / SHA256SUMS}" if listed_sha256(staged) else \
        f" (unverified: no line in {SHA256SUMS})"
    return (f"Staged {staged}{where}. Install from it (offline) with:\n"
            f"  miniconda-wizard --silent --installer-file {staged}")


def fetch(plan, choice, session, reporter: Reporter, cancel: CancelToken) -> Path:
    """The download step (``pipeline``): get the installer for ``choice``, verified, and stage it when asked.

    * A local file whose hash came from the ``SHA256SUMS`` beside it (``choice.hash_source == "sha256sums"``):
      :func:`verify_staged`.
    * Anything else: :func:`app.core.cache.fetch` (the cache, then :func:`app.core.download.fetch_installer`).
    * ``plan.download_only``: the installer is in ``plan.download_dir``; its line goes into the ``SHA256SUMS``
      there (:func:`merge_sums`). An installer without a known SHA-256 (``--allow-unverified``) is staged
      without a line, with a warning, so that the share never vouches for bytes nobody checked.

    Args:
        plan: an :class:`~app.core.plan.InstallPlan`; choice: an :class:`~app.core.catalog.InstallerChoice`;
        session: a ``requests.Session``.

    Returns:
        The installer's path.

    Raises:
        As :func:`verify_staged`, :func:`app.core.cache.fetch` and :func:`merge_sums`.
    """
    from app.core import cache  # noqa: PLC0415 - cache imports download, which imports the plan

    if choice.local_path is not None and choice.hash_source == "sha256sums" and choice.sha256:
        return verify_staged(Path(choice.local_path).expanduser(), choice.sha256, reporter, cancel)
    path = cache.fetch(plan, choice, session, reporter, cancel)
    if plan.download_only:
        if choice.sha256:
            merge_sums(path.parent, path.name, choice.sha256, reporter)
        else:
            reporter.log(Stage.DOWNLOAD, _('No SHA-256 is known for {name}, so no line was added to {value}: machines installing from it use it unverified.').format(name=path.name, value=path.parent / SHA256SUMS), "warning")
    return path
