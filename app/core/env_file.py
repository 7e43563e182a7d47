"""An ``environment.yml`` given with ``--env-file``: read with PyYAML, checked before anything runs.

The format is conda's (``conda/env/env.py`` of conda 26.x, ``VALID_KEYS``, ``validate_keys``,
``Dependencies.parse``; ``conda/cli/main_env_create.py``)::

    name: ldm                 # the env name, unless -n is given (conda: "unless overridden on the CLI")
    channels: [pytorch, defaults]
    dependencies:
      - python=3.10           # conda match specs (app.core.match_spec)
      - pip
      - pip:                  # pip requirement lines, written by conda into a requirements file in the
          - transformers==4.30  # folder of the environment.yml and run there ("-e ." is that folder)
    variables: {KEY: value}
    prefix: /home/someone/miniconda3/envs/ldm   # where it was exported; ignored here (with a warning)

Every problem of the file is found at once (:func:`load` collects them all) and shown at plan
validation (exit code 2) with the file, the line and the fix; nothing has been downloaded then.
Kinds of problems: the file is missing, a folder, not readable, not UTF-8/UTF-16, not YAML (PyYAML's line
and column), empty, not a mapping; a misspelt top-level key (conda ignores unknown keys with a warning,
so ``dependecies:`` would make an env without packages); a ``name:`` conda cannot use; ``channels`` or
``dependencies`` not a list; a channel that is not a name or URL; a conda spec that
:func:`app.core.match_spec.parse` refuses, with the pip-only kinds named (a PEP 508 marker ``;``, a wheel
or other URL, ``-e``: "move it under ``- pip:``"); a section other than ``pip:``; a pip line that
:class:`packaging.requirements.Requirement` refuses (URLs, VCS URLs, local paths and the options
``-e``/``-r``/``-c``/``--index-url``/``--extra-index-url``/``-f``/``--find-links``/``--pre``/
``--no-binary``/``--only-binary``/``--trusted-host`` are what pip takes in a requirements file too);
an editable or local path that does not exist next to the file; no python and no pip in the env.
Warnings (logged, the run goes on): ``prefix:`` (it points at someone else's machine), unknown keys conda
ignores, pip entries without ``pip`` listed (conda adds it, and says so), the ``pytorch`` channel (it
stopped at PyTorch 2.5) and ``pytorch-cuda``, a ``name:`` that --env-name overrides.

The env's name: ``--env-name`` (or ``env_name`` in the answer file) wins, as ``-n`` does in conda;
without it, the file's ``name:`` is used (:func:`declared_name`, applied by ``app.cli.plan_from_values``).
The run always passes ``-n NAME`` to ``conda env create``, so the name the plan shows is the one made.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from app.core import match_spec, plan_checks
from app.core.errors import UsageError
from app.i18n import N_, _

#: Top-level keys conda reads (conda/env/env.py ``VALID_KEYS``).
VALID_KEYS = ("name", "dependencies", "prefix", "channels", "variables")
#: Largest file read (a real environment.yml is a few KiB).
MAX_BYTES = 1024 * 1024
#: pip requirement-file options that take a value, and those that do not (pip's ``req_file.py``).
_PIP_VALUE_OPTIONS = ("-e", "--editable", "-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                      "--extra-index-url", "-f", "--find-links", "--trusted-host", "--no-binary", "--only-binary")
_PIP_FLAG_OPTIONS = ("--pre", "--no-index", "--prefer-binary", "--require-hashes")
_URL_RE = re.compile(r"^(?:git\+|hg\+|svn\+|bzr\+)?(?:https?|file|ssh|git)://", re.IGNORECASE)
_FIX_PIP = N_("move it under '- pip:' (a list inside dependencies), where pip reads it")


@dataclass
class EnvFile:
    """What :func:`load` read.

    Attributes:
        path: the file (absolute).
        name: the ``name:`` value, or ``None``.
        name_line: its line (1-based) or ``None``.
        channels: ``channels:`` in order (``$VARS`` expanded, as conda does).
        conda_specs: the conda dependencies, as written.
        pip_specs: the ``pip:`` lines, as written.
        prefix: the ``prefix:`` value, or ``None`` (ignored).
        problems: sentences, each naming the file, the line and the fix; empty when conda can use it.
        warnings: sentences about what is ignored or risky.
    """

    path: Path
    name: str | None = None
    name_line: int | None = None
    channels: list[str] = field(default_factory=list)
    conda_specs: list[str] = field(default_factory=list)
    pip_specs: list[str] = field(default_factory=list)
    prefix: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def conda_names(self) -> list[str]:
        """The package names of the valid conda specs (``pytorch::pytorch=2.0`` -> ``pytorch``), lowercased."""
        out = []
        for spec in self.conda_specs:
            try:
                out.append(match_spec.parse(spec).name.lower())
            except match_spec.SpecError:
                continue
        return list(dict.fromkeys(out))

    def pip_names(self) -> list[str]:
        """The canonical names (PEP 503) of the pip lines that name a package (not options, URLs or paths)."""
        out = []
        for line in self.pip_specs:
            req = _requirement(line)
            if req is not None:
                out.append(canonicalize_name(req.name))
        return list(dict.fromkeys(out))

    @property
    def uses_defaults(self) -> bool:
        """Whether ``conda env create`` reaches the defaults channels: conda adds the .condarc channels
        (a new Miniconda's are ``[defaults]``) unless the file lists ``nodefaults``."""
        return "nodefaults" not in self.channels or "defaults" in self.channels


def _where(path: Path, line: int | None) -> str:
    where = _("The environment file {path} (--env-file / env_file)").format(path=path)
    return where + (_(", line {line},").format(line=line) if line else "")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _requirement(line: str) -> Requirement | None:
    text = line.strip()
    if not text or text.startswith("-") or _URL_RE.match(text):
        return None
    text = re.split(r"\s+--", text, maxsplit=1)[0]  # per-requirement options (--hash=...)
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


SAVE_AS_UTF8 = N_("Save the environment.yml as UTF-8: in an editor, Save As > Encoding: UTF-8; or convert it with "
                "iconv -f <its encoding> -t UTF-8 environment.yml > environment-utf8.yml (for example -f UTF-16LE, "
                "-f CP1252, -f GBK).")


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark allowed), else UTF-16 with a byte-order mark, as conda's
    ``from_file`` tries utf-8 and then utf-16.

    Raises:
        ValueError: the reason it cannot be read, as a sentence part (``"does not exist"``).
        UsageError: the bytes are not text conda reads (UTF-16 without a byte-order mark, Latin-1, binary):
            a whole sentence naming the encoding (:func:`app.core.plan_checks.decode_config`).
    """
    try:
        if path.is_dir():
            raise ValueError(_("is a folder, not a file"))
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(_("is {size} bytes long; an environment.yml is a few KiB (is it the right file?)").format(size=size))
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(_("does not exist")) from None
    except NotADirectoryError:
        raise ValueError(_("does not exist: a folder on its path is a file")) from None
    except OSError as exc:
        raise ValueError(_("cannot be read: {reason}").format(reason=exc.strerror or exc)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError(_("starts like UTF-16 but is not valid UTF-16 ({reason}); save it as UTF-8").format(
                reason=exc.reason)) from None
    # the answer file's decoding checks (UTF-16 without a byte-order mark, Latin-1, binary), worded for this file
    return plan_checks.decode_config(data, path, what="environment file", fmt="YAML",
                                     fixes=(_(SAVE_AS_UTF8), _(SAVE_AS_UTF8)))


def encoding_note(path: Path) -> str:
    """``" (read as UTF-16)"`` when the file has a UTF-16 byte-order mark (conda reads it so too), else ``""``:
    for messages about its content, so an odd encoding shows."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return ""
    return _(" (read as UTF-16)") if head.startswith((b"\xff\xfe", b"\xfe\xff")) else ""


def declared_name(path: Path | str) -> str | None:
    """The file's ``name:`` when it is a non-empty string, else ``None``; never raises."""
    try:
        doc = yaml.safe_load(read_text(Path(path).expanduser()))
    except (ValueError, UsageError, yaml.YAMLError):
        return None
    name = doc.get("name") if isinstance(doc, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def load(path: Path | str, env_name: str | None = None) -> EnvFile:
    """Read and check an environment.yml; never raises for what is in the file.

    Args:
        path: the file (``~`` expanded; relative to the current directory).
        env_name: the env name the run will use (the plan's), to warn when it overrides ``name:``.

    Returns:
        :class:`EnvFile`; its ``problems`` list every problem found (empty = conda can use it).
    """
    path = Path(path).expanduser().absolute()
    env = EnvFile(path)
    where = _where(path, None)
    if problem := plan_checks.pseudo_fs_problem(path, "--env-file / env_file", "an environment.yml"):
        env.problems.append(_("The environment file {problem}").format(problem=problem))
        return env
    try:
        text = read_text(path)
    except ValueError as exc:
        env.problems.append(_("{where} {reason}. Give the path of an environment.yml.").format(where=where, reason=exc))
        return env
    except UsageError as exc:
        env.problems.append(f"{exc.message} {exc.fix}")
        return env
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = _(", line {line}, column {column},").format(line=mark.line + 1, column=mark.column + 1) \
            if mark is not None else ""
        what = " ".join(str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p) \
            or str(exc)
        fix = (_("YAML does not allow tabs for indentation: indent with spaces.") if "'\\t'" in what else
               _("Fix the indentation or quoting there (YAML lists are '- item' lines under the key)."))
        env.problems.append(_("{where}{at} is not valid YAML: {what}. {fix}").format(where=where, at=at, what=what,
                                                                                    fix=fix))
        return env
    finally:
        loader.dispose()
    if root is None:
        env.problems.append(_("{where} is empty. Give a file with 'dependencies:' (for example the project's "
                              "environment.yml).").format(where=where))
        return env
    if not isinstance(root, yaml.MappingNode):
        env.problems.append(_("The environment file {path}{note} (--env-file / env_file), line {line}, is not a "
                              "mapping of keys (name, channels, dependencies): it is a plain value or a list. Check "
                              "that it is an environment.yml, not a requirements.txt.").format(
                                  path=path, note=encoding_note(path), line=_line(root)))
        return env

    def value(node: yaml.Node) -> Any:
        try:
            return yaml.SafeLoader("").construct_object(node, deep=True)
        except yaml.YAMLError:
            return None

    for key_node, val_node in root.value:
        key = value(key_node)
        line = _line(key_node)
        if key == "name":
            _check_name(env, value(val_node), line, env_name)
        elif key == "channels":
            _check_channels(env, val_node, value)
        elif key == "dependencies":
            _check_dependencies(env, val_node, value)
        elif key == "prefix":
            env.prefix = str(value(val_node))
            env.warnings.append(_("{where} has 'prefix: {prefix}', the folder where it was exported on another "
                                  "machine; it is ignored and the env is created by name.").format(
                                      where=_where(path, line), prefix=env.prefix))
        elif key == "variables":
            v = value(val_node)
            if v is not None and (not isinstance(v, dict) or not all(isinstance(k, str) for k in v)):
                env.problems.append(_("{where} 'variables:' must be a mapping of NAME: value lines. "
                                      "Fix it, or remove the section.").format(where=_where(path, line)))
        else:
            close = difflib.get_close_matches(str(key), VALID_KEYS, n=1, cutoff=0.75)
            if close:
                env.problems.append(_("{where} has the key {key}; did you mean {close}? conda ignores unknown keys, "
                                      "so it would be left out. Rename it to {close}.").format(
                                          where=_where(path, line), key=repr(key), close=repr(close[0])))
            else:
                env.warnings.append(_("{where} has the key {key}, which conda ignores (it reads {keys}).").format(
                    where=_where(path, line), key=repr(key), keys=", ".join(VALID_KEYS)))
    if not env.conda_specs and not env.pip_specs and not any("dependencies" == value(k) for k, _v in root.value):
        env.problems.append(_("{where} has no 'dependencies:' list, so the env would hold nothing. "
                              "Add one with at least '- python=3.11'.").format(where=where))
    names = env.conda_names()
    loose = {re.split(r"[\s=<>!~\[]", s.split("::")[-1].strip(), maxsplit=1)[0].lower() for s in env.conda_specs}
    if not {"python", "pip"} & (set(names) | loose) and not env.pip_specs and \
            any("dependencies" == value(k) for k, _v in root.value):
        env.problems.append(_("{where} lists no python (and no pip, which would bring one), so the env would have "
                              "no Python for the GPU check. Add '- python=3.11' to dependencies.").format(where=where))
    if env.pip_specs and "pip" not in names:
        env.warnings.append(_("{where} has a pip: section but does not list pip itself; conda adds pip to the env "
                              "(and prints a warning about it). Add '- pip' to dependencies to say so yourself.").format(
                                  where=where))
    if "pytorch" in env.channels:
        env.warnings.append(_("{where} uses the 'pytorch' conda channel, which stopped at PyTorch 2.5 (its packages "
                              "are old and pinned to old CUDA). Prefer torch from the PyTorch wheel index through "
                              "pip.").format(where=where))
    if "pytorch-cuda" in names:
        env.warnings.append(_("{where} asks for pytorch-cuda, which exists only on the retired 'pytorch' channel "
                              "(up to PyTorch 2.5).").format(where=where))
    if env.name and env_name and env.name != env_name:
        env.warnings.append(_("{where} names the env {name}; it is created as {env_name} (--env-name / env_name "
                              "wins, as conda's -n does).").format(where=_where(path, env.name_line),
                                                                   name=repr(env.name), env_name=repr(env_name)))
    return env


def _check_name(env: EnvFile, name: Any, line: int, env_name: str | None) -> None:
    if name is None:
        return
    if not isinstance(name, str):
        env.problems.append(_("{where} 'name:' must be text, not {value}. Quote it (name: \"{name}\") or give "
                              "--env-name.").format(where=_where(env.path, line), value=repr(name), name=name))
        return
    env.name, env.name_line = name.strip(), line
    if env_name is None or env_name == env.name:
        from app.core.plan import env_name_problem  # plan imports this module lazily

        if problem := env_name_problem(env.name):
            env.problems.append(_("{where} names the env {name}, which cannot be used: {problem} Or give another "
                                  "name with --env-name.").format(where=_where(env.path, line), name=repr(env.name),
                                                                  problem=re.split(r": |：", problem, maxsplit=1)[-1]))


def _check_channels(env: EnvFile, node: yaml.Node, value) -> None:
    from app.core.plan import channel_problem

    if not isinstance(node, yaml.SequenceNode):
        env.problems.append(_("{where} 'channels:' must be a list ('- conda-forge' lines). "
                              "Write each channel on its own '- ' line.").format(where=_where(env.path, _line(node))))
        return
    for item in node.value:
        ch = value(item)
        if not isinstance(ch, str) or not ch.strip():
            env.problems.append(_("{where} the channel {channel} is not a channel name or URL "
                                  "(for example conda-forge). Fix or remove it.").format(
                                      where=_where(env.path, _line(item)), channel=repr(ch)))
            continue
        ch = os.path.expandvars(ch.strip())  # conda's _expand_channels
        env.channels.append(ch)
        if ch != "nodefaults" and channel_problem(ch):
            env.problems.append(_("{where} the channel {channel} is not a channel name or URL (for example "
                                  "conda-forge, defaults, or https://conda.anaconda.org/conda-forge). Fix or remove "
                                  "it.").format(where=_where(env.path, _line(item)), channel=repr(ch)))


def _check_dependencies(env: EnvFile, node: yaml.Node, value) -> None:
    if not isinstance(node, yaml.SequenceNode):
        env.problems.append(_("{where} 'dependencies:' must be a list ('- numpy' lines). "
                              "Write each package on its own '- ' line.").format(where=_where(env.path, _line(node))))
        return
    for item in node.value:
        line = _line(item)
        if isinstance(item, yaml.MappingNode):
            for k_node, v_node in item.value:
                section = value(k_node)
                if section != "pip":
                    env.problems.append(_("{where} has a section {section} in dependencies; conda knows only "
                                          "'pip:' there. Rename it to 'pip:' or move its entries.").format(
                                              where=_where(env.path, _line(k_node)), section=repr(section)))
                    continue
                _check_pip(env, v_node, value)
            continue
        spec = value(item)
        if not isinstance(spec, str):
            hint = _(" (YAML read it as a number: quote it)") if isinstance(spec, (int, float)) else ""
            env.problems.append(_("{where} the dependency {spec} is not a package spec{hint}. "
                                  "Write it as name=version, for example python=3.11.").format(
                                      where=_where(env.path, line), spec=repr(spec), hint=hint))
            continue
        env.conda_specs.append(spec)
        text = spec.strip()
        if ";" in text:
            env.problems.append(_("{where} {text} is a pip requirement with an environment marker (';'), which "
                                  "conda cannot read; {fix}.").format(where=_where(env.path, line), text=repr(text),
                                                                      fix=_(_FIX_PIP)))
        elif _URL_RE.match(text) or text.endswith((".whl", ".tar.gz", ".zip")):
            env.problems.append(_("{where} {text} is a URL or file of a pip package, which conda cannot install as a "
                                  "dependency; {fix}.").format(where=_where(env.path, line), text=repr(text),
                                                               fix=_(_FIX_PIP)))
        elif text.startswith("-"):
            env.problems.append(_("{where} {text} is a pip option; {fix}.").format(
                where=_where(env.path, line), text=repr(text), fix=_(_FIX_PIP)))
        else:
            try:
                match_spec.parse(text)
            except match_spec.SpecError as exc:
                env.problems.append(_("{where} {text} is not a conda package spec: {reason} ({example}). Fix it, or "
                                      "if it is a pip package, {fix}.").format(
                                          where=_where(env.path, line), text=repr(text), reason=exc,
                                          example=match_spec.EXAMPLE, fix=_(_FIX_PIP)))


def _check_pip(env: EnvFile, node: yaml.Node, value) -> None:
    if not isinstance(node, yaml.SequenceNode):
        env.problems.append(_("{where} 'pip:' must be a list of requirement lines ('- transformers==4.30'). "
                              "Indent them one level under '- pip:'.").format(where=_where(env.path, _line(node))))
        return
    folder = env.path.parent
    for item in node.value:
        line = _line(item)
        text = value(item)
        if not isinstance(text, str) or not text.strip():
            env.problems.append(_("{where} the pip entry {entry} is not a requirement. Write it as name==version, "
                                  "for example transformers==4.30.2 (quoted if needed).").format(
                                      where=_where(env.path, line), entry=repr(text)))
            continue
        env.pip_specs.append(text)
        text = text.strip()
        if text.startswith("-"):
            opt, _sep, arg = text.partition(" ")
            opt, eq, arg2 = opt.partition("=") if opt.startswith("--") else (opt, "", "")
            arg = (arg2 if eq else arg).strip()
            if opt in _PIP_FLAG_OPTIONS:
                continue
            if opt not in _PIP_VALUE_OPTIONS:
                env.problems.append(_("{where} {text} is not a pip option a requirements file takes. Remove it, or "
                                      "write it as pip documents it (for example --extra-index-url URL).").format(
                                          where=_where(env.path, line), text=repr(text)))
                continue
            if not arg:
                env.problems.append(_("{where} {opt} needs a value after it (for example '{opt} ...' on the same "
                                      "line). Add it.").format(where=_where(env.path, line), opt=opt))
                continue
            if opt in ("-i", "--index-url", "--extra-index-url") and not re.match(r"^https?://\S+$", arg):
                env.problems.append(_("{where} {arg} after {opt} is not an http(s) URL. Fix the index URL.").format(
                    where=_where(env.path, line), arg=repr(arg), opt=opt))
            elif opt in ("-e", "--editable", "-r", "--requirement", "-c", "--constraint") and not _URL_RE.match(arg):
                target = (folder / arg).resolve()
                if opt in ("-e", "--editable"):
                    if not (target / "setup.py").is_file() and not (target / "pyproject.toml").is_file():
                        env.problems.append(_(
                            "{where} '{text}' installs the project in {target}, but that folder has no setup.py or "
                            "pyproject.toml (pip runs in the folder of the environment.yml). Use the file inside its "
                            "project's checkout, or remove the line.").format(
                                where=_where(env.path, line), text=text, target=target))
                elif not target.is_file():
                    env.problems.append(_("{where} '{text}' reads {target}, which does not exist (pip runs in the "
                                          "folder of the environment.yml). Fix the path.").format(
                                              where=_where(env.path, line), text=text, target=target))
            continue
        if _URL_RE.match(text):
            continue  # pip takes bare URLs and VCS URLs in a requirements file
        if text.startswith((".", "/", "~")) or text.endswith((".whl", ".tar.gz", ".zip")):
            target = (folder / os.path.expanduser(text)).resolve()
            if not target.exists():
                env.problems.append(_("{where} {text} is a local path, and {target} does not exist (pip runs in the "
                                      "folder of the environment.yml). Fix the path.").format(
                                          where=_where(env.path, line), text=repr(text), target=target))
            continue
        requirement = re.split(r"\s+--", text, maxsplit=1)[0]
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            env.problems.append(_("{where} {text} is not a pip requirement: {reason}. Write it as name==version or "
                                  "name>=version (for example transformers==4.30.2).").format(
                                      where=_where(env.path, line), text=repr(text), reason=reason))


def problems(path: Path | str, env_name: str | None = None) -> list[str]:
    """:func:`load`'s problems (for :meth:`app.core.plan.InstallPlan.problems`)."""
    return load(path, env_name).problems


def conda_args(plan, path: Path | None = None) -> list[str]:
    """The ``conda env create`` arguments after the executable::

        env create --yes --json -f /abs/environment.yml -n NAME

    ``--yes`` lets conda replace an existing env (only reached with ``--if-env-exists replace``; the
    run refuses otherwise, see :func:`app.core.conda_env.check_existing`); source: conda 26.x
    ``main_env_create.execute`` (``if args.yes and ... prefix_data.exists(): rm_rf(prefix)``). The file
    is given absolute because conda runs in ``<root>/envs``; pip then runs in the file's folder.
    """
    file = Path(path or plan.env_file).expanduser().absolute()
    return ["env", "create", "--yes", "--json", "-f", str(file), "-n", plan.env_name]
