"""What a failed ``conda create`` means: a table of real conda outputs, not keywords.

The table is data, ``resources/conda_errors.toml`` (its header documents the columns): each row names a conda
exception (a regular expression on ``exception_name``), a pattern searched in everything conda said, and the
explanation and fix shown to the user. The first matching row wins. Every row is tested with a real recorded
output (``tests/data/real-conda-errors/``, recorded from conda 26.7), or, where none could be recorded here, with
the message format from conda's source (named in the row's ``source``).

Shapes this relies on (all in the recordings): errors come as ONE JSON document on stdout (``exception_name``,
``message``, ``error``, plus per-exception keys such as ``channel_url``, ``status_code``, ``packages``,
``guidance``, ``unsatisfiable``); ``message`` may be ``""`` (``UnsatisfiableError``: the text is then only in
``guidance``); stderr may hold text even when stdout has the document (urllib3 retry warnings before a
``CondaHTTPError``); without ``--json`` (or from a plugin) the error is ``Name: message`` text on stderr; and
conda may crash with a traceback and no JSON at all (a spec it cannot parse).
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.i18n import N_, _
from app.core import disk_errors
from app.core.errors import EnvCreateError, TermsOfServiceError
from app.resources import resource

#: The pseudo exception name of a create that conda reported as a success, but whose env has no Python.
ENV_WITHOUT_PYTHON = "EnvWithoutPython"

_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s<>'\"]+", re.IGNORECASE)
_TEXT_ERROR = re.compile(r"^([A-Z][A-Za-z0-9_]*(?:Error|Exception|Channel|Spec)): ?(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Row:
    """One row of the table (see the header of ``resources/conda_errors.toml``)."""

    id: str
    exception: re.Pattern[str]
    pattern: re.Pattern[str]
    explanation: str
    fix: str
    source: str
    kind: str = ""
    #: The texts used when a placeholder of ``explanation`` / ``fix`` has no value (conda's document lacked the
    #: field): the same advice worded without it ("" = fill the blank with :data:`UNKNOWN_WORDS`).
    explanation_without: str = ""
    fix_without: str = ""


def _compile(text: str, where: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise ValueError(f"{where}: bad regular expression {text!r}: {exc}") from exc


def load_table(path: Path | None = None) -> list[Row]:
    """The rows of ``path`` (default: the bundled ``resources/conda_errors.toml``), in order.

    Raises:
        ValueError: a row lacks a column or has a bad regular expression (a broken resource file).
        OSError: the file cannot be read.
    """
    path = Path(path) if path is not None else resource("conda_errors.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rows = []
    for i, raw in enumerate(data.get("row", [])):
        where = f"{path.name} row {i + 1} ({raw.get('id', '?')})"
        missing = [k for k in ("id", "exception", "pattern", "explanation", "fix", "source") if k not in raw]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        rows.append(Row(
            id=str(raw["id"]),
            exception=_compile(str(raw["exception"]), where),
            pattern=_compile(str(raw["pattern"]), where, re.IGNORECASE | re.DOTALL),
            explanation=str(raw["explanation"]),
            fix=str(raw["fix"]),
            source=str(raw["source"]),
            kind=str(raw.get("kind", "")),
            explanation_without=str(raw.get("explanation_without", "")),
            fix_without=str(raw.get("fix_without", "")),
        ))
    return rows


@lru_cache(maxsize=1)
def _table() -> tuple[Row, ...]:
    return tuple(load_table())


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


#: Words for a placeholder without a value, where a row has no ``*_without`` text: the sentence then names the
#: thing in words, never with an empty blank ("to : ...") or a command with an empty or "." argument.
UNKNOWN_WORDS = {  # gettext ids, translated at use (app.i18n)
    "url": N_("the channel server"), "channel_url": N_("a channel"), "channels": N_("the channels in use"),
    "path": N_("a folder conda needs (its path is in conda's message in the log)"), "where": N_("the env folder"),
    "packages": N_("a package asked for"), "status_code": N_("an error"), "reason": "", "http_status": N_("an error"),
    "python_pkg": N_("the python package"), "spec_error": N_("a spec it could not parse"), "exception": "conda",
    "conda_says": N_("(no message)"), "last_line": N_("(nothing)"), "returncode": "?",
}
#: A value that names no real place: treated as missing (a recursive command on "." would act on the current folder).
_NO_VALUE = {"", ".", "./", "..", "/", "~", "None", "none", "null"}


def placeholders(template: str) -> list[str]:
    """The placeholder names in ``template`` (``"to {url}: {conda_says}"`` -> ``["url", "conda_says"]``)."""
    return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name]


def render(template: str, without: str, facts: dict[str, str]) -> str:
    """``template`` with ``facts`` filled in; when one of its placeholders has no value (empty, ``"."``, ...),
    ``without`` instead (the same advice without that fact), or, if the row has none, the placeholder in words
    (:data:`UNKNOWN_WORDS`)."""
    # the table's texts are gettext ids (build_scripts/i18n_common.py adds them to messages.pot)
    template, without = _(template), (_(without) if without else without)
    missing = [k for k in placeholders(template) if str(facts.get(k, "")).strip() in _NO_VALUE]
    if missing and without:
        template = without
    filled = _Blank({k: v for k, v in facts.items() if str(v).strip() not in _NO_VALUE})
    for k in placeholders(template):
        if k not in filled:
            words = UNKNOWN_WORDS.get(k, "")
            filled[k] = _(words) if words else words
    return re.sub(r"\s+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", template.format_map(filled))).strip()


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_text_of(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(_text_of(v) for v in value)
    return str(value)


def _guidance_text(doc: dict[str, Any]) -> str:
    g = doc.get("guidance")
    if not isinstance(g, dict):
        return ""
    parts = [str(g.get("summary") or ""), str(g.get("cause") or "")]
    parts += [str(h.get("text", "")) for h in g.get("hints", []) if isinstance(h, dict)]
    return "\n".join(p for p in parts if p)


def _from_text(text: str) -> dict[str, Any] | None:
    """``Name: message`` printed as text (conda without ``--json``, or a plugin), unless it is a traceback."""
    if "Traceback (most recent call last)" in text:
        return None
    m = _TEXT_ERROR.search(text)
    if not m:
        return None
    return {"exception_name": m.group(1), "message": text[m.start(2):].strip(), "error": text[m.start():].strip()}


def _first_lines(text: str, limit: int = 3) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " ".join(lines[:limit])


def _tos_channels(message: str) -> list[str]:
    head = re.split(r"To accept|run the following", message, maxsplit=1)[0]
    return list(dict.fromkeys(u.rstrip(".,;:") for u in _URL.findall(head)))


def _facts(doc: dict[str, Any], stderr: str, returncode: int, where: str) -> dict[str, str]:
    name = str(doc.get("exception_name") or "")
    message = str(doc.get("message") or "")
    guidance = _guidance_text(doc)
    unsat = doc.get("unsatisfiable")
    conflicts = "; ".join(" -> ".join(map(str, group)) for group in unsat if group) if isinstance(unsat, list) else ""
    says = _first_lines(message, 6) or conflicts or _first_lines(guidance, 1) or _first_lines(str(doc.get("error") or ""))
    text = "\n".join((message, str(doc.get("error") or "")))
    # fields conda's document may lack, taken from its message: "  path: /opt/x/pkgs", "for url <https://...>"
    in_text_path = re.search(r"^\s*path:\s*(\S.*?)\s*$", text, re.MULTILINE)
    in_text_url = _URL.search(text)
    in_text_status = re.search(r"\bHTTP (\d{3})\b", text)
    url = str(doc.get("url") or doc.get("channel_url") or "") or \
        (in_text_url.group(0).rstrip(">.,;:") if in_text_url else "")
    facts = _Blank(
        exception=name or "conda",
        conda_says=says or "(no message)",
        url=url,
        channel_url=str(doc.get("channel_url") or doc.get("url") or ""),
        status_code=str(doc.get("status_code") or "") or (in_text_status.group(1) if in_text_status else ""),
        reason=str(doc.get("reason") or ""),
        path=str(doc.get("path") or "") or (in_text_path.group(1).strip("'\"") if in_text_path else ""),
        where=where,
        returncode=str(returncode),
        last_line=(stderr.strip().splitlines() or ["(nothing)"])[-1].strip(),
    )
    packages = doc.get("packages")
    if isinstance(packages, list) and packages:
        facts["packages"] = ", ".join(map(str, packages))
    channels: list[str] = []
    if "Terms of Service" in message:
        channels = _tos_channels(message)
    elif isinstance(doc.get("channel_urls"), list):
        channels = list(dict.fromkeys(re.sub(r"/(noarch|[a-z]+-[a-z0-9_]+)$", "", str(u)) for u in doc["channel_urls"]))
    elif facts["channel_url"]:
        channels = [facts["channel_url"]]
    facts["channels"] = ", ".join(channels) or _("the channels in use")
    facts["tos_commands"] = "; ".join(f"conda tos accept --override-channels --channel {c}" for c in channels) \
        or "conda tos accept --override-channels --channel CHANNEL"
    if facts["path"].strip() not in _NO_VALUE:
        p = Path(facts["path"])
        root = p.parent if p.suffix else p
        facts["path_root"] = str(root) if str(root) not in _NO_VALUE and root.is_absolute() else ""
    else:
        facts["path"] = ""
    facts["python_pkg"] = str(doc.get("python_pkg") or "")
    return facts


def _haystack(doc: dict[str, Any], stdout: str, stderr: str) -> str:
    keys = ("exception_name", "message", "error", "unsatisfiable", "caused_by", "reason", "url", "channel_url",
            "status_code", "packages", "path", "python_pkg")
    parts = [_text_of(doc.get(k)) for k in keys] + [_guidance_text(doc)]
    if not doc.get("exception_name"):
        parts.append(stdout[-8000:])
    parts.append(stderr[-8000:])
    return "\n".join(p for p in parts if p)


def match(doc: dict[str, Any] | None, stdout: str = "", stderr: str = "", table: list[Row] | None = None,
          ) -> tuple[Row, dict[str, Any]]:
    """The first row of ``table`` (default: the bundled one) for this output, and the document it was read from
    (``doc``, the ``Name: message`` text of stderr/stdout, or ``{}``)."""
    rows = table if table is not None else _table()
    if doc is None or not doc.get("exception_name"):
        doc = {**(doc or {}), **(_from_text(stderr) or _from_text(stdout) or {})}
    name = str(doc.get("exception_name") or "")
    hay = _haystack(doc, stdout, stderr)
    for row in rows:
        if row.exception.fullmatch(name) and row.pattern.search(hay):
            return row, doc
    raise LookupError("no row of the conda error table matched (the table needs a final catch-all row)")


def explain(doc: dict[str, Any] | None, stdout: str, stderr: str, returncode: int, *,
            where: str = "the env folder", table: list[Row] | None = None) -> EnvCreateError:
    """The error to raise for a failed ``conda create``.

    Args:
        doc: conda's final JSON document (:func:`app.core.conda_env.parse_conda_json`), or ``None`` when it
            printed none. For an env conda created without a Python, the caller passes
            ``{"exception_name": "EnvWithoutPython", "python_pkg": "python 3.99.99 from CHANNEL"}``.
        stdout, stderr: conda's output (stderr may hold text next to a JSON document).
        returncode: conda's exit code.
        where: the env folder, for disk advice.
        table: rows to use instead of the bundled ``resources/conda_errors.toml``.

    Returns:
        :class:`~app.core.errors.TermsOfServiceError` (exit code 10) for a ``tos`` row, else
        :class:`~app.core.errors.EnvCreateError` (exit code 9). ``message`` is the row's explanation with conda's
        own words filled in and conda's exception name, ``fix`` the row's fix, ``detail`` conda's full error text and stderr (for the log).
    """
    row, doc = match(doc, stdout, stderr, table)
    facts = _facts(doc, stderr, returncode, where)
    groups = row.pattern.search(_haystack(doc, stdout, stderr))
    if groups:
        facts.update({k: v.strip() for k, v in groups.groupdict().items() if v})
    detail = "\n".join(p for p in (str(doc.get("error") or doc.get("message") or ""), stderr[-4000:].strip(),
                                   "" if doc.get("exception_name") else stdout[-4000:].strip()) if p)
    if row.kind in (disk_errors.QUOTA, disk_errors.FULL):
        what, fix = disk_errors.advice(row.kind, where, "choose another install location")
        name = facts["exception"]
        return EnvCreateError(_('{what} conda said: {name}: {conda_says}').format(what=what, name=name, conda_says=facts['conda_says']), fix=fix, detail=detail)
    message = render(row.explanation, row.explanation_without, facts)
    name = str(doc.get("exception_name") or "")
    if name and name != ENV_WITHOUT_PYTHON and name not in message:
        message = _("{message} (conda: {name})").format(message=message, name=name)  # conda's name, to search for
    fix = render(row.fix, row.fix_without, facts)
    cls = TermsOfServiceError if row.kind == "tos" else EnvCreateError
    err = cls(message, fix=fix, detail=detail)
    err.row_id = row.id  # type: ignore[attr-defined]  # which row matched, for the log and tests
    return err


def env_without_python(doc: dict[str, Any] | None, python: Path, where: str) -> EnvCreateError:
    """The error for a create that conda reported as a success, but whose env has no ``python`` (the file).

    ``doc`` is conda's success document: when its ``LINK`` list holds a python package, that package had no
    interpreter (the channel's python is not a working build; recorded: ``py399``); otherwise no python was
    installed at all.
    """
    link = (doc or {}).get("actions", {}).get("LINK", []) if isinstance((doc or {}).get("actions"), dict) else []
    pkg = next((r for r in link if isinstance(r, dict) and r.get("name") == "python"), None)
    pseudo: dict[str, Any] = {"exception_name": ENV_WITHOUT_PYTHON,
                              "message": f"the env has no Python at {python}"}
    if pkg:
        channel = pkg.get("base_url") or pkg.get("channel") or "?"
        pseudo["python_pkg"] = f"python {pkg.get('version', '?')} from {channel}"
    err = explain(pseudo, "", "", 0, where=where)
    err.message = f"{err.message} (missing: {python})"
    return err
