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
#: A coreutils checksum line: hash, white space, an optional ``*`` (binary mode), the name; GNU's escaped
#: form (a leading backslash) is read too.
_LINE_RE = re.compile(r"^\s*\\?([0-9a-fA-F]{64})\s+\*?(.+?)\s*$")
#: The BSD / ``sha256sum --tag`` / ``shasum --tag`` form: ``SHA256 (name) = hash``.
_TAG_RE = re.compile(r"^\s*SHA-?256\s*\((.+)\)\s*=\s*([0-9a-fA-F]{64})\s*$", re.IGNORECASE)
#: Byte-order marks, longest first: (mark, codec without the mark, name for people).
_BOMS = ((b"\xef\xbb\xbf", "utf-8", "UTF-8 with a byte-order mark"),
         (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
         (b"\xff\xfe", "utf-16-le", "UTF-16"), (b"\xfe\xff", "utf-16-be", "UTF-16"))


def sums_line(sha256: str, name: str) -> str:
    """The coreutils line for one file: ``"<64 lowercase hex>  <name>\\n"`` (two spaces: text mode)."""
    return f"{sha256.lower()}  {name}\n"


class SumsText:
    """A decoded ``SHA256SUMS``: its text and how to write it back the same way.

    Attributes:
        text: the file's text without its byte-order mark.
        codec: the Python codec its bytes are in (``utf-8``, ``utf-16-le``, ...).
        bom: the byte-order mark it starts with (``b""`` when none).
    """

    def __init__(self, text: str, codec: str = "utf-8", bom: bytes = b"") -> None:
        self.text, self.codec, self.bom = text, codec, bom

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding, with its byte-order mark."""
        return self.bom + text.encode(self.codec)


def decode_sums(data: bytes) -> SumsText:
    """The text of a ``SHA256SUMS`` file, as Windows and Unix tools write it.

    ``sha256sum`` writes UTF-8; Windows PowerShell 5's ``Out-File`` and ``>`` write UTF-16 LE with a
    byte-order mark, ``Set-Content -Encoding utf8`` UTF-8 with one (Microsoft Learn, "about_Character_Encoding").
    A byte-order mark decides; UTF-16 without one is recognised by its NUL bytes (mostly ASCII text);
    anything else must be UTF-8.

    Raises:
        ValueError: the bytes are none of these (the message says why, for people).
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return SumsText(data[len(bom):].decode(codec), codec, bom)
            except UnicodeDecodeError as exc:
                raise ValueError(_("it starts like {label} but is not valid {label} ({reason})").format(
                    label=label, reason=exc.reason)) from None
    if b"\x00" in data and len(data) % 2 == 0:
        even, odd = data[0::2].count(0), data[1::2].count(0)
        if max(even, odd) * 4 >= len(data) and min(even, odd) == 0:
            codec = "utf-16-le" if odd > even else "utf-16-be"
            try:
                return SumsText(data.decode(codec), codec)
            except UnicodeDecodeError:
                pass
    if b"\x00" in data:
        raise ValueError(_("it holds binary data, not text"))
    try:
        return SumsText(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(_("byte 0x{byte:02X} at offset {offset} is not UTF-8").format(
            byte=data[exc.start], offset=exc.start)) from None


def parse_line(line: str) -> tuple[str, str] | None:
    """``(file name, lowercase sha256)`` of one checksum line, or ``None`` when it is not one.

    Reads the GNU form (``HASH  name``, ``HASH *name``) and the BSD/``--tag`` form (``SHA256 (name) = HASH``);
    a name with a folder part (``sub/x.sh``, ``C:\\share\\x.exe``) is keyed by its last part, as the file is
    looked up beside the checksum file.
    """
    line = line.lstrip("\ufeff")
    if (m := _LINE_RE.match(line)) is not None:
        sha, name = m.group(1), m.group(2)
    elif (m := _TAG_RE.match(line)) is not None:
        name, sha = m.group(1), m.group(2)
    else:
        return None
    return name.replace("\\", "/").rsplit("/", 1)[-1], sha.lower()


def parse_sums(text: str) -> dict[str, str]:
    """``{file name: lowercase sha256}`` of a checksum file's text; other lines are skipped. When a name is
    listed twice, the last line wins (as a later ``sha256sum >> SHA256SUMS`` would mean)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if (parsed := parse_line(line)) is not None:
            out[parsed[0]] = parsed[1]
    return out


def read_sums(path: Path) -> dict[str, str]:
    """``{file name: lowercase sha256}`` of a ``SHA256SUMS`` file; ``{}`` when it is missing or unreadable.

    For messages only (:func:`stage_summary`); what verifies uses :func:`load_sums`, which refuses a file it
    cannot read.
    """
    try:
        return parse_sums(decode_sums(Path(path).read_bytes()).text)
    except (OSError, ValueError):
        return {}


def restage_fix(folder: Path) -> str:
    """The fix for a share whose installer or ``SHA256SUMS`` cannot be trusted: stage it again."""
    return _("Stage it again (miniconda-wizard --silent --download-only --download-dir {folder}), or copy the "
             "installer and its SHA256SUMS line again from where they were staged; or give the expected SHA-256 "
             "yourself (--sha256).").format(folder=folder)


def load_sums(path: Path, installer: Path | None = None) -> dict[str, str] | None:
    """The entries of the ``SHA256SUMS`` file ``path``; ``None`` when there is none (missing or empty).

    ``installer``: the file about to be checked against it; then a file that has lines but none for that
    installer is refused too (a share's checksum file that vouches for everything but this file, or that is
    in a format nobody can check, must not let the file through unverified).

    Raises:
        HashMismatchError: the file exists but cannot be read, is not UTF-8/UTF-16 text, or (with
            ``installer``) has no valid line for it; exit 5, the message names the file, the fix says how to
            stage it again.
    """
    path = Path(path)
    folder = path.parent
    what = installer if installer is not None else folder
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        if not path.exists() and not path.is_symlink():
            return None
        raise HashMismatchError(
            _("Cannot read {sums}, the checksum file beside {what}: {reason}.").format(
                sums=path, what=what, reason=exc.strerror or exc), fix=restage_fix(folder)) from exc
    try:
        decoded = decode_sums(data)
    except ValueError as exc:
        raise HashMismatchError(
            _("{sums}, the checksum file beside {what}, cannot be read: {reason}. A SHA256SUMS file must be text "
              "(UTF-8, or UTF-16 as Windows PowerShell writes it).").format(sums=path, what=what, reason=exc),
            fix=restage_fix(folder)) from None
    if not decoded.text.strip(" \t\r\n\ufeff"):
        return None
    sums = parse_sums(decoded.text)
    if installer is not None and Path(installer).name not in sums:
        listed = ", ".join(sorted(sums)[:5]) or _("none")
        raise HashMismatchError(
            _("{sums} has no valid checksum line for {name} (files it lists: {listed}), so {installer} cannot be "
              "verified against it.").format(sums=path, name=Path(installer).name, listed=listed,
                                              installer=installer),
            fix=restage_fix(folder))
    return sums


def listed_sha256(installer: Path) -> str | None:
    """The SHA-256 that a ``SHA256SUMS`` beside ``installer`` lists for it, or ``None`` (no file, not listed)."""
    installer = Path(installer)
    return read_sums(installer.parent / SHA256SUMS).get(installer.name)


def staged_sha256(installer: Path) -> str | None:
    """The SHA-256 that the ``SHA256SUMS`` beside ``installer`` lists for it; ``None`` when there is no such file.

    Raises:
        HashMismatchError: as :func:`load_sums` with ``installer``: the file is there but unreadable, or
            lists no valid line for ``installer``.
    """
    installer = Path(installer)
    sums = load_sums(installer.parent / SHA256SUMS, installer)
    return None if sums is None else sums[installer.name]


def merge_sums(folder: Path, name: str, sha256: str, reporter: Reporter) -> Path:
    """Add or update the line for ``name`` in ``folder/SHA256SUMS``; returns that file's path.

    Other lines are kept byte for byte, and so is the file's encoding (UTF-8, with or without a byte-order
    mark, or UTF-16 as PowerShell writes it): the line for ``name`` is found whatever the encoding, and
    replaced, never added a second time. A missing final newline is added before the new line. When the
    file already lists ``name`` with this hash nothing is written. When it lists another hash, that line
    is replaced and the old file is first copied to ``SHA256SUMS.bak`` (``.bak.1``, ... when taken).

    Raises:
        HashMismatchError: the existing file is not text that can be read (it is left as it is).
        DownloadError: the file cannot be read or written (the message names it; the old file is kept).
    """
    from app.core.download import free_name  # noqa: PLC0415 - download imports the plan; keep this module light

    path = Path(folder) / SHA256SUMS
    try:
        old = path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        raise _write_error(path, exc) from exc
    decoded = _decoded_for_merge(path, old)
    lines = decoded.text.splitlines(keepends=True)
    new_line = sums_line(sha256, name)
    found = False
    replaced = False
    out: list[str] = []
    for raw in lines:
        parsed = parse_line(raw)
        if parsed is not None and parsed[0] == name:
            if found:
                replaced = True  # a second line for the same name: dropped, the one line left is right
                continue
            found = True
            if parsed[1] == sha256.lower():
                out.append(raw)
                continue
            replaced = True
            out.append(raw[:len(raw) - len(raw.lstrip("\ufeff"))] + new_line)  # a BOM read as text stays
            continue
        out.append(raw)
    if not found:
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n"
        out.append(new_line)
    data = decoded.encode("".join(out))
    if data == old:
        reporter.log(Stage.DOWNLOAD, _('{path} already lists {name} with this SHA-256.').format(path=path, name=name))
        return path
    tmp = path.with_name(f".{SHA256SUMS}.{os.getpid()}.tmp")
    try:
        if replaced:
            backup = free_name(path.with_name(SHA256SUMS + ".bak"))
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
    line = sums_line(sha256, name).strip()
    reporter.log(Stage.DOWNLOAD, (_("Updated {path}: {line}") if old else _("Wrote {path}: {line}")).format(
        path=path, line=line))
    return path


def _decoded_for_merge(path: Path, old: bytes) -> SumsText:
    if not old:
        return SumsText("")
    try:
        return decode_sums(old)
    except ValueError as exc:
        raise HashMismatchError(
            _("{sums} is there but cannot be read: {reason}; the installer's line was not added, and the file "
              "was left as it is.").format(sums=path, reason=exc),
            fix=_("Rename or remove {sums} (or save it as UTF-8 text), then stage again: miniconda-wizard --silent "
                  "--download-only --download-dir {folder}.").format(sums=path, folder=path.parent)) from None


def check_staging_folder(plan) -> None:
    """Before a ``--download-only`` run downloads: the ``SHA256SUMS`` already in ``plan.download_dir``, if any,
    can be read, so that the installer's line can be merged into it (``--dry-run`` checks it too).

    Raises:
        HashMismatchError: as :func:`merge_sums`, before anything is downloaded.
    """
    if not getattr(plan, "download_only", False) or getattr(plan, "download_dir", None) is None:
        return
    path = Path(plan.download_dir).expanduser() / SHA256SUMS
    try:
        old = path.read_bytes() if path.is_file() else b""
    except OSError:
        return  # merge_sums names a file it cannot read or write, after the download
    _decoded_for_merge(path, old)


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
    from app.core.download import hash_installer_file  # noqa: PLC0415

    path = Path(path)
    sums = path.parent / SHA256SUMS
    expected = expected.lower()
    fix = _("The copy on the share is damaged or was changed after it was staged. Stage it again "
            "(miniconda-wizard --silent --download-only --download-dir {folder}), or copy the installer and "
            "its SHA256SUMS line again from where they were staged.").format(folder=path.parent)
    pinned = pinned_sha256(path.name)
    if pinned is not None and pinned != expected:
        raise HashMismatchError(
            _('{sums} lists {expected} for {name}, but the pinned hash table says {pinned}.').format(sums=sums, expected=expected, name=path.name, pinned=pinned), fix=fix)
    reporter.log(Stage.DOWNLOAD, _('Checking the staged installer {path} against {sums}').format(path=path, sums=sums))
    actual = hash_installer_file(path, cancel, reporter, fix=_(
        'Check that the share is reachable and the file is readable (--installer-file in silent mode).'))
    if actual != expected:
        raise HashMismatchError(_('The SHA-256 of {path} is {actual}, but {sums} lists {expected}.').format(path=path, actual=actual, sums=sums, expected=expected), fix=fix)
    reporter.info(Stage.DOWNLOAD, "verified", True)
    reporter.log(Stage.DOWNLOAD, _('SHA-256 verified against {sums}: {actual}').format(sums=sums, actual=actual))
    return path


def stage_summary(folder: Path, name: str) -> str:
    """The last line of a download-only run: where the installer is and how machines install from it."""
    staged = Path(folder) / name
    if listed_sha256(staged):
        head = _("Staged {path} and its line in {sums}.").format(path=staged, sums=Path(folder) / SHA256SUMS)
    else:
        head = _("Staged {path} (unverified: no line in {sums}).").format(path=staged, sums=SHA256SUMS)
    return head + " " + _("Install from it (offline) with:") + \
        _("\n  miniconda-wizard --silent --installer-file {staged}").format(staged=staged)


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
    check_staging_folder(plan)  # a SHA256SUMS there that cannot be merged into: refused before the download
    path = cache.fetch(plan, choice, session, reporter, cancel)
    if plan.download_only:
        if choice.sha256:
            merge_sums(path.parent, path.name, choice.sha256, reporter)
        else:
            reporter.log(Stage.DOWNLOAD, _('No SHA-256 is known for {name}, so no line was added to {value}: machines installing from it use it unverified.').format(name=path.name, value=path.parent / SHA256SUMS), "warning")
    return path
