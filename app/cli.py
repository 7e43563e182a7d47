"""Command line: flags and the TOML answer file build one :class:`InstallPlan`.

Without ``--silent`` the flags only prefill the wizard. With ``--silent`` (or the
Windows-style alias ``/S``) the same plan runs headless through
:mod:`app.silent`; PySide6 is then never imported.

Precedence: built-in defaults < ``--config FILE`` (TOML, keys as in
:class:`~app.core.plan.InstallPlan`) < flags.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

from app import __version__, i18n
from app.i18n import N_, LANGUAGES, _
from app.core.errors import UsageError
from app.core.events import EVENT_SCHEMA_VERSION, error_text, event_line, failed_fields
from app.core import plan_checks, presets
from app.core.plan import IF_ENV_EXISTS, IF_EXISTS, MIRRORS, InstallPlan, default_prefix


def _number(kind: type, low: float, high: float, example: float):
    """An argparse ``type`` for a number flag whose error names the range and an example ("must be a whole number
    from 1 to 16, for example --connections 8"), instead of argparse's bare "invalid int value". The range itself
    is checked at the plan (:meth:`app.core.plan.InstallPlan.problems`), for answer files too."""

    def convert(value: str) -> float:
        try:
            return kind(value.strip())
        except ValueError:
            what = _("a whole number") if kind is int else _("a number")
            raise argparse.ArgumentTypeError(_("{value!r} is not {what}: give {what} from {low} to {high}, for "
                                               "example {example}").format(value=value, what=what, low=low,
                                                                           high=high, example=example)) from None

    return convert


def _any_case(choices):
    """An argparse ``type`` that turns a value into the canonical spelling of the choice it names in any case
    (``--if-exists REUSE`` -> ``reuse``, ``--install-type justme`` -> ``JustMe``), before ``choices`` checks it."""
    from app.core.plan_rules import canonical_choice  # noqa: PLC0415

    def convert(value: str) -> str:
        return canonical_choice(value.strip(), choices)

    convert.__name__ = "value"  # argparse names the type in "invalid value" errors
    return convert


def _bool_pair(parser: argparse.ArgumentParser, name: str, help_on: str, help_off: str) -> None:
    dest = name.replace("-", "_")
    parser.add_argument(f"--{name}", dest=dest, action="store_true", default=None, help=help_on)
    parser.add_argument(f"--no-{name}", dest=dest, action="store_false", default=None, help=help_off)


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors use the one error format (:func:`app.core.events.error_text`) on stderr,
    and under ``--json`` also end the run with a ``failed`` event on stdout. Exit code 2."""

    json_events = False

    def error(self, message: str):  # noqa: D102 - argparse API
        _print_usage_error(UsageError(message,
                                      fix=_("Run miniconda-wizard --help for the flags and their values.")),
                           self.json_events)
        self.exit(2)


def _print_usage_error(exc: UsageError, json_events: bool) -> None:
    if json_events:
        print(event_line("failed", **failed_fields(exc)), flush=True)
    print(error_text(exc.stage.value, exc.message, exc.fix), file=sys.stderr, flush=True)


#: argparse's own words (its gettext ids, Python 3.11 argparse.py): in our catalogue too, so that ``--help``
#: and argparse's errors follow ``--lang`` (:func:`build_parser` points argparse's ``_`` at :func:`app.i18n._`).
ARGPARSE_TEXTS = (
    N_("usage: "), N_("options"), N_("positional arguments"), N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"), N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"), N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"), N_("expected one argument"), N_("expected at most one argument"),
    N_("expected at least one argument"), N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid %(type)s value: %(value)r"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("ignored explicit argument %r"),
)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter that never breaks a flag at its hyphens (``--env-`` / ``name``) and ends the group
    headings with the language's colon (``选项：`` as ``用法：``, through the id ``{heading}:``)."""

    def __init__(self, prog: str, **kwargs) -> None:
        super().__init__(prog, **kwargs)
        self._headings: list[str] = []

    def start_section(self, heading):  # noqa: D102 - argparse API
        if heading:
            self._headings.append(heading)
        super().start_section(heading)

    def _split_lines(self, text, width):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_on_hyphens=False)

    def _fill_text(self, text, width, indent):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)

    def format_help(self) -> str:  # noqa: D102 - argparse API
        out = super().format_help()
        for heading in dict.fromkeys(self._headings):
            out = out.replace(f"\n{heading}:\n", "\n" + _("{heading}:").format(heading=heading) + "\n")
        return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every plan option defaults to ``None`` = not given). Its texts, argparse's own
    included, are in the language in force (:func:`app.i18n.set_language` runs first)."""
    argparse._ = _  # type: ignore[attr-defined]  # argparse looks its words up through its module-level _
    p = _Parser(
        prog="miniconda-wizard",
        formatter_class=_HelpFormatter,
        description=_("Install Miniconda, set up your shell, create a conda env for LLM work and check the GPU. "
        "With no arguments the wizard opens; --silent runs unattended."),
        epilog=_("Exit codes (silent mode): 0 ok, 2 usage/config error, 3 installer index, 4 download, "
        "5 SHA-256 mismatch or unverified, 6 install location, 7 installer, 8 PATH/shell, 9 conda create, "
        "10 Terms of Service not accepted, 11 GPU check, 13 --require-gpu and no working GPU, 14 uninstall, 130 cancelled. See README.md."),
    )
    p.add_argument("--version", action="store_true", help=_("print the version and exit (a JSON event with --json)"))
    p.add_argument("--silent", action="store_true", help=_("run without a window and without questions (alias: /S)"))
    p.add_argument("--config", metavar="FILE", type=Path, help=_("TOML answer file with the same keys as the flags"))
    p.add_argument("--write-config", metavar="FILE", type=Path,
                   help=_("write the settings given here as a TOML answer file and exit (for fleet roll-outs); "
                   "unset settings stay each machine's own defaults"))
    p.add_argument("--dry-run", action="store_true", help=_("print the plan and exit; touch nothing"))
    p.add_argument("--json", action="store_true", help=_("silent mode: JSON-lines events on stdout"))
    p.add_argument("--log-file", metavar="FILE", help=_("where to write the log (default: the platform log dir)"))
    p.add_argument("--lang", choices=list(LANGUAGES),
                   help=_("language of the wizard and of messages: zh_CN (简体中文) or en (default: the system's)"))
    p.add_argument("--undo-shell-changes", action="store_true",
                   help=_("restore the shell start-up files (and Windows PATH) changed by the last run, byte for byte"))
    p.add_argument("--uninstall", action="store_true",
                   help=_("reverse what the wizard did for --prefix (shell files, envs) and remove the prefix if the "
                   "wizard made it; --silent needs --yes; with --dry-run, list what would be done"))
    p.add_argument("--yes", action="store_true", help=_("confirm --uninstall in silent mode"))
    p.add_argument("--remove-user-data", action="store_true",
                   help=_("with --uninstall: also remove the envs and files inside the prefix that the wizard did not "
                   "make (kept and listed otherwise)"))

    g = p.add_argument_group(_("installer"))
    g.add_argument("--mirror", metavar="NAME|URL", help=_("one of {mirrors}, auto (probe them all, use the "
                                                          "fastest) or a Miniconda directory URL").format(
                                                          mirrors=', '.join(MIRRORS)))
    g.add_argument("--distribution", type=str.lower, choices=["miniconda", "miniforge"],
                   help=_("miniconda (default: Anaconda's defaults channels, Terms of Service) or miniforge "
                   "(conda-forge only, no Terms of Service, default prefix ~/miniforge3)"))
    g.add_argument("--installer", metavar="NAME", help=_("installer file name from the index (default: latest)"))
    g.add_argument("--installer-file", metavar="FILE", help=_("use a local installer instead of downloading"))
    g.add_argument("--sha256", metavar="HEX", help=_("expected SHA-256 when the index publishes none"))
    g.add_argument("--allow-unverified", action="store_true", default=None,
                   help=_("accept an installer whose SHA-256 cannot be checked (not recommended)"))
    g.add_argument("--download-dir", metavar="DIR", help=_("where to keep downloads"))
    g.add_argument("--download-only", action="store_true", default=None,
                   help=_("silent mode: only download and verify the installer into --download-dir and add its line "
                   "to the SHA256SUMS there (for a share; install later with --installer-file DIR/NAME)"))
    g.add_argument("--no-cache", dest="use_cache", action="store_false", default=None,
                   help=_("neither reuse nor keep installers in the cache (keyed by SHA-256; see README.md)"))
    g.add_argument("--connections", metavar="N", type=_number(int, 1, 16, 8),
                   help=_("HTTP connections of a segmented download, 1-16 (default: measured, see docs/benchmarks.md)"))
    g.add_argument("--stall-timeout", metavar="SECONDS", type=_number(float, 1, 3600, 30),
                   help=_("reconnect a download connection that made no progress for this long (default 30)"))
    g.add_argument("--platform", metavar="OS-ARCH", help=_("installer platform, e.g. Linux-aarch64 (default: detected)"))

    g = p.add_argument_group(_("install"))
    g.add_argument("--prefix", metavar="DIR", help=_("install location (default ~/miniconda3)"))
    g.add_argument("--update-existing", action="store_true", default=None,
                   help=_("install over an existing Miniconda in --prefix (the same as --if-exists update)"))
    g.add_argument("--if-exists", type=_any_case(IF_EXISTS), choices=list(IF_EXISTS),
                   help=_("when --prefix holds an installation: fail (default), reuse it (no installer; PATH, env and "
                   "GPU steps only), update it, or repair one this wizard made (an incomplete one is reinstalled)"))
    g.add_argument("--install-type", type=_any_case(("JustMe", "AllUsers")), choices=["JustMe", "AllUsers"], help=_("Windows: JustMe (default) or AllUsers"))
    g.add_argument("--skip-space-check", action="store_true", default=None,
                   help=_("install even when the disk reports too little free space (Lustre, network mounts)"))
    g.add_argument("--installer-timeout", metavar="SECONDS", type=_number(int, 1, 86400, 1800),
                   help=_("end the installer after this many seconds (default 1800)"))
    g.add_argument("--installer-stall", metavar="SECONDS", type=_number(int, 1, 86400, 300),
                   help=_("end the installer after this many seconds without output or new files (default 300)"))

    g = p.add_argument_group(_("PATH and shells"))
    g.add_argument("--init-shells", metavar="LIST", help=_("shells to set up for conda, comma-separated: bash,zsh,fish,powershell,cmd, "
                   "or auto (every shell you have; cmd only when named) or none"))
    g.add_argument("--no-shell-init", action="store_true", default=None, help=_("change no shell start-up file (= --init-shells none)"))
    _bool_pair(g, "add-to-path", _("Windows: add Miniconda to the user PATH"), _("Windows: leave PATH alone"))
    _bool_pair(g, "register-python", _("Windows: register as the default Python"), _("Windows: do not register"))

    g = p.add_argument_group(_("env"))
    g.add_argument("--preset", type=_any_case(presets.names()), choices=presets.names(),
                   help=_("env preset (default auto: chosen from the GPU; resources/presets.toml)"))
    g.add_argument("--env-name", metavar="NAME", help=_("name of the env to create (default llm)"))
    g.add_argument("--env-python", metavar="X.Y", help=_("Python version of the env (default 3.11)"))
    g.add_argument("--packages", metavar="LIST", help=_("packages, comma- or space-separated"))
    g.add_argument("--channels", metavar="LIST", help=_("channels, comma-separated (default: the installer's)"))
    g.add_argument("--env-file", metavar="FILE", help=_("create the env from an environment.yml"))
    g.add_argument("--condarc-mirror", metavar="NAME|URL|none",
                   help=_("conda channels mirror for the new install's .condarc (default: the --mirror; none: leave it)"))
    g.add_argument("--pip-index", metavar="URL", help=_("pip index for the env (default: the --mirror's, else PyPI)"))
    g.add_argument("--torch-variant", metavar="VARIANT",
                   help=_("PyTorch build: auto (default: from the GPU and driver), cpu, cu126, cu130, ..."))
    g.add_argument("--if-env-exists", type=_any_case(IF_ENV_EXISTS), choices=list(IF_ENV_EXISTS),
                   help=_("when the env already exists: fail (default in silent mode), reuse it, or replace it"))
    g.add_argument("--no-env", action="store_true", default=None, help=_("create no env (and run no GPU check)"))
    g.add_argument("--accept-tos", action="store_true", default=None,
                   help=_("accept the Anaconda Terms of Service for the defaults channels"))

    g = p.add_argument_group(_("GPU check"))
    _bool_pair(g, "gpu-check", _("train a small model in the new env (default)"), _("skip the GPU check"))
    g.add_argument("--gpu-steps", metavar="N", type=_number(int, 5, 100000, 60), help=_("training steps of the GPU check (default 60)"))
    g.add_argument("--require-gpu", action="store_true", default=None,
                   help=_("exit 13 when the GPU check's verdict is not \"GPU works\" (CPU only, or a broken GPU)"))
    g.add_argument("--gpu-check-only", action="store_true",
                   help=_("only re-check an existing env (--python PATH, or --env NAME with --prefix P); "
                   "headless with --silent, else the wizard opens on the GPU page"))
    g.add_argument("--python", metavar="PATH", help=_("with --gpu-check-only: the env's python to check"))
    g.add_argument("--env", metavar="NAME", help=_("with --gpu-check-only: the env to check, in --prefix "
                   "(default: --env-name, llm; base = the Miniconda itself)"))
    return p


def normalize_argv(argv: list[str]) -> list[str]:
    """Accept the NSIS-style ``/S`` as ``--silent`` (any case)."""
    return ["--silent" if a in ("/S", "/s") else a for a in argv]


# The encoding checks live in app.core.plan_checks (kept importable from here).
SAVE_AS_UTF8 = plan_checks.SAVE_AS_UTF8
decode_config = plan_checks.decode_config


def load_config(path: Path) -> dict[str, Any]:
    """Read a TOML answer file (encodings: see :func:`decode_config`); the same as :func:`read_config`.

    Raises:
        UsageError: missing file, a folder, unreadable, not UTF-8 (see :func:`decode_config`), or bad TOML
            (with the line).
    """
    return read_config(path)


def read_config(path: Path) -> dict[str, Any]:
    """The keys of a TOML answer file as written; ``~`` in ``path`` expanded.

    Raises:
        UsageError: as :func:`load_config`.
    """
    path = plan_checks.expand(path, "--config")
    if problem := plan_checks.length_problem(path, "--config"):
        raise UsageError(problem.replace(_("Choose a shorter path."), "").strip(), fix=_("Check the --config path."))
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(_("The answer file {path} does not exist.").format(path=path), fix=_("Check the --config path.")) from None
    except IsADirectoryError:
        raise UsageError(_("The answer file {path} (--config) is a folder, so it cannot be read.").format(path=path),
                         fix=_("Give the path of a TOML file with --config, for example --config fleet.toml.")) from None
    except OSError as exc:
        raise UsageError(_("The answer file {path} cannot be read: it has {os_error_reason}.").format(
                           path=path, os_error_reason=plan_checks.os_error_reason(exc)),
                         fix=_("Give the path of a readable TOML file with --config.")) from None
    text = decode_config(data, path)
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(_("The answer file {path} is not valid TOML: {exc}").format(path=path, exc=exc),
                         fix=_("Fix the file and run again (strings need quotes: prefix = \"/opt/miniconda3\").")) from None
    # A [section] header is a layout mistake; an inline table (prefix = {a = 1}) is a value of the wrong
    # type, which the plan's type check names ("prefix must be a string such as ...").
    tables = [k for k, v in values.items() if isinstance(v, dict) and plan_checks.has_table_header(text, k)]
    if tables:
        raise UsageError(_("The answer file {path} has a [{tables}] table; the settings are plain keys at "
                           "the top of the file.").format(path=path, tables=tables[0]), fix=_("Remove the [section] line, for example: prefix = \"/opt/miniconda3\"."))
    return values


#: Pairs of flags that contradict each other: (flag A, flag B, why). The same pairs hold for the answer-file
#: keys that stand for the flags (:data:`_FLAG_KEYS`): both in one source (both flags, or both keys in the
#: file) is refused; a flag against the file's key is settled for the flag, with a note (:func:`settle`).
_CONFLICTS: tuple[tuple[str, str, str], ...] = (
    ("--installer-file", "--mirror", N_("a local installer is not downloaded, so no mirror is used")),
    ("--installer-file", "--installer", N_("--installer picks a file from the index, --installer-file uses your own")),
    ("--installer-file", "--download-only", N_("a local installer is not downloaded")),
    ("--no-shell-init", "--init-shells", N_("one sets up no shell, the other names shells to set up")),
    ("--no-env", "--gpu-check", N_("the GPU check runs in the new env")),
    ("--no-env", "--env-name", N_("no env is created")),
    ("--no-env", "--env-python", N_("no env is created")),
    ("--no-env", "--packages", N_("no env is created")),
    ("--no-env", "--channels", N_("no env is created")),
    ("--no-env", "--preset", N_("no env is created")),
    ("--no-env", "--gpu-steps", N_("no env is created, so there is no GPU check")),
    ("--no-gpu-check", "--gpu-steps", N_("the GPU check is off")),
    ("--env-file", "--packages", N_("the environment file lists the packages")),
    ("--env-file", "--env-python", N_("the environment file sets the Python version")),
    ("--env-file", "--channels", N_("the environment file lists the channels")),
    ("--no-env", "--env-file", N_("no env is created")),
    ("--no-env", "--require-gpu", N_("no env is created, so there is no GPU check to require")),
    ("--no-gpu-check", "--require-gpu", N_("the GPU check is off, so its verdict cannot be required")),
)


#: How an answer file says what a flag says, when it is not simply the key of the same name being set:
#: flag -> (key, the value that counts, or ``None`` for "any value").
_FLAG_KEYS: dict[str, tuple[str, Any]] = {
    "--no-shell-init": ("init_shells", []), "--no-env": ("create_env", False),
    "--gpu-check": ("gpu_check", True), "--no-gpu-check": ("gpu_check", False),
    "--require-gpu": ("require_gpu", True),
}


def _key_of(flag: str) -> tuple[str, Any]:
    return _FLAG_KEYS.get(flag, (flag.lstrip("-").replace("-", "_"), None))


def _key_text(flag: str) -> str:
    """How a message names the answer-file side of a flag: ``installer_file``, ``create_env = false``."""
    key, value = _key_of(flag)
    if value is None:
        return key
    return f"{key} = {str(value).lower() if isinstance(value, bool) else value}"


def _in_file(values: dict[str, Any], flag: str) -> bool:
    """Whether the answer file's ``values`` (keys as written, ``-`` or ``_``) say what ``flag`` says."""
    key, wanted = _key_of(flag)
    for k, v in values.items():
        if str(k).replace("-", "_") != key:
            continue
        if wanted is None:
            return v is not None
        if wanted == [] and key == "init_shells":
            return v in ([], (), "")
        return v is wanted or (v == wanted and type(v) is type(wanted))
    return False


def settle(args: argparse.Namespace, file_values: dict[str, Any], path: Path | None) -> tuple[dict[str, Any], list[str]]:
    """Apply :data:`_CONFLICTS` to the answer file against itself and against the flags.

    Returns:
        ``(file values without the keys a flag overrides, notes)``: a note per overridden key, such as
        "--mirror on the command line overrides installer_file from fleet.toml".

    Raises:
        UsageError: two conflicting keys in the answer file, naming both.
    """
    name = Path(path).name if path else _("the answer file")
    problems = [_("{key_a} and {key_b} in {name} cannot be used together: {why}. Leave one of them "
                  "out.").format(key_a=_key_text(a), key_b=_key_text(b), name=name, why=_(why))
                for a, b, why in _CONFLICTS if _key_of(a)[0] != _key_of(b)[0]  # one key holds one value
                and _in_file(file_values, a) and _in_file(file_values, b)]
    if problems:
        raise UsageError(problems[0] if len(problems) == 1 else _("Conflicting settings in the answer file:\n- ")
                         + "\n- ".join(problems), fix=_("Leave out one setting of each pair named above in "
                                                        "{name}.").format(name=name))
    values = dict(file_values)
    notes: list[str] = []
    for a, b, _why in _CONFLICTS:
        for flag, other in ((a, b), (b, a)):
            if _given(args, flag) and _in_file(values, other):
                key = _key_of(other)[0]
                if key == _key_of(flag)[0]:
                    continue  # the same key: the flag simply wins, as for every key
                values = {k: v for k, v in values.items() if str(k).replace("-", "_") != key}
                notes.append(_("{flag} on the command line overrides {key_text} from {name}.").format(
                               flag=flag, key_text=_key_text(other), name=name))
    return values, notes


def _given(args: argparse.Namespace, flag: str) -> bool:
    """Whether ``flag`` was on the command line."""
    if flag == "--gpu-check":
        return args.gpu_check is True
    if flag == "--no-gpu-check":
        return args.gpu_check is False
    value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
    return value not in (None, False)


def check_flags(args: argparse.Namespace) -> None:
    """Refuse flags that contradict each other, naming both (see :data:`_CONFLICTS`), and ``--json``
    without ``--silent`` (the window cannot print JSON events).

    Raises:
        UsageError: every conflict found.
    """
    problems = [_("{a} and {b} cannot be used together: {why}. Leave one of them out.").format(a=a, b=b, why=_(why))
                for a, b, why in _CONFLICTS if _given(args, a) and _given(args, b)]
    if args.update_existing and args.if_exists not in (None, "update"):
        problems.append(_("--update-existing and --if-exists {if_exists} cannot be used together: "
                          "--update-existing means --if-exists update. Leave one of them out.").format(
                          if_exists=args.if_exists))
    needs_yes = _("--uninstall in silent mode needs --yes: it removes the installation and puts your shell "
                  "files back.")
    needs_silent = _("--download-only needs --silent (or --dry-run): it stages the installer unattended, and "
                     "without --silent the wizard window would open.")
    if getattr(args, "uninstall", False) and args.silent and not args.dry_run and not args.yes:
        problems.append(needs_yes)
    if args.json and not (args.silent or args.dry_run or args.undo_shell_changes or args.write_config):
        problems.append(_("--json needs --silent (or --dry-run): JSON events are for unattended runs, and without "
                        "--silent the wizard window would open."))
    if getattr(args, "remove_user_data", False) and not getattr(args, "uninstall", False):
        problems.append(_("--remove-user-data is for --uninstall: it also removes your own envs and files inside the "
                        "prefix. Add --uninstall, or leave it out."))
    if args.download_only and not (args.silent or args.dry_run):
        problems.append(needs_silent)
    if len(problems) == 1 and problems[0] == needs_silent:
        raise UsageError(problems[0], fix=_("Add --silent: miniconda-wizard --silent --download-only --download-dir DIR."))
    if len(problems) == 1 and problems[0] == needs_yes:
        raise UsageError(problems[0], fix=_("Add --yes to confirm the uninstall, or --dry-run to list what it would do."))
    if problems:
        raise UsageError(problems[0] if len(problems) == 1 else _("Conflicting flags:\n- ") + "\n- ".join(problems),
                         fix=_("Leave out one flag of each pair named above.") if not (len(problems) == 1 and "--json" in problems[0])
                         else _("Add --silent to run unattended with JSON events, or leave out --json to open the wizard."))


def explicit_values(args: argparse.Namespace, notes: list[str] | None = None) -> dict[str, Any]:
    """The settings the user gave: the answer file, then the flags (flags win).

    ``notes`` (when given) receives a line per answer-file key that a contradicting flag overrode (:func:`settle`).

    Raises:
        UsageError: a bad answer file; conflicting flags (:func:`check_flags`) or keys (:func:`settle`).
    """
    check_flags(args)
    values: dict[str, Any] = {}
    if args.config:
        values, settled = settle(args, read_config(args.config), args.config)
        if notes is not None:
            notes.extend(settled)
    for key in ("preset", "mirror", "installer", "installer_file", "sha256", "allow_unverified", "download_dir", "platform",
                "prefix", "update_existing", "if_exists", "install_type", "skip_space_check", "init_shells", "add_to_path", "register_python",
                "env_name", "env_python", "packages", "channels", "accept_tos", "if_env_exists", "gpu_check", "gpu_steps",
                "log_file", "condarc_mirror", "pip_index", "torch_variant", "env_file", "installer_timeout", "installer_stall",
                "download_only", "use_cache", "connections", "stall_timeout",
                "require_gpu", "distribution"):
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    if args.update_existing and "if_exists" in values and values["if_exists"] not in ("fail", "update"):
        if notes is not None:
            notes.append(_("--update-existing on the command line overrides if_exists = {values!r} from "
                           "{name}.").format(
                           values=values['if_exists'],
                           name=Path(args.config).name if args.config else 'the answer file'))
        values["if_exists"] = "update"
    elif args.if_exists is not None and args.if_exists != "update" and values.get("update_existing") is True:
        if notes is not None:
            notes.append(_("--if-exists {if_exists} on the command line overrides update_existing from "
                           "{name}.").format(
                           if_exists=args.if_exists,
                           name=Path(args.config).name if args.config else 'the answer file'))
        values["update_existing"] = False
    if args.no_shell_init:
        values["init_shells"] = []
    if args.no_env:
        values["create_env"] = False
        values["gpu_check"] = False  # the flag wins over an answer file's gpu_check (--gpu-check with it is refused)
    return values


def plan_from_values(values: dict[str, Any]) -> InstallPlan:
    """This machine's defaults with ``values`` applied.

    Raises:
        UsageError: an unknown key or a value of the wrong type (not yet a full validation).
    """
    values = dict(values)
    plan = InstallPlan()
    if "platform" in values:
        # The default prefix depends on the platform, so set the platform first.
        plan.apply({"platform": values.pop("platform")})
        plan.prefix = default_prefix(plan.platform, distribution=plan.distribution)
    plan.apply(values)
    if plan.env_file is not None and "env_name" not in {str(k).replace("-", "_") for k in values}:
        # --env-name wins over the file's name:, as conda's -n does; without it the file names the env.
        from app.core import env_file

        plan.env_name = env_file.declared_name(plan.env_file) or plan.env_name
    return plan


def plan_from_args(args: argparse.Namespace) -> InstallPlan:
    """Defaults, then the answer file, then the flags."""
    return plan_from_values(explicit_values(args))


def _write_config(values: dict[str, Any], path: Path, dry_run: bool = False) -> str:
    """Write only the settings the admin gave: each machine keeps its own defaults for the rest
    (its detected platform and shells, its own home for the prefix). An existing file is never
    overwritten. With ``dry_run`` nothing is written.

    Returns:
        The TOML text (written, or that would be written).

    Raises:
        UsageError: the plan is not valid; ``path`` exists; it cannot be written.
    """
    import tomli_w

    plan = plan_from_values(values)
    # The file is for other machines: whether this one can run the platform is not asked (that is preflight's).
    problems = plan.problems()
    if problems:
        raise UsageError(_("The install plan is not valid:\n- ") + "\n- ".join(problems),
                         fix=_("Fix the problems listed above, then run again."))
    given = {k.replace("-", "_") for k in values}
    mapping = {k: v for k, v in plan.to_mapping().items() if k in given}
    text = tomli_w.dumps(mapping)
    path = plan_checks.expand(path, "--write-config")
    exists_fix = _("Choose a new file name for --write-config, or remove the file first.")
    if os.path.lexists(path):
        raise UsageError(_("{path} exists; choose a new file name, or remove it first (--write-config never "
                           "overwrites a file).").format(path=path), fix=exists_fix)
    if problem := plan_checks.length_problem(path, "--write-config"):
        raise UsageError(problem, fix=_("Choose a shorter path for --write-config."))
    if dry_run:
        return text
    try:
        with open(path, "x", encoding="utf-8") as fh:  # "x": never replaces a file made in the meantime
            fh.write(text)
    except FileExistsError:
        raise UsageError(_("{path} exists; choose a new file name, or remove it first.").format(path=path), fix=exists_fix) from None
    except OSError as exc:
        raise UsageError(_("Cannot write the answer file {path}: it has {os_error_reason}.").format(
                           path=path, os_error_reason=plan_checks.os_error_reason(exc)),
                         fix=_("Choose a writable path for --write-config.")) from None
    return text


#: The answer-file writer of ``--write-config``, also used by the wizard's "Save these choices for silent install".
write_config = _write_config


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``miniconda-wizard`` and ``python -m app``. Returns the exit code.

    From the first line on, SIGINT/SIGTERM/SIGHUP end the program quietly with 128 + N (no traceback),
    until a silent run takes them over as a cancel (:mod:`app.core.termination`).
    """
    from app.core import termination

    previous = termination.install_startup_handlers()
    raw = list(sys.argv[1:] if argv is None else argv)
    json_events = "--json" in raw
    try:
        return _main(raw)
    except KeyboardInterrupt as exc:  # also termination.SignalExit
        name = exc.name if isinstance(exc, termination.SignalExit) else "SIGINT"
        code = termination.exit_code_for(name)
        text = _("Cancelled by {name}.").format(name=name) + ("" if "--undo-shell-changes" in raw else _(" Nothing was changed."))
        if json_events:
            print(event_line("cancelled", exit_code=code, signal=name, stage=None, message=text), flush=True)
        else:
            print(text, file=sys.stderr, flush=True)
        return code
    finally:
        termination.restore_handlers(previous)


def _gpu_check_only(args: argparse.Namespace, plan: InstallPlan, raw: list[str]) -> int:
    """``--gpu-check-only``: re-check an existing env (:mod:`app.gpu_recheck`), headless with ``--silent``."""
    from app import gpu_recheck

    try:
        if not args.gpu_check_only:
            raise UsageError(_("{value} is for --gpu-check-only.").format(
                               value='--python' if args.python else '--env'),
                             fix=_("Add --gpu-check-only to re-check that env, or use --env-name to name a new env."))
        if args.python and args.env:
            raise UsageError(_("--python and --env cannot be used together: both name the env to check. "
                             "Leave one of them out."), fix=_("Give --python PATH, or --env NAME (with --prefix)."))
        state = gpu_recheck.prepare(plan, args.python, args.env)
    except UsageError as exc:
        _print_usage_error(exc, args.json)
        return exc.exit_code
    plan.gpu_check = True
    if args.silent or args.json:
        return gpu_recheck.run_silent(plan, state, json_events=args.json, argv=["miniconda-wizard", *raw])
    from app import gui
    from app.core import termination

    termination.restore_default_handlers()
    return gui.run(plan, normalize_argv(raw), state=state, start_gpu_check=True)


def _set_language(argv: list[str]) -> None:
    """``--lang X`` (or ``--lang=X``), else the system locale, for every message from here on; set before the parser
    is built (:func:`app.i18n.set_language_from_argv`)."""
    i18n.set_language_from_argv(argv)


def _main(raw: list[str]) -> int:
    argv = normalize_argv(raw)
    _set_language(argv)
    parser = build_parser()
    parser.json_events = "--json" in argv
    args = parser.parse_args(argv)
    if args.version:
        if args.json:
            print(event_line("version", version=__version__, schema=EVENT_SCHEMA_VERSION), flush=True)
        else:
            print(f"miniconda-wizard {__version__}")
        return 0
    try:
        notes: list[str] = []
        values = explicit_values(args, notes)
        plan = plan_from_values(values)
        plan.notes = notes
        if args.write_config:
            toml_text = _write_config(values, args.write_config, dry_run=args.dry_run)
            if args.dry_run:
                text = (_("Dry run: nothing was written. The answer file {write_config} would "
                          "hold:\n{toml_text}").format(write_config=args.write_config, toml_text=toml_text)).rstrip()
            else:
                text = _("Wrote the answer file {write_config}").format(write_config=args.write_config)
            if args.json:
                print(event_line("finished", exit_code=0, message=text), flush=True)
            else:
                print(text)
            return 0
        for note in notes:
            print(_("warning: {note}").format(note=note), file=sys.stderr, flush=True)
    except UsageError as exc:
        _print_usage_error(exc, args.json)
        return exc.exit_code
    if args.uninstall:
        from app import silent

        if args.silent or args.dry_run:
            return silent.uninstall(plan.resolved_prefix, json_events=args.json, dry_run=args.dry_run,
                                    os_name=plan.platform.os, remove_user_data=args.remove_user_data)
        from app import gui  # the wizard path asks first, in a dialog
        from app.core import termination

        termination.restore_default_handlers()
        return gui.run_uninstall(plan, argv)
    if args.gpu_check_only or args.python or args.env:
        return _gpu_check_only(args, plan, raw)
    if args.undo_shell_changes:
        from app import silent

        return silent.undo_shell_changes(json_events=args.json, dry_run=args.dry_run)
    if args.silent or args.dry_run:
        from app import silent

        return silent.run(plan, json_events=args.json, dry_run=args.dry_run, argv=["miniconda-wizard", *raw],
                          config=args.config)
    from app import gui  # imported late: silent mode must never load Qt
    from app.core import termination

    termination.restore_default_handlers()
    return gui.run(plan, argv)
