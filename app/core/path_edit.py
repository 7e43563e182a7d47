"""Pure edits of a PATH string: add entries in front, take them out again. No I/O.

Why pure: the Windows user PATH lives in the registry, and the way it gets lost
is a tool rewriting the whole value carelessly (``setx`` truncates it to 1,024
characters; see openframeworks/openFrameworks#6907 and nvm-windows#662). Keeping
the string work here, apart from the thin registry adapter in
:mod:`app.core.win_registry` (used by :mod:`app.core.windows_setup`), lets the tests prove on any OS that nothing is
dropped, reordered or cut. The split follows rustup's ``windows.rs``
(``_add_to_path(old, new) -> Option<new>``, ``None`` when there is nothing to do).

Rules (both functions):

* Existing entries are never dropped, reordered or rewritten, whatever they look
  like (quotes, ``%VARS%``, trailing ``\\``, spaces, even a stray line break).
* Entries compare, on Windows (``sep=";"``), case-insensitively, ignoring
  surrounding whitespace and double quotes, trailing ``\\``/``/`` and the
  ``/`` vs ``\\`` spelling. Elsewhere (``sep=":"``) they compare exactly except
  for a trailing ``/``.
* ``%VAR%`` references are kept as written. For the question "is this directory
  already there?" (:func:`add_to_path`, :func:`path_contains`) the caller may pass
  ``expand`` (Windows' ``ExpandEnvironmentStrings``), so that ``%USERPROFILE%\\miniconda3``
  counts as ``C:\\Users\\me\\miniconda3``. :func:`remove_from_path` never expands: a
  ``%USERPROFILE%\\...`` entry is always someone else's (we only write plain paths).
* The old value is kept byte for byte, empty segments included (also at its start), so
  that :func:`remove_from_path` after :func:`add_to_path` gives back exactly the old value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

#: Expands ``%VAR%`` references in one PATH entry (e.g. ``winreg.ExpandEnvironmentStrings``).
Expand = Callable[[str], str]


def _is_windows(sep: str) -> bool:
    return sep == ";"


def normalize_entry(entry: str, sep: str = ";") -> str:
    """The comparison key of one PATH entry (see the module rules). Empty for a blank entry."""
    e = entry.strip()
    if _is_windows(sep):
        e = e.strip('"').strip().replace("/", "\\").rstrip("\\")
        return e.casefold()
    stripped = e.rstrip("/")
    return stripped if stripped or not e else "/"


def _key(entry: str, sep: str, expand: Expand | None) -> str:
    if expand is not None and _is_windows(sep) and "%" in entry:
        entry = expand(entry)
    return normalize_entry(entry, sep)


def _check_entries(entries: Iterable[str], sep: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        if sep in entry:
            raise ValueError(f"PATH entry {entry!r} contains the separator {sep!r}")
        key = normalize_entry(entry, sep)
        if not key:
            raise ValueError("empty PATH entry")
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def add_to_path(old: str | None, entries: list[str], sep: str = ";", expand: Expand | None = None) -> str | None:
    """Prepend the ``entries`` that ``old`` lacks, in their order.

    Args:
        old: the current PATH value (``None`` or ``""`` when there is none).
        entries: directories to put first, highest priority first.
        sep: ``";"`` (Windows rules) or ``":"``.
        expand: expands ``%VAR%`` in old entries for the comparison only (Windows rules).

    Returns:
        The new value, or ``None`` when every entry is already present
        (so the caller writes nothing). The new value is ``<missing entries><sep><old>``,
        ``old`` unchanged byte for byte (or just the entries when ``old`` is empty).

    Raises:
        ValueError: an entry is empty or contains ``sep`` (a programming error:
            callers check the install location first).
    """
    wanted = _check_entries(entries, sep)
    old = old or ""
    present = {_key(e, sep, expand) for e in old.split(sep)}
    missing = [e for e in wanted if normalize_entry(e, sep) not in present]
    if not missing:
        return None
    head = sep.join(missing)
    return f"{head}{sep}{old}" if old else head


def remove_from_path(old: str | None, entries: list[str], sep: str = ";") -> str | None:
    """Take every segment of ``old`` that matches one of ``entries`` out.

    Returns:
        The new value (other segments, empty ones included, kept in order and as
        written), or ``None`` when nothing matched.

    Raises:
        ValueError: as :func:`add_to_path`.
    """
    drop = {normalize_entry(e, sep) for e in _check_entries(entries, sep)}
    if not old:
        return None
    segments = old.split(sep)
    kept = [s for s in segments if not (s.strip() and normalize_entry(s, sep) in drop)]
    if len(kept) == len(segments):
        return None
    return sep.join(kept)


def path_contains(value: str | None, entry: str, sep: str = ";", expand: Expand | None = None) -> bool:
    """Whether ``value`` already has ``entry`` (by the comparison rules above; ``expand`` as in
    :func:`add_to_path`)."""
    key = normalize_entry(entry, sep)
    return any(_key(s, sep, expand) == key for s in (value or "").split(sep))
