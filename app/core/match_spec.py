"""Package specs as conda reads them (its *MatchSpec* strings), checked before anything is downloaded.

``conda create`` takes each package as one *match spec*. Real conda crashes under ``--json`` on a
spec it cannot parse (no JSON on stdout, a traceback on stderr; recorded in
``tests/data/real-conda-errors/bad-spec.*``), and the run would only get there after Miniconda was
installed. So the plan parses every spec here first and refuses a bad one with a clear message.

The grammar follows conda's ``conda/models/match_spec.py`` (``_parse_spec_str``,
``_parse_version_plus_build``, ``_sanitize_version_str``) and ``conda/models/version.py``
(``version_check_re = ^[*.+!_0-9a-z]+$``, the operators of ``VersionSpec``), and the user guide page
"Package match specifications" (docs.conda.io, ``user-guide/concepts/pkg-specs``)::

    [channel[/subdir]::]name[ version[ build]][\\[key=value, ...\\]]
    name<op>version[,<op>version...][|...]     op: == != <= >= < > ~= =
    name=version[=build]                        (fuzzy: =1.26 means 1.26.*)

Accepted: ``numpy``, ``numpy>=1.26``, ``numpy >=1.26,<2``, ``pytorch=2.5``, ``python 3.11.*``,
``conda-forge::numpy``, ``numpy[version='>=1.26']``, ``numpy=1.26.4=py311h1234_0``.

Refused (each with the reason): no name (``>=1.2``), a version where the name goes (``3``), an
operator with no version (``numpy>=``, ``numpy=``), a version conda cannot read (``numpy >>= 1``), a
single ``:`` (conda reads ``a:b`` as a namespace and drops it silently), an unknown or empty
``[key=value]``, a name starting with ``-`` (conda would take it for a flag). Two places are
stricter than conda on purpose, because they are typos far more often than intent: ``numpy=``
(conda: any version) and a bare ``name:...``.

A ``--packages`` *string* is split into specs by :func:`split_specs`, which keeps a version that was
written apart from its name with that name: ``"numpy >= 1.26, pandas"`` is ``numpy>=1.26`` and
``pandas``, not four words.
"""

from __future__ import annotations

from app.i18n import _

import re
from dataclasses import dataclass

#: conda's ``version_check_re`` (conda/models/version.py), applied to the lowercased version.
_VERSION_RE = re.compile(r"^[*.+!_0-9a-z]+$")
#: Operators of conda's VersionSpec, longest first.
_OPS = ("==", "!=", "<=", ">=", "~=", "<", ">", "=")
#: A package name: what conda-build allows (lowercase letters, digits, ``-_.``), any case (conda lowercases
#: names when matching), plus ``*`` globs; it must not start with ``-`` or ``.``.
_NAME_RE = re.compile(r"^[A-Za-z0-9_*][A-Za-z0-9_.*+-]*$")
#: A word that is only a version number (``3``, ``1.26``, ``3.11.*``): never a package name here.
_BARE_VERSION_RE = re.compile(r"^\d+(\.\d+)*(\.\*|\*)?$")
#: The keys conda accepts in ``[...]`` (MatchSpec.FIELD_NAMES).
BRACKET_KEYS = ("channel", "subdir", "name", "version", "build", "build_number", "track_features", "features",
                "url", "md5", "license", "license_family", "fn")
_BRACKET_PAIR_RE = re.compile(r"""\s*([A-Za-z0-9_-]+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^,\s'"]*))\s*(?:,|$)""")
_CHANNEL_RE = re.compile(r"^(?:[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*|(?:https?|file)://\S+)$")
_OPERATOR_START = tuple("<>=!~|")
EXAMPLE = "for example 'numpy', 'numpy>=1.26', 'pytorch=2.5' or 'conda-forge::numpy'"


class SpecError(ValueError):
    """A spec conda would refuse (or crash on). ``str()`` is the reason, without the spec itself."""


@dataclass(frozen=True)
class MatchSpec:
    """A parsed spec. ``str()`` is the one-word form passed to ``conda create``.

    Attributes:
        name: the package name (may hold ``*``).
        version: conda's version expression without spaces (``>=1.26,<2``, ``2.5*``, ``1.26.4``) or ``None``.
        build: the build string or ``None``.
        channel: ``conda-forge``, ``conda-forge/linux-64`` or a channel URL, or ``None``.
        brackets: the other ``[key=value]`` pairs, in the order given.
    """

    name: str
    version: str | None = None
    build: str | None = None
    channel: str | None = None
    brackets: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        out = f"{self.channel}::" if self.channel else ""
        out += self.name
        pairs = list(self.brackets)
        version, build = self.version, self.build
        if version is not None and build is None:
            if version[0] in "<>=!~" or any(c in version for c in ",|"):
                out += version
            elif version == "*":
                pass  # any version: the name alone says the same
            elif version.endswith("*"):
                out += "=" + version.removesuffix("*").removesuffix(".")
            else:
                out += "==" + version
        elif version is not None and build is not None:
            if version[0] in "<>=!~" or any(c in version for c in ",|*"):
                pairs[:0] = [("version", version), ("build", build)]
            else:
                out += f"=={version}={build}"
        elif build is not None:
            pairs.insert(0, ("build", build))
        if pairs:
            out += "[" + ",".join(f"{k}='{v}'" for k, v in pairs) + "]"
        return out


def check_version(version: str) -> str:
    """Check a conda version expression; return it without spaces.

    ``>=1.26,<2``, ``1.26.*``, ``2.5``, ``>1.8,<2|==1.7``, ``(>=1,<2)|>3``. Raises :class:`SpecError`.
    """
    text = version.replace(" ", "")
    if not text:
        raise SpecError(_('the version is empty'))
    if text.count("(") != text.count(")"):
        raise SpecError(_("the version '{version}' has unbalanced parentheses").format(version=version))
    for term in re.split(r"[,|]", text.replace("(", "").replace(")", "")):
        if not term:
            raise SpecError(_("the version '{version}' has an empty part (a ',' or '|' with nothing beside it)").format(version=version))
        op = next((o for o in _OPS if term.startswith(o)), "")
        rest = term[len(op):]
        if not rest:
            raise SpecError(_("the operator '{op}' in '{version}' has no version after it").format(op=op, version=version))
        if rest[0] in "<>=!~":
            raise SpecError(_("'{term}' is not a version operator conda knows (use one of {ops})").format(term=term, ops=' '.join(_OPS)))
        if not _VERSION_RE.match(rest.lower()) or not re.search(r"[0-9a-z*]", rest.lower()):
            raise SpecError(_("'{rest}' in '{version}' is not a version (versions use letters, digits and . _ + ! *)").format(rest=rest, version=version))
    return text


def _sanitize(version: str, build: str | None) -> str:
    """conda's ``_sanitize_version_str``: ``==1.2`` -> ``1.2``; ``=1.2`` -> ``1.2*`` (fuzzy) unless a build follows."""
    if not version.startswith("="):
        return version
    bare = version.lstrip("=")
    if not bare:
        raise SpecError(_("'{version}' has no version after it").format(version=version))
    if version.startswith("==") and build is None:
        return bare
    if not any(c in bare for c in "=,|"):
        return bare + "*" if build is None and not bare.endswith("*") else bare
    return version


def _split_version_build(text: str) -> tuple[str, str | None]:
    """conda's ``_parse_version_plus_build``: ``">=1.0 , < 2.0 py34_0"`` -> ``(">=1.0,<2.0", "py34_0")``."""
    m = re.search(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$", text)
    if m:
        version, build = m.groups()
        build = build.strip() if build else None
    else:  # pragma: no cover - the pattern matches any non-empty text
        version, build = text, None
    return version.replace(" ", ""), build or None


def parse(spec: str) -> MatchSpec:
    """Parse one spec string.

    Raises:
        SpecError: the reason conda would refuse it (or crash on it).
    """
    original = spec
    spec = spec.strip()
    if not spec:
        raise SpecError(_('it is empty'))
    if spec.startswith("-"):
        raise SpecError(_("it starts with '-', so conda would take it for an option"))
    if "#" in spec:
        raise SpecError(_("it contains '#' (conda drops everything after it as a comment)"))
    brackets: list[tuple[str, str]] = []
    if "[" in spec or "]" in spec:
        m = re.fullmatch(r"([^\[\]]*)\[([^\[\]]*)\]", spec)
        if not m:
            raise SpecError(_('its [ ] are not one pair at the end (write name[key=value, ...])'))
        spec, inner = m.group(1).strip(), m.group(2)
        pos = 0
        while pos < len(inner.rstrip()):
            pm = _BRACKET_PAIR_RE.match(inner, pos)
            if not pm or pm.end() == pos:
                raise SpecError(_("'[{inner}]' is not a list of key=value pairs").format(inner=inner))
            key, value = pm.group(1), next(v for v in pm.group(2, 3, 4) if v is not None)
            if key not in BRACKET_KEYS:
                raise SpecError(_("'{key}' is not a key conda knows inside [ ] (known: {bracket_keys})").format(key=key, bracket_keys=', '.join(BRACKET_KEYS)))
            if not value:
                raise SpecError(_("the key '{key}' inside [ ] has no value").format(key=key))
            brackets.append((key, value))
            pos = pm.end()
    channel = None
    if "::" in spec:
        channel, _sep, spec = spec.rpartition("::")
        channel = channel.strip()
        if not channel or not _CHANNEL_RE.match(channel):
            raise SpecError(_("'{channel}' before '::' is not a channel name or URL").format(channel=channel))
    if ":" in spec:
        raise SpecError(_("it has a single ':'; a channel is written with two, as in conda-forge::numpy"))
    m = re.match(r"([^ =<>!~]+)?([><!=~ ].*)?$", spec)
    name, rest = (m.group(1), m.group(2)) if m else (None, spec)
    if not name:
        raise SpecError(_("it has no package name before '{strip}'").format(strip=(rest or spec).strip()))
    if _BARE_VERSION_RE.match(name):
        raise SpecError(_("'{name}' is a version, not a package name (write it after the name, as in python=3.11)").format(name=name))
    if "*" in name:
        raise SpecError(_("'{name}' is a pattern; conda create needs the exact package name").format(name=name))
    if not _NAME_RE.match(name):
        raise SpecError(_("'{name}' is not a package name (letters, digits, '-', '_' and '.')").format(name=name))
    version = build = None
    rest = (rest or "").strip()
    if rest:
        if rest in ("=", "==") or (rest.startswith("=") and rest[1:].strip() == ""):
            raise SpecError(_("'{rest}' has no version after it").format(rest=rest))
        version, build = _split_version_build(rest)
        version = _sanitize(version, build)
        version = check_version(version)
        if build is not None and not re.fullmatch(r"[A-Za-z0-9_.*+]+", build):
            raise SpecError(_("'{build}' is not a build string").format(build=build))
    for key, value in brackets:
        if key == "version":
            version = check_version(value)
        elif key == "build":
            build = value
        elif key == "channel":
            channel = value
    others = tuple((k, v) for k, v in brackets if k not in ("version", "build", "channel", "name"))
    return MatchSpec(name=name, version=version, build=build, channel=channel, brackets=others)


def canonical(spec: str) -> str:
    """The one-word form of a valid spec (``"numpy >= 1.26"`` -> ``"numpy>=1.26"``). Raises :class:`SpecError`."""
    return str(parse(spec))


def _words(text: str) -> list[tuple[str, str]]:
    """Split on whitespace and commas outside ``[...]`` and quotes: ``[(word, separator before it)]``;
    the separator is ``","`` when a comma was among it, else ``" "`` (``""`` for the first word)."""
    out: list[tuple[str, str]] = []
    word, sep, depth, quote = "", "", 0, ""
    for ch in text:
        if quote:
            word += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"" and depth:
            quote = ch
            word += ch
        elif ch == "[":
            depth += 1
            word += ch
        elif ch == "]":
            depth = max(0, depth - 1)
            word += ch
        elif depth == 0 and (ch.isspace() or ch == ","):
            if word:
                out.append((word, sep))
                word, sep = "", ""
            sep = "," if ch == "," or sep == "," else " "
        else:
            word += ch
    if word:
        out.append((word, sep))
    return out


def split_specs(text: str) -> list[str]:
    """Split a ``--packages`` string into specs, keeping versions with their names.

    Words are separated by spaces or commas. A word that starts with an operator (``>=1.26``,
    ``<2``, ``==``), a bare version (``1.26``, ``3.11.*``) or a word following a lone operator belongs
    to the spec before it: ``"numpy >= 1.26, <2 pandas"`` -> ``["numpy>=1.26,<2", "pandas"]``;
    ``"python 3.11.*"`` -> ``["python 3.11.*"]`` (conda's own ``name version`` form). Words that
    belong to nothing (``">=1.2"`` first) stay on their own, for :func:`parse` to refuse.
    """
    specs: list[str] = []
    dangling = False  # the last spec ends in an operator that still needs its version
    for word, sep in _words(text):
        if not specs:
            specs.append(word)
        else:
            last = specs[-1]
            has_version = bool(re.search(r"[<>=!~ ]", last.split("[", 1)[0].split("::")[-1]))
            if dangling:
                specs[-1] = last + word
            elif word.startswith(_OPERATOR_START):
                specs[-1] = last + ("," if has_version and not word.startswith("|") else "") + word
            elif _BARE_VERSION_RE.match(word) and not has_version:
                specs[-1] = last + " " + word
            else:
                specs.append(word)
        dangling = specs[-1].endswith(("=", "<", ">", "~", "!", "|"))
    return specs
