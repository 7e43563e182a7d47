"""A stand-in for the Miniconda ``.sh`` installer and the ``conda`` it installs (tests only; no internet here).

This file is two things:

* imported by tests (``tests.support.standin``): :func:`build_standin_installer` writes a small bash
  installer; :func:`run_installer`, :func:`read_calls` help tests drive and inspect it;
* copied by that installer into ``PREFIX/bin/conda`` and ``PREFIX/condabin/conda`` (with a shebang to the
  Python given at build time), where :func:`conda_main` answers the ``conda`` command lines the product uses.
  So the code below the build helpers must only use the standard library (the ``env create`` block also
  imports PyYAML, lazily: a product dependency, present in the interpreter the tests build it for).

What the installer honours (source: conda/constructor ``constructor/header.sh`` as rendered in the real
``Miniconda3 py313_25.9.1-3`` linux-64 installer, "Created by constructor 3.13.1", read from the public code
index): the options ``-b -i -f -h -k -p PREFIX -s -m -u -t -c`` (getopts ``bifhkp:smutc``), the usage text and
exit code 2 of ``-h``, ``ERROR: did not recognize option``, the refusal of a PREFIX with spaces, the refusal of an
existing PREFIX without ``-u``/``-f`` ("ERROR: File or directory already exists: '...'" + "If you want to update an
existing installation, use the -u option.", stderr, exit 1), ``ERROR: Could not create directory``, the stdout
lines ``PREFIX=...``, ``Unpacking bootstrapper...``, ``Unpacking payload...``, ``Installing base environment...``,
``installation finished.``, ``.nonadmin`` when not root, ``~/.conda`` created, ``PREFIX/.condarc`` =
``channels: [defaults]`` (overwritten on ``-u``, as the real one does), ``envs/``. Test switches (not in the real
header): ``STANDIN_INSTALL_DELAY`` (seconds in a child ``sleep``; pids to ``STANDIN_PID_FILE``, then a line
``stand-in: waiting N s``) and ``STANDIN_INSTALL_FAIL`` (printed on stderr, then exit 1, with the prefix half
made); its variant ``STANDIN_SYSTEM_GLIBC`` (a glibc version below the header's minimum 2.28: the real "Installer
requires GLIBC >=2.28, but system has 2.17." on stdout, exit 1, before anything is written). Interactive mode (no ``-b``) asks
for the licence like the real one; with stdin closed ``read`` fails under ``set -eu`` and it exits 1 right after
"Please, press ENTER to continue" - as the real installer does. Not emulated: the glibc/disk-space/MD5 checks, the
payload, ``-t`` tests and ``-c``'s ``conda init`` (it prints the real "Initializing ..." line, then says on stderr
that the stand-in changed no shell file). In batch mode the real header sets ``CONDA_QUIET=1`` for its
``conda install``, so no "Preparing transaction" lines are printed here either.

Layout (like Miniconda): ``bin/conda``, ``condabin/conda``, ``bin/python`` (symlink to the given Python; its
``sys.prefix`` is NOT PREFIX), ``conda-meta/history``, ``envs/``, ``pkgs/``, ``etc/conda/``, ``.condarc``,
``.nonadmin`` (non-root only).

What the stand-in ``conda`` answers, in the shapes real conda 26.7.2.dev56 gives
(``tests/data/real-conda/``, recorded from conda built from source; see its README):

* ``conda --version`` / ``-V``: ``conda 26.7.2.dev56`` (``STANDIN_CONDA_VERSION`` overrides the version).
* ``conda info --json``: the keys of ``conda-info--json.json``, with this prefix's real paths.
* ``conda create [--yes] [--json] (-n NAME | -p PATH) SPECS... [-c CH]... [--override-channels]``: through a pipe
  with ``--json``, ONE JSON document shaped like ``conda-create--json-n-demo-dependent.json`` (no trailing newline,
  like the recording); an existing env is replaced (``conda-create--json-n-demo-exists.json``); ``FETCH`` lists
  only packages not yet in ``PREFIX/pkgs``. Unknown package: ``PackagesNotFoundInChannelsError`` JSON on stdout
  (sorted keys, ``"}\\n\\n"`` ending, stderr empty), exit 1 - byte-identical to
  ``conda-create--json-n-missing-package.json`` for the same channels. Known packages: python, pytorch,
  transformers, numpy, datasets, accelerate, tokenizers, pip, plus the comma list ``STANDIN_CONDA_KNOWN``.
  The env is a REAL Python env: ``venv`` (no pip) of the Python running this script, with a ``.pth`` file listing
  that Python's ``site.getsitepackages()``, so ``torch`` of the test venv imports there. Its Python version is
  that interpreter's, whatever ``python=X.Y`` asked. Package versions in ``LINK``/``FETCH`` are the versions
  installed in that interpreter (``pytorch`` -> ``torch``), else ``1.0``; builds, hashes, sizes are stand-in values.
  ``STANDIN_CONDA_CREATE_DELAY`` (seconds, float): sleep after the env folder exists and before
  ``conda-meta/history`` is written (for cancel tests: a cancelled env has no history).
  ``STANDIN_CONDA_ENV_WITHOUT_TORCH=1``: the env's Python cannot import torch (no ``.pth``); for GPU-check
  failures.
  ``STANDIN_CONDA_CREATE_FAIL`` (``"ExceptionName: message"``): fail like a CondaError at that point, with the
  env folder half made.
  ``-n NAME`` is resolved like conda's ``locate_prefix_by_name`` (``envs_dirs``, then the current directory);
  an existing env (``conda-meta/history``) is removed first, an existing folder that is not an env is installed
  into with its files kept (conda's ``main_create``).
* Channels: ``-c`` channels first, then (unless ``--override-channels``) ``channels`` from the .condarc files
  (``PREFIX/.condarc``, ``$XDG_CONFIG_HOME/conda/.condarc``, ``~/.config/conda/.condarc``, ``~/.conda/.condarc``,
  ``~/.condarc``, ``$CONDARC``; later files first), else ``defaults``; ``nodefaults`` removes defaults;
  ``defaults`` = ``default_channels`` if set, else ``https://repo.anaconda.com/pkgs/main`` and ``/pkgs/r``
  (the Linux defaults). Names become ``https://conda.anaconda.org/NAME``. Like real conda, ``-c conda-forge``
  WITHOUT ``--override-channels`` still includes ``defaults`` (so the ToS gate still applies).
* Anaconda ToS gate (source: anaconda/conda-anaconda-tos ``plugin.py``, ``api.py``, ``path.py``,
  ``console/render.py``; text of the newer error from ``tests/data/conda_outputs/``): for ``create``, every channel
  that serves terms (repo.anaconda.com's, and local ones with a ``terms.json``: see "Channels" below) must be
  accepted, unless ``CONDA_PLUGINS_AUTO_ACCEPT_TOS`` is true (conda boolify:
  yes/y/true/t/on/1), or CI is detected (the plugin's boolean vars such as ``CI``/``GITHUB_ACTIONS`` - an explicit
  false value wins - and presence vars such as ``JENKINS_URL``; its container heuristic is not emulated). Auto/CI
  acceptance is written to disk, as the plugin does. Otherwise: ``CondaToSNonInteractiveError`` (JSON on stdout with
  ``--json``, text on stderr without), exit 1. Acceptances are read from ``PREFIX/conda-meta/tos``,
  ``$XDG_CONFIG_HOME/conda/tos``, ``~/.config/conda/tos``, ``~/.conda/tos``, ``$CONDATOS`` (``/etc/conda/tos`` and
  ``/var/lib/conda/tos`` are skipped so the machine cannot leak in), as ``ROOT/<sha256(host + path)>/<ts>.json``.
* ``conda tos accept [--override-channels] (-c|--channel URL)... [--user|--system|--tos-root DIR] [--json]``:
  prints ``accepted Terms of Service for URL`` (``Terms of Service not found for URL`` for channels without terms).
* ``conda env list [--json]``: ``envs`` + ``envs_details`` (``conda-env-list--json.json``): the root prefix, the envs
  in ``PREFIX/envs`` and those registered in ``~/.conda/environments.txt`` (``create`` registers each env there).
* ``conda shell.bash hook`` (also zsh/posix, and fish in fish syntax): a SHORT stand-in of the real hook - exports ``CONDA_EXE``,
  ``CONDA_PYTHON_EXE``, activates base (``PREFIX/bin`` and ``PREFIX/condabin`` on PATH, ``CONDA_PREFIX``,
  ``CONDA_DEFAULT_ENV=base``, ``CONDA_SHLVL=1``). No ``conda`` shell function.
* ``conda env create [-f FILE] (-n NAME | -p PATH) [--yes] [--json]`` (ENVFILE block; source: conda 26.x
  ``conda/cli/main_env_create.py``, ``conda/env/env.py``, ``conda/env/installers/pip.py``, ``conda/env/pip_util.py``,
  read from the public code index - NOT recorded from a real run): the file is read with PyYAML (so this needs the
  interpreter to have it; the product depends on it); unknown keys print ``EnvironmentSectionNotValid`` lines and a
  ``pip:`` section without ``pip`` prints conda's "I'm adding one for you" nag, both on STDOUT before the JSON (conda
  uses ``print`` there even with ``--json``); ``-n`` wins over ``name:``; channels = the file's (``nodefaults``
  drops the .condarc ones) then .condarc; ToS gate and unknown packages as ``create``. Then the ``pip:`` lines go
  into ``condaenv.XXXX.requirements.txt`` in the file's folder and a child ``ENV/bin/python`` (a pip stand-in, the
  grandchild of the caller) "installs" them there: it prints pip's ``Collecting``/``Downloading``/
  ``Installing collected packages``/``Successfully installed`` lines (captured by conda, as the real one does), writes
  a ``NAME-VERSION.dist-info`` (and, for names that are not importable already, a module with ``__version__``) into
  the env's own site-packages. A pip package is known if it is in ``PIP_KNOWN_PACKAGES`` or the comma list
  ``STANDIN_PIP_KNOWN``; the index it uses is ``PIP_INDEX_URL`` (else PyPI): it prints pip's "Looking in indexes:"
  line for any other index, appends the index to the file ``STANDIN_PIP_INDEX_LOG`` when set, and, like real pip,
  ignores an ``http://`` index whose host is not in ``PIP_TRUSTED_HOST`` (so nothing is found). An unknown package
  makes pip print its "No matching distribution" error and exit 1, and conda then prints ``Pip subprocess error:`` + pip's stderr on stderr and fails with ``CondaEnvException: Pip failed``,
  leaving the env (real conda does not remove it). ``STANDIN_PIP_DELAY`` (seconds) makes the pip stand-in sleep
  before installing, after writing its pid to ``STANDIN_PID_FILE`` (cancel tests). Success: ``{"success": true,
  "actions": {..., "PIP": ["name-version", ...]}, "prefix": ...}`` (``print_result``: the conda actions plus ``PIP``,
  the words after pip's "Successfully installed").
* ``conda list (-p PATH | -n NAME) --json`` (ENVFILE block): the env's packages in the shape of
  ``conda-list--json-n-demo.json`` (from ``conda-meta/history`` here), plus one ``pypi`` row per ``*.dist-info`` in the
  env's own site-packages (``channel``/``platform`` ``pypi``, ``build_string`` ``pypi_0``, ``base_url``
  ``https://conda.anaconda.org/pypi``, as real ``conda list --json`` shows pip-installed packages); sorted by name.
  Not an env: ``EnvironmentLocationNotFound``.
* Anything else: argparse-style ``invalid choice`` on stderr, exit 2.

* Channels as real conda sees them (recorded: ``tests/data/real-conda-errors/``; TOS-ERRORS block of this file):
  a channel serves Terms of Service when it has a ``terms.json`` (repo.anaconda.com's always; ``file://`` channels
  and channels on 127.0.0.1/localhost are really looked at), and the gate then applies to it like to defaults
  (``tos-gate.*``); ``conda tos accept`` accepts such channels too. A ``file://`` channel without
  ``noarch/repodata.json`` fails with ``UnavailableInvalidChannel`` (``nonexistent-file.*``); an unreachable
  channel on 127.0.0.1/localhost prints urllib3 retry warnings on stderr and fails with ``CondaHTTPError`` 000
  (``http-refused.*``). A spec without a package name (``>=2.0``) crashes conda under ``--json``: traceback on
  stderr, empty stdout, exit 1 (``bad-spec.*``). Packages of conda's test channel: ``dependent``, ``dependency``;
  ``unsatisfiable`` (needs ``versioned <1.0``, which no channel has) gives ``UnsatisfiableError`` with an EMPTY
  message next to ``python=X`` (``unsat-dep-localpy.*``) and ``PackagesNotFoundInChannelsError`` without it
  (``unsat-dep.*``); ``python=3.99`` links the test channel's python 3.99.99, which has no interpreter: the env
  has no ``bin/python``, exit 0 (``py399.*``); ``pytorch-cuda`` needs the ``__cuda`` virtual package and fails
  with libmamba's "nothing provides __cuda" unless ``CONDA_OVERRIDE_CUDA`` is set.
* ``conda config [--file F] --set/--add/--append/--prepend/--remove-key/--get [--json]`` and
  ``conda config --show-sources [--json]`` (issue 8, mirrors; ``conda-config--*`` recordings): a ``--file`` that
  does not exist starts from ``ROOT/.condarc``; unknown keys give ``CondaKeyError``. Channel names resolve through
  ``custom_channels`` and ``channel_alias`` (a small YAML subset is read and written: scalars, lists, one-level
  maps, leading comments). ``STANDIN_CONDA_CHANNEL_LOG``: a file that gets one JSON line
  ``{"argv": [...], "channels": [URL, ...]}`` each time channels are resolved.

Every call appends one JSON line to ``PREFIX/conda-meta/standin-calls.log``: ``argv``, ``cwd``, ``time``,
``stdout_isatty`` and ``env`` (the variables in :data:`LOGGED_ENV`, ``None`` when unset). Not emulated: the
``--json`` progress records written when stdout is a terminal (``conda-create--json-p-tty-dependent.out``),
``plugins.auto_accept_tos`` in .condarc.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

CONDA_VERSION = "26.7.2.dev56"  # tests/data/real-conda/conda--version.txt
INSTALLER_NAME = "Miniconda3"
DEFAULT_FILENAME = "Miniconda3-latest-Linux-x86_64.sh"
#: Issue 7: the stand-in Miniforge installer's flavor and the asset name GitHub Releases give it.
MINIFORGE_NAME = "Miniforge3"
MINIFORGE_FILENAME = "Miniforge3-Linux-x86_64.sh"

#: Packages the stand-in channels "have" (plus the comma list in ``STANDIN_CONDA_KNOWN``).
KNOWN_PACKAGES = ("python", "pytorch", "transformers", "numpy", "datasets", "accelerate", "tokenizers", "pip",
                  "dependent", "dependency", "unsatisfiable", "pytorch-cuda")

#: Environment variables recorded with each call in ``conda-meta/standin-calls.log``.
LOGGED_ENV = (
    "CONDA_PLUGINS_AUTO_ACCEPT_TOS", "CI", "PYTHONUTF8", "PYTHONIOENCODING", "CONDARC", "CONDA_PREFIX",
    "HOME", "LD_LIBRARY_PATH", "STANDIN_CONDA_KNOWN", "STANDIN_CONDA_CREATE_DELAY", "PIP_INDEX_URL",
    "PIP_TRUSTED_HOST",
)

#: The Linux ``defaults`` channels (main, r; ``msys2`` only on Windows - conda_outputs ToS fixtures).
DEFAULT_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")

_SUBDIR = "linux-64"
_TOP_USAGE = "usage: conda [-h] [-v] [--no-plugins] [-V] COMMAND ..."
# The heredoc delimiter is assembled so that it never appears as a line of this file (which is embedded).
_EOF_MARK = "STANDIN_CONDA_" + "SOURCE_END"


# ==== building and driving the installer (test side) =============================================================

#: The stand-in's size with its payload: just over ``app.core.mirror_probe.MIN_INSTALLER_BYTES`` (1 MiB), so that a
#: local mirror serving it passes the ``--mirror auto`` probe's "not an installer" size rule (h-fix1 #6).
PADDED_SIZE = (1 << 20) + (64 << 10)
#: The line after which a constructor ``.sh`` installer's payload starts (conda/constructor ``header.sh``).
END_HEADER = b"@@END_HEADER@@\n"


def build_standin_installer(
    dest_dir: Path, filename: str = DEFAULT_FILENAME, python: str = sys.executable, flavor: str = INSTALLER_NAME,
    pad_to: int = PADDED_SIZE,
) -> Path:
    """Write the stand-in installer ``dest_dir/filename`` (a bash script of about 60 KB, padded to ``pad_to`` bytes) and return its path.

    Args:
        dest_dir: folder to write into (created if missing).
        filename: the installer's file name (``.sh``, as the real header requires of ``$0``).
        python: the interpreter the installed ``conda`` runs with and that ``bin/python`` links to; envs made by
            the stand-in conda are venvs of it that also see its site-packages (so ``torch`` imports).
        pad_to: the file's size in bytes: a payload (``@@END_HEADER@@`` and filler bytes, never run) follows the
            script's final ``exit 0`` up to this size, as in a real constructor installer; default
            :data:`PADDED_SIZE` (over the ``--mirror auto`` probe's 1 MiB minimum); ``0``: the bare script.
        flavor: ``"Miniconda3"`` (default) or ``"Miniforge3"`` (issue 7): Miniforge's layout as its
            ``Miniforge3/construct.yaml`` gives it: ``INSTALLER_NAME`` Miniforge3, version ``<conda>-0`` (no
            ``pyXY_`` part), default prefix ``~/miniforge3``, ``.condarc`` ``channels: [conda-forge]``, history from
            conda-forge, and ``mamba`` next to ``conda`` in ``bin/`` and ``condabin/`` (the stand-in conda again).

    The bytes depend only on ``python`` and ``flavor`` (no timestamps), so equal inputs give equal SHA-256.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    source = Path(__file__).read_text(encoding="utf-8")
    if any(line.strip() == _EOF_MARK for line in source.splitlines()):
        raise RuntimeError("the heredoc delimiter occurs in the embedded source")
    py_tag = _python_tag(python)
    template, version = _INSTALLER_TEMPLATE, f"py{py_tag}_{CONDA_VERSION}-0"
    if flavor == MINIFORGE_NAME:
        template, version = _miniforge_template(template), f"{CONDA_VERSION}-0"
    elif flavor != INSTALLER_NAME:
        raise ValueError(f"flavor must be {INSTALLER_NAME} or {MINIFORGE_NAME}, not {flavor!r}")
    text = (
        template.replace("@@INSTALLER_VER@@", version)
        .replace("@@PYTHON@@", shlex.quote(str(python)))
        .replace("@@EOF_MARK@@", _EOF_MARK)
        .replace("@@CONDA_SOURCE@@", source.rstrip("\n"))
    )
    path = dest_dir / filename
    data = text.encode("utf-8")
    if pad_to > len(data):  # a payload after the script's final `exit 0`, as constructor installers have one
        filler = bytes(range(256)) * ((pad_to - len(data) - len(END_HEADER)) // 256 + 1)
        data += END_HEADER + filler[: max(0, pad_to - len(data) - len(END_HEADER))]
    path.write_bytes(data)
    path.chmod(0o755)
    return path


def _miniforge_template(template: str) -> str:
    """The installer template with Miniforge3's name, prefix, channels and mamba (before the conda source is put
    in, so that source is not touched)."""
    for old, new in (
        ("# NAME:  Miniconda3", "# NAME:  Miniforge3"),
        ("export INSTALLER_NAME='Miniconda3'", "export INSTALLER_NAME='Miniforge3'"),
        ('PREFIX="${HOME:-/opt}/miniconda3"', 'PREFIX="${HOME:-/opt}/miniforge3"'),
        ("channels:\n  - defaults\n", "channels:\n  - conda-forge\n"),
        ("+https://repo.anaconda.com/pkgs/main/linux-64::conda-", "+https://conda.anaconda.org/conda-forge/linux-64::conda-"),
        ('chmod +x "$PREFIX/bin/conda" "$PREFIX/condabin/conda"\n',
         'chmod +x "$PREFIX/bin/conda" "$PREFIX/condabin/conda"\n'
         'cp "$PREFIX/bin/conda" "$PREFIX/bin/mamba"\ncp "$PREFIX/bin/conda" "$PREFIX/condabin/mamba"\n'
         'chmod +x "$PREFIX/bin/mamba" "$PREFIX/condabin/mamba"\n'),
    ):
        if template.count(old) != 1:
            raise RuntimeError(f"the installer template changed: {old!r} occurs {template.count(old)} times")
        template = template.replace(old, new)
    return template


def _python_tag(python: str) -> str:
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return f"{sys.version_info[0]}{sys.version_info[1]}"
    out = subprocess.run([python, "-c", "import sys; print('%d%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def run_installer(installer: Path, *args: str, env: dict[str, str] | None = None,
                  stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``bash installer ARGS...`` (e.g. ``"-b", "-p", str(prefix)``) and return the completed process.

    stdin is closed (``/dev/null``) unless ``stdin`` text is given. ``env`` defaults to ``os.environ``.
    """
    return subprocess.run(
        ["bash", str(installer), *args], input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, text=True, env=env, timeout=timeout,
    )


def read_calls(prefix: Path) -> list[dict]:
    """The stand-in conda calls recorded under ``prefix`` (oldest first): dicts with argv, env, cwd, time."""
    log = Path(prefix) / "conda-meta" / "standin-calls.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


# ==== the stand-in conda (runs as PREFIX/bin/conda; stdlib only) =================================================

class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _boolify(value: str | None) -> bool:
    return (value or "").strip().lower() in {"yes", "y", "true", "t", "on", "1"}


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def _home() -> Path:
    return Path(os.path.expanduser("~"))


class _Conda:
    def __init__(self, root: Path, argv: list[str]) -> None:
        self.root = root
        self.argv = argv
        self.version = os.environ.get("STANDIN_CONDA_VERSION") or CONDA_VERSION
        self.json = "--json" in argv

    # ---- output -------------------------------------------------------------------------------------------------
    def out(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def usage_error(self, message: str, usage: str = _TOP_USAGE, prog: str = "conda") -> None:
        """An argparse-style error: usage line and ``PROG: error: MESSAGE`` on stderr, exit 2."""
        sys.stderr.write(f"{usage}\n{prog}: error: {message}\n")
        raise _Exit(2)

    def fail(self, name: str, message: str, module: str = "conda.exceptions", **extra) -> None:
        """A CondaError: JSON on stdout with --json (sorted keys, "}\\n\\n"), else text on stderr; exit 1."""
        if self.json:
            doc = {"caused_by": "None", "error": f"{name}: {message}", "exception_name": name,
                   "exception_type": f"<class '{module}.{name}'>", "message": message, **extra}
            self.out(json.dumps(doc, indent=2, sort_keys=True) + "\n\n")
        else:
            sys.stderr.write(f"\n{name}: {message}\n")
        raise _Exit(1)

    # ---- configuration ------------------------------------------------------------------------------------------
    def condarc_files(self) -> list[Path]:
        home = _home()
        xdg = os.environ.get("XDG_CONFIG_HOME")
        files = [self.root / ".condarc"]
        if xdg:
            files.append(Path(xdg) / "conda" / ".condarc")
        files += [home / ".config/conda/.condarc", home / ".conda/.condarc", home / ".condarc"]
        if os.environ.get("CONDARC"):
            files.append(Path(os.environ["CONDARC"]))
        return [f for f in dict.fromkeys(files) if f.is_file()]

    def condarc_lists(self) -> tuple[list[str], list[str] | None]:
        channels: list[str] = []
        default_channels: list[str] | None = None
        for f in self.condarc_files():  # lowest priority first; higher ones go in front
            parsed = _parse_yaml_lists(f.read_text(encoding="utf-8", errors="replace"))
            if "channels" in parsed:
                channels = parsed["channels"] + [c for c in channels if c not in parsed["channels"]]
            if "default_channels" in parsed:
                default_channels = parsed["default_channels"]
        return channels, default_channels

    def channels(self, cli: list[str], override: bool, log: bool = True) -> list[str]:
        """Effective channel base URLs, in priority order (names resolved with ``custom_channels`` and
        ``channel_alias`` of the merged .condarc files; see :meth:`rc_maps`). Logged to
        ``STANDIN_CONDA_CHANNEL_LOG`` when that is set and ``log`` (``conda info`` lists channels without
        contacting them, so it does not log)."""
        rc_channels, rc_defaults = self.condarc_lists()
        custom, alias = self.rc_maps()
        names = list(cli)
        if not override:
            names += rc_channels or ["defaults"]
        if "nodefaults" in names:
            names = [n for n in names if n not in ("nodefaults", "defaults")]
        urls: list[str] = []
        for name in names:
            expanded = (rc_defaults or list(DEFAULT_CHANNELS)) if name == "defaults" else [name]
            for n in expanded:
                url = _channel_url(n, custom, alias)
                if url not in urls:
                    urls.append(url)
        if log:
            _log_channels(self.argv, urls)
        return urls

    # ---- commands -----------------------------------------------------------------------------------------------
    def run(self) -> int:
        argv = [a for a in self.argv if a not in ("-v", "--verbose", "--no-plugins")]
        if not argv or argv[0] in ("-h", "--help"):
            self.out(f"{_TOP_USAGE}\n\n(stand-in conda)\n")
            return 0
        if argv[0] in ("-V", "--version"):
            self.out(f"conda {self.version}\n")
            return 0
        cmd, rest = argv[0], argv[1:]
        if cmd == "create":
            return self.create(rest)
        if cmd == "info":
            return self.info(rest)
        if cmd == "env" and rest[:1] == ["list"]:
            return self.env_list(rest[1:])
        if cmd == "tos" and rest[:1] == ["accept"]:
            return self.tos_accept(rest[1:])
        if cmd == "env" and rest[:1] == ["create"]:
            return self.env_create(rest[1:])
        if cmd == "list":
            return self.list_packages(rest)
        if cmd == "config":
            return self.cmd_config(rest)
        if cmd.startswith("shell.") and rest[:1] == ["hook"]:
            return self.shell_hook(cmd.split(".", 1)[1])
        choices = "'config', 'create', 'env', 'info', 'tos', 'shell.bash'"
        self.usage_error(f"argument COMMAND: invalid choice: {cmd!r} (stand-in conda; choose from {choices})")
        return 2

    def info(self, rest: list[str]) -> int:
        home = _home()
        rc_channels = self.channels([], False, log=False)
        channel_urls = [f"{u}/{s}" for u in rc_channels for s in (_SUBDIR, "noarch")]
        envs = self.all_envs()
        py = f"{sys.version_info[0]}.{sys.version_info[1]}"
        doc = {
            "platform": _SUBDIR,
            "conda_version": self.version,
            "conda_env_version": self.version,
            "conda_build_version": "not installed",
            "root_prefix": str(self.root),
            "conda_prefix": str(self.root),
            "av_data_dir": str(self.root / "etc" / "conda"),
            "av_metadata_url_base": None,
            "root_writable": os.access(self.root, os.W_OK),
            "pkgs_dirs": [str(self.root / "pkgs"), str(home / ".conda" / "pkgs")],
            "envs_dirs": [str(self.root / "envs"), str(home / ".conda" / "envs")],
            "default_prefix": os.environ.get("CONDA_PREFIX") or str(self.root),
            "active_prefix": os.environ.get("CONDA_PREFIX"),
            "active_prefix_name": os.environ.get("CONDA_DEFAULT_ENV"),
            "conda_shlvl": int(os.environ.get("CONDA_SHLVL", "-1") or -1),
            "channels": channel_urls,
            "user_rc_path": str(home / ".condarc"),
            "rc_path": str(home / ".condarc"),
            "sys_rc_path": str(self.root / ".condarc"),
            "offline": False,
            "envs": envs,
            "python_version": ".".join(map(str, sys.version_info[:3])) + f".{sys.version_info[3]}.{sys.version_info[4]}",
            "requests_version": "not installed",
            "user_agent": f"conda/{self.version} CPython/{'.'.join(map(str, sys.version_info[:3]))} Linux",
            "conda_location": str(self.root / "lib" / f"python{py}" / "site-packages" / "conda"),
            "config_files": [str(f) for f in self.condarc_files()],
            "netrc_file": None,
            "virtual_pkgs": [["__conda", self.version, "0"], ["__linux", os.uname().release.split("-")[0], "0"],
                             ["__unix", "0", "0"]],
            "solver": {"name": "libmamba", "user_agent": "solver/libmamba", "default": True},
            "tmp_dir": os.environ.get("TMPDIR", "/tmp"),
            "notices_cache_dir": str(home / ".cache" / "conda" / "notices"),
            "UID": os.getuid(),
            "GID": os.getgid(),
            "sys.version": sys.version,
            "sys.prefix": str(self.root),
            "sys.executable": str(self.root / "bin" / "python"),
            "site_dirs": [],
            "env_vars": {k: os.environ.get(k, "<not set>") for k in
                         ("PATH", "CURL_CA_BUNDLE", "LD_PRELOAD", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")},
            "envs_details": {e: self.env_details(Path(e)) for e in envs},
        }
        doc["env_vars"]["CONDA_ROOT"] = str(self.root)
        if self.json:
            self.out(json.dumps(doc, indent=2))
        else:
            self.out(f"\n     active environment : None\n       conda version : {self.version}\n"
                     f"       base environment : {self.root}  (writable)\n")
        return 0

    def all_envs(self) -> list[str]:
        envs = [str(self.root)]
        envs_dir = self.root / "envs"
        if envs_dir.is_dir():
            envs += [str(p) for p in sorted(envs_dir.iterdir()) if (p / "conda-meta").is_dir()]
        registry = _home() / ".conda" / "environments.txt"
        if registry.is_file():
            for line in registry.read_text(encoding="utf-8").splitlines():
                p = line.strip()
                if p and p not in envs and (Path(p) / "conda-meta").is_dir():
                    envs.append(p)
        return envs

    def env_details(self, prefix: Path) -> dict:
        base = prefix == self.root
        history = prefix / "conda-meta" / "history"
        mtime = history.stat().st_mtime if history.exists() else prefix.stat().st_mtime
        created = None if base else datetime.fromtimestamp((prefix / "conda-meta").stat().st_ctime, timezone.utc).isoformat()
        return {
            "name": "base" if base else prefix.name,
            "created": created,
            "last_modified": datetime.fromtimestamp(mtime, timezone.utc).isoformat(),
            "active": os.environ.get("CONDA_PREFIX") == str(prefix),
            "base": base,
            "frozen": False,
            "writable": os.access(prefix, os.W_OK),
        }

    def env_list(self, rest: list[str]) -> int:
        envs = self.all_envs()
        if self.json:
            self.out(json.dumps({"envs": envs, "envs_details": {e: self.env_details(Path(e)) for e in envs}}, indent=2))
        else:
            lines = ["# conda environments:", "#"]
            for e in envs:
                name = "base" if Path(e) == self.root else Path(e).name
                lines.append(f"{name:<25}  {e}")
            self.out("\n".join(lines) + "\n\n")
        return 0

    def shell_hook(self, shell: str) -> int:
        if shell == "fish":  # the same short stand-in, in fish syntax (real: conda's FishActivator hook)
            def q(value: object) -> str:
                return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
            self.out(
                f"set -gx CONDA_EXE {q(self.root / 'bin' / 'conda')}\n"
                f"set -gx CONDA_PYTHON_EXE {q(self.root / 'bin' / 'python')}\n"
                f"set -gx PATH {q(self.root / 'bin')} {q(self.root / 'condabin')} $PATH\n"
                f"set -gx CONDA_PREFIX {q(self.root)}\nset -gx CONDA_DEFAULT_ENV base\nset -gx CONDA_SHLVL 1\n"
            )
            return 0
        if shell not in ("bash", "zsh", "posix"):
            self.usage_error(f"argument COMMAND: invalid choice: 'shell.{shell}' (stand-in conda)")
        r = shlex.quote(str(self.root))
        self.out(
            f"export CONDA_EXE={shlex.quote(str(self.root / 'bin' / 'conda'))}\n"
            f"export CONDA_PYTHON_EXE={shlex.quote(str(self.root / 'bin' / 'python'))}\n"
            f"export PATH={r}/bin:{r}/condabin:\"$PATH\"\n"
            f"export CONDA_PREFIX={r}\nexport CONDA_DEFAULT_ENV=base\nexport CONDA_SHLVL=1\n"
        )
        return 0

    # ---- ToS ----------------------------------------------------------------------------------------------------
    def tos_roots(self) -> list[Path]:
        home = _home()
        roots = [self.root / "conda-meta" / "tos"]
        if os.environ.get("XDG_CONFIG_HOME"):
            roots.append(Path(os.environ["XDG_CONFIG_HOME"]) / "conda" / "tos")
        roots += [home / ".config" / "conda" / "tos", home / ".conda" / "tos"]
        if os.environ.get("CONDA_PREFIX"):
            roots.append(Path(os.environ["CONDA_PREFIX"]) / "conda-meta" / "tos")
        if os.environ.get("CONDATOS"):
            roots.append(Path(os.environ["CONDATOS"]))
        return roots

    def tos_accepted(self, url: str) -> bool:
        for root in self.tos_roots():
            d = root / _hash_channel(url)
            for f in sorted(d.glob("*.json")) if d.is_dir() else []:
                try:
                    if json.loads(f.read_text(encoding="utf-8")).get("tos_accepted") is True:
                        return True
                except (OSError, ValueError):
                    continue
        return False

    def write_acceptance(self, url: str, root: Path) -> Path:
        d = root / _hash_channel(url)
        d.mkdir(parents=True, exist_ok=True)
        version = 1720000000.0  # a fixed stand-in ToS version (the file name is the version timestamp)
        f = d / f"{version}.json"
        f.write_text(json.dumps({
            "version": datetime.fromtimestamp(version, timezone.utc).isoformat(),
            "text": "Stand-in Terms of Service (tests only).",
            "support": "https://www.anaconda.com/legal",
            "base_url": url, "tos_accepted": True, "acceptance_timestamp": _now_iso(),
        }, indent=2), encoding="utf-8")
        return f

    def check_tos(self, channels: list[str]) -> None:
        gated = [u for u in channels if self.channel_has_terms(u)]
        pending = [u for u in gated if not self.tos_accepted(u)]
        if not pending:
            return
        auto = _boolify(os.environ.get("CONDA_PLUGINS_AUTO_ACCEPT_TOS"))
        ci = _ci_detected()
        if auto or ci:
            for url in pending:
                self.write_acceptance(url, _home() / ".conda" / "tos")
                if not self.json:
                    how = "with auto acceptance enabled (auto_accept_tos=True)" if auto else "via CI"
                    self.out(f"By accessing {url} {how} for this repository you acknowledge and agree to the "
                             f"Terms of Service:\nStand-in Terms of Service (tests only).\n")
            return
        bullets = "\n".join(f"    - {u}" for u in pending)
        commands = "\n".join(f"    conda tos accept --override-channels --channel {u}" for u in pending)
        message = (
            "Terms of Service have not been accepted for the following channels. "
            "Please accept or remove them before proceeding:\n"
            f"{bullets}\n\n"
            "To accept these channels' Terms of Service, run the following commands:\n"
            f"{commands}\n\n"
            "For information on safely removing channels from your conda configuration,\n"
            "please see the official documentation:\n\n"
            "    https://www.anaconda.com/docs/tools/working-with-conda/channels"
        )
        self.fail("CondaToSNonInteractiveError", message, module="conda_anaconda_tos.exceptions")

    def tos_accept(self, rest: list[str]) -> int:
        usage = "usage: conda tos accept [-h] [-c CHANNEL] [--override-channels] [--json]"
        cli: list[str] = []
        override = False
        root = _home() / ".conda" / "tos"
        it = iter(rest)
        for a in it:
            if a in ("-c", "--channel"):
                cli.append(next(it, "") or self.usage_error(f"argument {a}: expected one argument", usage, "conda tos accept"))
            elif a.startswith("--channel="):
                cli.append(a.split("=", 1)[1])
            elif a == "--override-channels":
                override = True
            elif a == "--user":
                root = _home() / ".conda" / "tos"
            elif a == "--system":
                root = self.root / "conda-meta" / "tos"
            elif a == "--tos-root":
                root = Path(next(it, "") or self.usage_error("argument --tos-root: expected one argument", usage, "conda tos accept"))
            elif a == "--json":
                pass
            else:
                self.usage_error(f"unrecognized arguments: {a}")
        if override and not cli:
            self.fail("ArgumentError", "At least one -c / --channel flag must be supplied when using --override-channels.")
        result: dict[str, dict | None] = {}
        lines = []
        for url in self.channels(cli, override):
            if self.channel_has_terms(url):
                self.write_acceptance(url, root)
                result[url] = {"base_url": url, "tos_accepted": True}
                lines.append(f"accepted Terms of Service for {url}")
            else:
                result[url] = None
                lines.append(f"Terms of Service not found for {url}")
        self.out(json.dumps(result, indent=2) + "\n" if self.json else "\n".join(lines) + "\n")
        return 0

    # ---- config (issue 8, mirrors) ------------------------------------------------------------------------------
    def rc_maps(self) -> tuple[dict[str, str], str | None]:
        """``custom_channels`` merged over the .condarc files (higher priority wins per key) and ``channel_alias``."""
        custom: dict[str, str] = {}
        alias = None
        for f in self.condarc_files():
            doc, _ = _yaml_load(f.read_text(encoding="utf-8", errors="replace"))
            if isinstance(doc.get("custom_channels"), dict):
                custom.update({str(k): str(v) for k, v in doc["custom_channels"].items()})
            if isinstance(doc.get("channel_alias"), str):
                alias = doc["channel_alias"]
        return custom, alias

    def cmd_config(self, rest: list[str]) -> int:
        """``conda config [--file F] (--set K V | --add K V | --append K V | --prepend K V | --remove-key K |
        --get [K] | --show-sources) [--json]``, in the shapes of ``conda-config--*`` recordings.

        ``--file F`` that does not exist yet starts from ``ROOT/.condarc`` (its text, comments included),
        as real conda 26.7 does (``conda-config--file-resulting-condarc.yml``). Success prints nothing (with
        ``--json``: ``{"success": true, "rc_path": F, "warnings": [], "get": {}}``); an unknown key gives
        ``CondaKeyError`` ("'KEY': unknown parameter"), exit 1; ``--add`` of a channel already there moves it
        to the top with a warning on stderr.
        """
        usage = "usage: conda config [-h] [--json] [--system | --env | --file FILE] [--show-sources] [--get [KEY ...]] [--set KEY VALUE] [--add KEY VALUE] [--remove-key KEY]"
        target = None
        ops: list[tuple[str, list[str]]] = []
        it = iter(rest)
        arity = {"--set": 2, "--add": 2, "--prepend": 2, "--append": 2, "--remove": 2, "--remove-key": 1}
        for a in it:
            if a == "--file":
                target = next(it, None)
                if target is None:
                    self.usage_error("argument --file: expected one argument", usage, "conda config")
            elif a in arity:
                vals = [next(it, None) for _ in range(arity[a])]
                if None in vals:
                    self.usage_error(f"argument {a}: expected {arity[a]} arguments", usage, "conda config")
                ops.append((a, vals))  # type: ignore[arg-type]
            elif a == "--get":
                ops.append((a, []))
            elif a == "--show-sources":
                ops.append((a, []))
            elif a in ("--json", "-q", "--quiet"):
                pass
            elif ops and ops[-1][0] == "--get" and not a.startswith("-"):
                ops[-1][1].append(a)
            else:
                self.usage_error(f"unrecognized arguments: {a}", usage, "conda config")
        kinds = list(dict.fromkeys(op for op, _ in ops))
        if len(kinds) > 1:  # conda's config modifiers are one mutually exclusive group (each repeatable)
            self.usage_error(f"argument {kinds[1]}: not allowed with argument {kinds[0]}", usage, "conda config")
        if any(op == "--show-sources" for op, _ in ops):
            return self.config_show_sources()
        path = Path(os.path.abspath(os.path.expanduser(target))) if target else _home() / ".condarc"
        if path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
        elif target and (self.root / ".condarc").is_file():
            text = (self.root / ".condarc").read_text(encoding="utf-8", errors="replace")
        else:
            text = ""
        doc, header = _yaml_load(text)
        if any(op == "--get" for op, _ in ops):
            keys = next(v for op, v in ops if op == "--get")
            got = {k: doc[k] for k in sorted(doc) if not keys or k in keys}
            if self.json:
                self.out(json.dumps({"success": True, "rc_path": str(path), "warnings": [], "get": got}, indent=2))
            else:
                for k, v in got.items():
                    for item in (v if isinstance(v, list) else [v]):
                        self.out(f"--{'add' if isinstance(v, list) else 'set'} {k} {_yaml_scalar(item)}\n")
            return 0
        for op, vals in ops:
            key = vals[0]
            top = key.split(".", 1)[0]
            if top not in _CONFIG_KEYS and top != "auto_activate_base":
                self.fail("CondaKeyError", f"'{key}': unknown parameter", key=key, msg=f"'{key}': unknown parameter")
            if top == "auto_activate_base":
                sys.stderr.write("WARNING conda.cli.condarc:set_key(521): Key auto_activate_base is an alias of "
                                 "auto_activate; setting value with latter\n")
                key = top = "auto_activate"
            if op == "--set":
                value = _yaml_value(vals[1])
                if "." in key:
                    doc.setdefault(top, {})
                    doc[top][key.split(".", 1)[1]] = vals[1]
                else:
                    doc[key] = value
            elif op in ("--add", "--prepend", "--append"):
                items = doc.setdefault(key, [])
                if vals[1] in items:
                    where = "bottom" if op == "--append" else "top"
                    sys.stderr.write(f"Warning: '{vals[1]}' already in '{key}' list, moving to the {where}\n")
                    items.remove(vals[1])
                items.insert(len(items) if op == "--append" else 0, vals[1])
            elif op == "--remove":
                if vals[1] not in doc.get(key, []):
                    self.fail("CondaKeyError", f"{key!r} is not in the config file", key=key)
                doc[key].remove(vals[1])
            elif op == "--remove-key":
                if key not in doc:
                    self.fail("CondaKeyError", f"{key!r}: key {key!r} is not in the config file", key=key)
                del doc[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_yaml_dump(doc, header), encoding="utf-8")
        if self.json:
            self.out(json.dumps({"success": True, "rc_path": str(path), "warnings": [], "get": {}}, indent=2))
        return 0

    def config_show_sources(self) -> int:
        """``conda config --show-sources [--json]`` (``conda-config--show-sources--json.json``): each .condarc
        file in search order -> its settings, then ``cmd_line``."""
        doc: dict = {}
        for f in self.condarc_files():
            parsed, _ = _yaml_load(f.read_text(encoding="utf-8", errors="replace"))
            doc[str(f)] = parsed
        if self.json:
            doc["cmd_line"] = {"json": True}
            self.out(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        else:
            for name, values in doc.items():
                self.out(f"==> {name} <==\n{_yaml_dump(values, [])}\n")
        return 0

    # ---- create -------------------------------------------------------------------------------------------------
    def create(self, rest: list[str]) -> int:
        usage = "usage: conda create [-h] [--clone ENV] (-n ENVIRONMENT | -p PATH) [-c CHANNEL] [--override-channels] [--json] [-y] [package_spec ...]"
        name = path = None
        cli: list[str] = []
        specs: list[str] = []
        override = False
        it = iter(rest)
        for a in it:
            if a in ("-n", "--name", "-p", "--prefix", "-c", "--channel", "--solver"):
                value = next(it, None)
                if value is None:
                    self.usage_error(f"argument {a}: expected one argument", usage, "conda create")
                if a in ("-n", "--name"):
                    name = value
                elif a in ("-p", "--prefix"):
                    path = value
                elif a in ("-c", "--channel"):
                    cli.append(value)
            elif a in ("-y", "--yes", "--json", "-q", "--quiet", "--no-default-packages"):
                pass
            elif a == "--override-channels":
                override = True
            elif a.startswith("-"):
                self.usage_error(f"unrecognized arguments: {a}")
            else:
                specs.append(a)
        if (name is None) == (path is None):
            self.usage_error("one of the arguments -n/--name -p/--prefix is required", usage, "conda create")
        if name is not None and name in ("base", "root"):
            self.fail("CondaValueError", "The target prefix is the base prefix. Aborting.")
        target = Path(os.path.abspath(os.path.expanduser(path))) if path else self.locate_by_name(str(name))

        self.check_specs(specs)  # conda parses specs with the arguments, before any plugin runs
        channels = self.channels(cli, override)
        self.check_tos(channels)  # the plugin's pre-command hook runs before solving
        self.check_channels(channels)
        self.check_solvable(specs, channels)

        known = set(KNOWN_PACKAGES) | {p.strip() for p in os.environ.get("STANDIN_CONDA_KNOWN", "").split(",") if p.strip()}
        missing = [s for s in specs if _spec_name(s) not in known]
        if missing:
            self.packages_not_found(missing, channels)

        records = self.records(specs, channels[0] if channels else DEFAULT_CHANNELS[0])
        fetch = [r for r in records if not (self.root / "pkgs" / r["_dist"]).exists()]
        self.make_env(target, specs, records)
        for r in fetch:
            (self.root / "pkgs" / r["_dist"] / "info").mkdir(parents=True, exist_ok=True)

        if self.json:
            actions: dict = {"FETCH": [r["fetch"] for r in fetch], "PREFIX": str(target)}
            if records:
                actions["LINK"] = [r["link"] for r in records]
            self.out(json.dumps({"success": True, "actions": actions, "prefix": str(target)}, indent=2))
        else:
            self.out(_text_plan(target, specs, records, name))
        return 0

    # ---- channels and solving as real conda does (TOS-ERRORS block; tests/data/real-conda-errors) ------------
    def channel_has_terms(self, url: str) -> bool:
        """Whether the channel serves a ``terms.json`` (the plugin fetches ``URL/terms.json`` for every channel)."""
        if url.startswith("https://repo.anaconda.com/"):
            return True
        if url.startswith("file://"):
            return (Path(url[len("file://"):]) / "terms.json").is_file()
        if _is_local_http(url):
            status = _http_status(url + "/terms.json")
            if status is None:
                self.retry_warnings(url, "/terms.json")
            return status == 200
        return False

    def retry_warnings(self, url: str, path: str) -> None:
        """urllib3's retry warnings on stderr for an unreachable host (``http-refused.stderr``)."""
        host, _, port = url.split("://", 1)[1].split("/", 1)[0].partition(":")
        where = url.split("://", 1)[1].partition("/")[2].strip("/")
        full = ("/" + where if where else "") + path
        scheme = "HTTPS" if url.startswith("https") else "HTTP"
        port = port or ("443" if scheme == "HTTPS" else "80")
        for total in (2, 1, 0):
            sys.stderr.write(
                f"Retrying (Retry(total={total}, connect=None, read=None, redirect=None, status=None)) after connection "
                f"broken by 'NewConnectionError(\"{scheme}Connection(host='{host}', port={port}): Failed to establish a "
                f"new connection: [Errno 111] Connection refused\")': {full}\n\n")
        sys.stderr.flush()

    def check_channels(self, channels: list[str]) -> None:
        for url in channels:
            if url.startswith("file://"):
                folder = url[len("file://"):]
                if not (Path(folder) / "noarch" / "repodata.json").is_file():
                    name = folder.rstrip("/").rsplit("/", 1)[-1]
                    message = (
                        f"HTTP 404 UNAVAILABLE OR INVALID for channel {name} <{url}>\n\n"
                        "The channel is not accessible or is invalid.\n\n"
                        "You will need to adjust your conda configuration to proceed.\n"
                        "Use `conda config --show channels` to view your configuration's current state,\n"
                        "and use `conda config --show-sources` to view config file locations.\n\n"
                        "As of conda 4.3, a valid channel must contain a\n"
                        "`noarch/repodata.json` even if `noarch/repodata.json` is\n"
                        f"empty. Use `conda index {folder}`, or create `noarch/repodata.json`\n")
                    self.fail("UnavailableInvalidChannel", message, channel_name=name, channel_url=url,
                              json={"error": "file does not exist",
                                    "exception": "FileNotFoundError(2, 'No such file or directory')",
                                    "path": f"{folder}/noarch/repodata.json"},
                              reason="UNAVAILABLE OR INVALID", response_details="\n<<FILE 404 None\n< Elapsed: 00:00.000026\n\n",
                              status_code=404)
            elif _is_local_http(url) and _http_status(url + "/") is None:
                self.retry_warnings(url, f"/{_SUBDIR}/current_repodata.json.zst")
                repodata = f"{url}/{_SUBDIR}/current_repodata.json"
                host_port = url.split("://", 1)[1].split("/", 1)[0]
                host, _, port = host_port.partition(":")
                message = (
                    f"HTTP 000 CONNECTION FAILED for url <{repodata}>\nElapsed: -\n\n"
                    "An HTTP error occurred when trying to retrieve this URL.\n"
                    "HTTP errors are often intermittent, and a simple retry will get you on your way.\n"
                    f"'{url.replace('://', '//', 1)}/{_SUBDIR}'\n")
                cause = (f"ConnectionError(MaxRetryError('HTTPConnectionPool(host=\\'{host}\\', port={port or 80}): Max "
                         f"retries exceeded with url: /{_SUBDIR}/current_repodata.json.zst (Caused by NewConnectionError("
                         f"\"HTTPConnection(host=\\'{host}\\', port={port or 80}): Failed to establish a new connection: "
                         "[Errno 111] Connection refused\"))'))")
                self.fail("CondaHTTPError", message, caused_by=cause, elapsed_time="-", json={},
                          reason="CONNECTION FAILED", response_details="", status_code="000", url=repodata)

    def check_specs(self, specs: list[str]) -> None:
        """A spec without a package name: conda's argument parser raises InvalidMatchSpec, and under --json the
        exception handler then crashes serialising it (``bad-spec.stderr``)."""
        for spec in specs:
            if _spec_name(spec):
                continue
            reason = f"Invalid spec '{spec}': no package name found in '{spec}'"
            if not self.json:
                self.fail("InvalidMatchSpec", reason)
            sys.stderr.write(
                "Traceback (most recent call last):\n"
                f'  File "{self.root}/lib/python3.11/site-packages/conda/models/match_spec.py", line 964, in _parse_spec_str\n'
                "    raise InvalidMatchSpec(\n"
                f"conda.exceptions.InvalidMatchSpec: {reason}\n\n"
                "The above exception was the direct cause of the following exception:\n\n"
                "Traceback (most recent call last):\n"
                f'  File "{self.root}/lib/python3.11/site-packages/conda/common/serialize/json.py", line 40, in default\n'
                "    return super().default(obj)\n"
                "TypeError: Object of type InvalidMatchSpec is not JSON serializable\n")
            raise _Exit(1)

    def check_solvable(self, specs: list[str], channels: list[str]) -> None:
        names = [_spec_name(x) for x in specs]
        if "unsatisfiable" in names and "python" in names:  # unsat-dep-localpy: the message is ""
            hints = [
                ("review_conflicting_specs",
                 "Review the conflicting specifications above and adjust version ranges or package names."),
                ("check_pinned_packages", "Check for pinned packages:\n      conda config --show pinned_packages"),
                ("update_conda", "Update conda and try again:\n      conda update conda"),
            ]
            self.fail("UnsatisfiableError", "", unsatisfiable=[], guidance={
                "hint_codes": [c for c, _ in hints], "hints": [{"hint_code": c, "text": t} for c, t in hints],
                "summary": "Conda could not find a compatible set of packages to satisfy the requested specifications."})
        if "unsatisfiable" in names:  # unsat-dep: its dependency is in no channel
            self.packages_not_found(["versioned[version='<1.0']"], channels)
        if "pytorch-cuda" in names and not os.environ.get("CONDA_OVERRIDE_CUDA"):
            message = ("Encountered problems while solving:\n"
                       "  - nothing provides __cuda needed by pytorch-cuda-12.4-hc786d27_7\n\n"
                       "Could not solve for environment specs\n"
                       "The following package could not be installed\n"
                       "└─ pytorch-cuda =12.4 * is not installable because it requires\n"
                       "   └─ __cuda =12, which is missing on the system.")
            self.fail("LibMambaUnsatisfiableError", message, module="conda_libmamba_solver.exceptions")

    def packages_not_found(self, missing: list[str], channels: list[str]) -> None:
        channel_urls = [f"{u}/{s}" for u in channels for s in (_SUBDIR, "noarch")]
        channels_formatted = "".join(f"\n  - {u}" for u in channel_urls)
        packages_formatted = "".join(f"\n  - {s}" for s in missing)
        message = (
            "The following packages are not available from current channels:\n"
            f"{packages_formatted}\n\nCurrent channels:\n{channels_formatted}\n\n"
            "To search for alternate channels that may provide the conda package you're\n"
            "looking for, navigate to\n\n    https://anaconda.org\n\n"
            "and use the search bar at the top of the page.\n"
        )
        if not self.json:
            self.out("Collecting package metadata (current_repodata.json): ...working... done\n"
                     "Solving environment: ...working... failed\n")
        self.fail("PackagesNotFoundInChannelsError", message, channel_urls=channel_urls,
                  channels_formatted=channels_formatted, packages=missing, packages_formatted=packages_formatted)

    def envs_dirs(self) -> list[Path]:
        """conda's default ``envs_dirs``: ``ROOT/envs`` first when the root is writable, then ``~/.conda/envs``."""
        dirs = [self.root / "envs", _home() / ".conda" / "envs"]
        return dirs if os.access(self.root, os.W_OK) else dirs[::-1]

    def locate_by_name(self, name: str) -> Path:
        """``-n NAME`` like conda's ``locate_prefix_by_name``: the first ``DIR/NAME`` that is a folder, for DIR in
        ``envs_dirs`` and then the current directory ("always search cwd in addition to envs dirs"), else
        ``NAME`` in the first writable envs dir."""
        for d in [*self.envs_dirs(), Path(os.getcwd())]:
            if (d / name).is_dir():
                return Path(os.path.abspath(d / name))
        for d in self.envs_dirs():
            if os.access(d if d.exists() else d.parent, os.W_OK):
                return d / name
        return self.envs_dirs()[0] / name

    def records(self, specs: list[str], channel: str) -> list[dict]:
        names = list(dict.fromkeys(_spec_name(s) for s in specs))
        if names and "python" not in names:
            names.append("python")
        out = []
        asked_py = next((_spec_version(x) for x in specs if _spec_name(x) == "python"), "")
        for n in sorted(names):
            version = "3.99.99" if n == "python" and asked_py.startswith("3.99") else _installed_version(n)
            build = "standin_0"
            dist = f"{n}-{version}-{build}"
            fn = f"{dist}.conda"
            digest = hashlib.sha256(f"{channel}/{fn}".encode()).hexdigest()
            out.append({
                "_dist": dist,
                "fetch": {
                    "name": n, "version": version, "build": build, "build_number": 0,
                    "channel": f"{channel}/{_SUBDIR}", "subdir": _SUBDIR, "fn": fn, "md5": digest[:32],
                    "url": f"{channel}/{_SUBDIR}/{fn}", "sha256": digest, "arch": "x86_64", "platform": "linux",
                    "depends": [], "constrains": [], "noarch": None, "package_type": None,
                    "timestamp": 1785276634298, "size": 4096,
                },
                "link": {
                    "base_url": channel, "build_number": 0, "build_string": build,
                    "channel": _canonical_name(channel), "dist_name": dist, "name": n,
                    "platform": _SUBDIR, "version": version,
                },
            })
        return out

    def make_env(self, target: Path, specs: list[str], records: list[dict]) -> None:
        import shutil
        import site
        import venv

        # conda's main_create: an existing conda env (``conda-meta/history`` = is_conda_environment) is removed
        # with rm_rf after "Remove existing environment?" (--yes answers it; recorded: exists.*); an existing
        # folder that is not an env is installed into, its files kept ("A directory already exists at the
        # target location ... but it is not a conda environment. Continue creating environment").
        if (target / "conda-meta" / "history").is_file():
            shutil.rmtree(target)
        venv.EnvBuilder(with_pip=False, symlinks=True, clear=False).create(str(target))
        py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        pth = target / "lib" / py / "site-packages" / "_standin_parent_site.pth"
        pth.write_text("".join(p + "\n" for p in site.getsitepackages()), encoding="utf-8")
        (target / "conda-meta").mkdir(exist_ok=True)
        delay = float(os.environ.get("STANDIN_CONDA_CREATE_DELAY", "0") or 0)
        if delay > 0:
            time.sleep(delay)
        failure = os.environ.get("STANDIN_CONDA_CREATE_FAIL")  # "ExceptionName: message", after the folder exists
        if failure:
            exc_name, _, exc_message = failure.partition(": ")
            self.fail(exc_name, exc_message)
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        lines = [f"==> {stamp} <==", "# cmd: " + " ".join([str(self.root / "bin" / "conda"), *self.argv]),
                 f"# conda version: {self.version}"]
        lines += [f"+{r['link']['base_url']}/{_SUBDIR}::{r['_dist']}" for r in records]
        lines.append(f"# update specs: {specs!r}")
        (target / "conda-meta" / "history").write_text("\n".join(lines) + "\n", encoding="utf-8")
        registry = _home() / ".conda" / "environments.txt"
        registry.parent.mkdir(parents=True, exist_ok=True)
        existing = registry.read_text(encoding="utf-8").splitlines() if registry.exists() else []
        if str(target) not in existing:
            with registry.open("a", encoding="utf-8") as fh:
                fh.write(f"{target}\n")
        if _boolify(os.environ.get("STANDIN_CONDA_ENV_WITHOUT_TORCH")):  # test switch: torch does not import
            pth.unlink()
        if any(_spec_name(x) == "python" and _spec_version(x).startswith("3.99") for x in specs):
            for exe in (target / "bin").glob("python*"):  # the test channel's python 3.99.99 has no interpreter
                exe.unlink()

    # ---- env create -f / list (ENVFILE helper) ---------------------------------------------------------------------
    def env_create(self, rest: list[str]) -> int:
        import tempfile

        import yaml  # the product's dependency; real conda uses ruamel.yaml

        usage = "usage: conda env create [-h] [-f FILE] [-n ENVIRONMENT | -p PATH] [--json] [-y]"
        file, name, path = "environment.yml", None, None
        it = iter(rest)
        for a in it:
            if a in ("-f", "--file", "-n", "--name", "-p", "--prefix", "--solver"):
                value = next(it, None)
                if value is None:
                    self.usage_error(f"argument {a}: expected one argument", usage, "conda env create")
                if a in ("-f", "--file"):
                    file = value
                elif a in ("-n", "--name"):
                    name = value
                elif a in ("-p", "--prefix"):
                    path = value
            elif a in ("-y", "--yes", "--json", "-q", "--quiet", "--no-default-packages"):
                pass
            else:
                self.usage_error(f"unrecognized arguments: {a}")
        filename = os.path.abspath(os.path.expanduser(file))
        if not os.path.isfile(filename):
            self.fail("EnvironmentFileNotFound", f"'{filename}' file not found")
        raw = Path(filename).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-16")
        data = yaml.safe_load(text)
        if data is None:
            self.fail("EnvironmentFileEmpty", f"'{filename}' is empty")
        invalid = [k for k in data if k not in ("name", "dependencies", "prefix", "channels", "variables")]
        if invalid:  # conda's validate_keys prints these with print(), so they land on stdout even with --json
            plural = "s" if len(invalid) != 1 else ""
            self.out(f"\nEnvironmentSectionNotValid: The following section{plural} on '{filename}' "
                     f"{'are' if plural else 'is'} invalid and will be ignored:\n"
                     + "".join(f" - {k}\n" for k in invalid) + "\n")
        specs: list[str] = []
        pip_specs: list[str] = []
        for dep in data.get("dependencies") or []:
            if isinstance(dep, dict):
                pip_specs += [str(x) for x in dep.get("pip") or []]
            else:
                specs.append(str(dep))
        if pip_specs and "pip" not in [_spec_name(s) for s in specs]:
            self.out("Warning: you have pip-installed dependencies in your environment file, but you do not list pip "
                     "itself as one of your conda dependencies.  Conda may not use the correct pip to install your "
                     "packages, and they may end up in the wrong place.  Please add an explicit pip dependency.  I'm "
                     "adding one for you, but still nagging you.\n")
            specs.insert(0, "pip")
        name = name or (None if path else data.get("name"))
        if name is None and path is None:
            self.fail("CondaEnvException", "Unable to create environment\nPlease re-run this command with one of the "
                      "following options:\n* Provide an environment name via --name or -n\n"
                      "* Provide a path on disk via --prefix or -p\n", module="conda.exceptions")
        target = Path(os.path.abspath(os.path.expanduser(path))) if path else self.locate_by_name(str(name))
        file_channels = [str(c) for c in data.get("channels") or []]
        channels = self.channels([c for c in file_channels if c != "nodefaults"], "nodefaults" in file_channels)
        self.check_tos(channels)
        known = set(KNOWN_PACKAGES) | {p.strip() for p in os.environ.get("STANDIN_CONDA_KNOWN", "").split(",") if p.strip()}
        missing = [s for s in specs if _spec_name(s) not in known]
        if missing:
            channel_urls = [f"{u}/{s}" for u in channels for s in (_SUBDIR, "noarch")]
            self.fail("PackagesNotFoundInChannelsError",
                      "The following packages are not available from current channels:\n"
                      + "".join(f"\n  - {s}" for s in missing) + "\n\nCurrent channels:\n"
                      + "".join(f"\n  - {u}" for u in channel_urls) + "\n",
                      channel_urls=channel_urls, packages=missing)
        records = self.records(specs, channels[0] if channels else DEFAULT_CHANNELS[0])
        fetch = [r for r in records if not (self.root / "pkgs" / r["_dist"]).exists()]
        self.make_env(target, specs, records)
        for r in fetch:
            (self.root / "pkgs" / r["_dist"] / "info").mkdir(parents=True, exist_ok=True)
        actions: dict = {"FETCH": [r["fetch"] for r in fetch], "PREFIX": str(target)}
        if records:
            actions["LINK"] = [r["link"] for r in records]
        if pip_specs:
            workdir = os.path.dirname(filename) if os.access(os.path.dirname(filename), os.W_OK) else None
            fd, req = tempfile.mkstemp(prefix="condaenv.", suffix=".requirements.txt", dir=workdir, text=True)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("\n".join(pip_specs))
            try:
                # argv as conda's pip_subprocess gives it (python -m pip install -U -r FILE --exists-action=b),
                # after the stand-in's own -c code, so a process list shows "-m pip install" like the real one
                proc = subprocess.run([str(target / "bin" / "python"), "-c", _PIP_STANDIN, "-m", "pip", "install", "-U",
                                       "-r", req, "--exists-action=b"], cwd=workdir, capture_output=True, text=True,
                                      env={**os.environ, "STANDIN_PIP_DEFAULT_KNOWN": ",".join(PIP_KNOWN_PACKAGES)})
            finally:
                os.remove(req)
            if proc.returncode != 0:
                sys.stderr.write(f"Pip subprocess error:\n{proc.stderr}\n")
                self.fail("CondaEnvException", "Pip failed")
            done = [ln for ln in proc.stdout.splitlines() if ln.startswith("Successfully installed ")]
            actions["PIP"] = done[-1].split(" ", 2)[2].split() if done else None
        if self.json:
            self.out(json.dumps({"success": True, "actions": actions, "prefix": str(target)}, indent=2))
        else:
            self.out(f"#\n# To activate this environment, use\n#\n#     $ conda activate {name or target}\n#\n")
        return 0

    def list_packages(self, rest: list[str]) -> int:
        name = path = None
        it = iter(rest)
        for a in it:
            if a in ("-n", "--name"):
                name = next(it, None)
            elif a in ("-p", "--prefix"):
                path = next(it, None)
        target = Path(os.path.abspath(os.path.expanduser(path))) if path else (
            self.root if name in (None, "base", "root") else self.locate_by_name(str(name)))
        history = target / "conda-meta" / "history"
        if not history.is_file():
            self.fail("EnvironmentLocationNotFound", f"Not a conda environment: {target}")
        rows = []
        for line in history.read_text(encoding="utf-8").splitlines():
            if line.startswith("+") and "::" in line:
                url, _, dist = line[1:].partition("::")
                base_url, _, subdir = url.rpartition("/")
                n, v, b = dist.rsplit("-", 2)
                rows.append({"base_url": base_url, "build_number": 0, "build_string": b,
                             "channel": _canonical_name(base_url), "dist_name": dist, "name": n, "platform": subdir,
                             "version": v})
        py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        site_dir = target / "lib" / py / "site-packages"
        for info in sorted(site_dir.glob("*.dist-info")) if site_dir.is_dir() else []:
            meta = {}
            for ln in (info / "METADATA").read_text(encoding="utf-8").splitlines() if (info / "METADATA").is_file() else []:
                k, _, v = ln.partition(": ")
                meta.setdefault(k, v)
            if "Name" in meta and "Version" in meta:
                n, v = meta["Name"], meta["Version"]
                rows.append({"base_url": "https://conda.anaconda.org/pypi", "build_number": 0, "build_string": "pypi_0",
                             "channel": "pypi", "dist_name": f"{n}-{v}-pypi_0", "name": n, "platform": "pypi",
                             "version": v})
        rows.sort(key=lambda r: r["name"].lower())
        if self.json:
            self.out(json.dumps(rows, indent=2))
        else:
            self.out(f"# packages in environment at {target}:\n#\n"
                     + "".join(f"{r['name']:<24}{r['version']:<16}{r['build_string']:<16}{r['channel']}\n" for r in rows))
        return 0


#: pip packages the pip stand-in "has" (plus the comma list ``STANDIN_PIP_KNOWN``).
PIP_KNOWN_PACKAGES = ("transformers", "accelerate", "torch", "datasets", "tokenizers", "einops", "peft")

#: The pip stand-in run by ``conda env create`` as ``ENV/bin/python -c _PIP_STANDIN -m pip install -U -r FILE ...``.
_PIP_STANDIN = r"""
import importlib.util, os, re, sys, sysconfig, time
from pathlib import Path
known = set(os.environ.get("STANDIN_PIP_DEFAULT_KNOWN", "").split(","))
known |= {p.strip().lower() for p in os.environ.get("STANDIN_PIP_KNOWN", "").split(",") if p.strip()}
if os.environ.get("STANDIN_PID_FILE"):
    Path(os.environ["STANDIN_PID_FILE"]).write_text(str(os.getpid()))
req = sys.argv[sys.argv.index("-r") + 1]
index = os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
if os.environ.get("STANDIN_PIP_INDEX_LOG"):
    with open(os.environ["STANDIN_PIP_INDEX_LOG"], "a", encoding="utf-8") as fh:
        fh.write(index + "\n")
if index != "https://pypi.org/simple":
    print(f"Looking in indexes: {index}", flush=True)
host = re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", index)
if index.startswith("http://") and host not in os.environ.get("PIP_TRUSTED_HOST", "").split():
    sys.stderr.write(f"WARNING: The repository located at {host} is not a trusted or secure host and is being "
                     "ignored. If this repository is available via HTTPS we recommend you use HTTPS instead, "
                     f"otherwise you may silence this warning and allow it anyway with '--trusted-host {host}'.\n")
    known = set()
lines = [l.strip() for l in open(req, encoding="utf-8") if l.strip() and not l.strip().startswith(("#", "-"))]
site = Path(sysconfig.get_paths()["purelib"])
found = []
for line in lines:
    print(f"Collecting {line}", flush=True)
    m = re.search(r"#egg=([A-Za-z0-9_.-]+)", line)
    name = m.group(1) if m else re.split(r"[<>=!~;\[ @]", line)[0]
    if name.lower() not in known:
        sys.stderr.write(f"ERROR: Could not find a version that satisfies the requirement {line} (from versions: none)\n"
                         f"ERROR: No matching distribution found for {line}\n")
        sys.exit(1)
    pin = re.search(r"==\s*([A-Za-z0-9_.+!]+)", line)
    version = pin.group(1) if pin else "1.0"
    print(f"  Downloading {name}-{version}-py3-none-any.whl (10 kB)", flush=True)
    found.append((name, version))
delay = float(os.environ.get("STANDIN_PIP_DELAY", "0") or 0)
if delay > 0:
    time.sleep(delay)
print("Installing collected packages: " + ", ".join(n for n, _ in found), flush=True)
for name, version in found:
    module = name.replace("-", "_")
    if importlib.util.find_spec(module) is None:  # never shadow a real package (torch of the test venv)
        (site / module).mkdir(exist_ok=True)
        (site / module / "__init__.py").write_text(f"__version__ = {version!r}\n")
    else:
        from importlib import metadata
        version = metadata.version(name)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("pip\n")
print("Successfully installed " + " ".join(f"{n}-{v}" for n, v in found), flush=True)
"""


def _parse_yaml_lists(text: str) -> dict[str, list[str]]:
    """The top-level list keys of a .condarc (block ``- x`` items or flow ``[a, b]``); other keys ignored."""
    out: dict[str, list[str]] = {}
    key = None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and ":" in line:
            k, _, v = line.partition(":")
            key = k.strip()
            v = v.strip()
            if v.startswith("[") and v.endswith("]"):
                out[key] = [x.strip().strip("'\"") for x in v[1:-1].split(",") if x.strip()]
                key = None
            elif v:
                key = None
            else:
                out.setdefault(key, [])
        elif key is not None and line.strip().startswith("- "):
            out[key].append(line.strip()[2:].strip().strip("'\""))
        elif key is not None and not out.get(key):
            out.pop(key, None)  # a mapping, not a list
            key = None
    return {k: v for k, v in out.items() if v}


#: Keys the stand-in ``conda config`` accepts (a subset of conda's parameters; others: CondaKeyError).
_CONFIG_KEYS = {
    "channels", "default_channels", "custom_channels", "channel_alias", "channel_priority", "show_channel_urls",
    "ssl_verify", "proxy_servers", "auto_activate", "auto_update_conda", "notify_outdated_conda", "offline",
    "report_errors", "solver", "envs_dirs", "pkgs_dirs", "always_yes", "changeps1", "pip_interop_enabled",
    "client_ssl_cert", "remote_read_timeout_secs", "remote_max_retries", "plugins",
}


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _yaml_value(text: str):
    """A value given on the command line: true/false/yes/no as booleans, digits as int, else the text."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low.isdigit():
        return int(low)
    return text


def _yaml_load(text: str) -> tuple[dict, list[str]]:
    """The YAML subset .condarc files use: top-level ``key: scalar``, ``key:`` + ``- item`` lists (or
    ``[a, b]``), and ``key:`` + indented ``name: value`` maps. Returns (settings, leading comment lines)."""
    doc: dict = {}
    header: list[str] = []
    key = None
    seen = False
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            if not seen and raw.lstrip().startswith("#"):
                header.append(raw)
            continue
        seen = True
        line = raw.split(" #", 1)[0].rstrip()
        if not line[0].isspace():
            k, _, v = line.partition(":")
            key, v = k.strip(), v.strip()
            if v.startswith("[") and v.endswith("]"):
                doc[key] = [x.strip().strip("'\"") for x in v[1:-1].split(",") if x.strip()]
            elif v.startswith("{") and v.endswith("}"):
                doc[key] = {a.strip(): b.strip().strip("'\"") for a, _, b in
                            (x.partition(":") for x in v[1:-1].split(",") if x.strip())}
            elif v:
                doc[key] = _yaml_value(v.strip("'\"")) if not (v.startswith(("'", '"'))) else v.strip("'\"")
            else:
                doc[key] = None
        elif key is not None and line.strip().startswith("- "):
            if not isinstance(doc.get(key), list):
                doc[key] = []
            doc[key].append(line.strip()[2:].strip().strip("'\""))
        elif key is not None and ":" in line:
            if not isinstance(doc.get(key), dict):
                doc[key] = {}
            a, _, b = line.strip().partition(":")
            doc[key][a.strip()] = b.strip().strip("'\"")
    return {k: ([] if v is None else v) for k, v in doc.items()}, header


def _yaml_dump(doc: dict, header: list[str]) -> str:
    """Write settings like conda's ruamel dump: ``key: value``, lists as ``  - item``, maps as ``  k: v``."""
    out = list(header)
    for k, v in doc.items():
        if isinstance(v, list):
            out.append(f"{k}:" if v else f"{k}: []")
            out += [f"  - {_yaml_scalar(x)}" for x in v]
        elif isinstance(v, dict):
            out.append(f"{k}:" if v else f"{k}: {{}}")
            out += [f"  {a}: {_yaml_scalar(b)}" for a, b in v.items()]
        else:
            out.append(f"{k}: {_yaml_scalar(v)}")
    return "\n".join(out) + "\n"


def _channel_url(name: str, custom: dict[str, str] | None = None, alias: str | None = None) -> str:
    """A channel name as a URL, like conda's ``Channel``: a URL as it is; ``pkgs/...`` on repo.anaconda.com;
    a name in ``custom_channels`` as ``<that URL>/<name>``; else ``<channel_alias>/<name>``."""
    if "://" in name:
        return name.rstrip("/")
    if name.startswith("pkgs/"):
        return f"https://repo.anaconda.com/{name.strip('/')}"
    first = name.strip("/").split("/", 1)[0]
    if custom and first in custom:
        return f"{custom[first].rstrip('/')}/{name.strip('/')}"
    return f"{(alias or 'https://conda.anaconda.org').rstrip('/')}/{name.strip('/')}"


def _log_channels(argv: list[str], urls: list[str]) -> None:
    """Append ``{"argv": ..., "channels": [...]}`` to the file named by ``STANDIN_CONDA_CHANNEL_LOG``."""
    target = os.environ.get("STANDIN_CONDA_CHANNEL_LOG")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"argv": argv, "channels": urls}) + "\n")


def _canonical_name(url: str) -> str:
    for prefix in ("https://repo.anaconda.com/", "https://conda.anaconda.org/"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return url.rstrip("/").rsplit("/", 1)[-1] if url.startswith("file://") else url


def _is_local_http(url: str) -> bool:
    """Channels on this machine's test servers (the only http channels the stand-in really contacts)."""
    if not url.startswith(("http://", "https://")):
        return False
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0] if "]" not in url else "[::1]"
    return host in ("127.0.0.1", "localhost", "[::1]")


def _http_status(url: str) -> int | None:
    """The HTTP status of GET ``url`` (no proxies), or ``None`` when the server cannot be reached."""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _spec_version(spec: str) -> str:
    s = spec.split("::")[-1].strip()
    name = _spec_name(s)
    return s[len(name):].lstrip("=<>!~ ")


def _hash_channel(url: str) -> str:
    """``sha256(channel_location + channel_name)`` like the plugin's ``hash_channel`` (location = host)."""
    rest = url.split("://", 1)[-1]
    location, _, name = rest.partition("/")
    return hashlib.sha256(location.encode() + name.strip("/").encode()).hexdigest()


_CI_BOOLEAN_VARS = ("APPVEYOR", "BITRISE_IO", "BUDDY", "BUILDKITE", "CI", "CIRCLECI", "CIRRUS_CI", "CONCOURSE_CI",
                    "DRONE", "GITHUB_ACTIONS", "GITLAB_CI", "SAIL_CI", "SEMAPHORE", "TF_BUILD", "TRAVIS", "WERCKER",
                    "WOODPECKER_CI")
_CI_PRESENCE_VARS = ("BAMBOO_BUILDKEY", "CODEBUILD_BUILD_ID", "HEROKU_TEST_RUN_ID", "JENKINS_URL", "TEAMCITY_VERSION")
#: Variables the ToS plugin reads to detect CI (conda-anaconda-tos ``api.py``); tests remove them.
CI_VARIABLES = _CI_BOOLEAN_VARS + _CI_PRESENCE_VARS


def _ci_detected() -> bool:
    values = [os.environ.get(v) for v in _CI_BOOLEAN_VARS]
    if any(v and not _boolify(v) for v in values):
        return False
    return any(_boolify(v) for v in values) or any(os.environ.get(v) for v in _CI_PRESENCE_VARS)


def _spec_name(spec: str) -> str:
    s = spec.split("::")[-1].strip()
    for i, ch in enumerate(s):
        if ch in "=<>!~ [":
            return s[:i].lower()
    return s.lower()


def _installed_version(name: str) -> str:
    if name == "python":
        return ".".join(map(str, sys.version_info[:3]))
    from importlib import metadata

    try:
        return metadata.version({"pytorch": "torch"}.get(name, name))
    except metadata.PackageNotFoundError:
        return "1.0"


def _text_plan(target: Path, specs: list[str], records: list[dict], name: str | None) -> str:
    """The plain-text create output, after ``conda-create-p-text-dependent.txt``."""
    pkgs = "".join(f"  {r['link']['name']:<18} {r['link']['channel']}/{_SUBDIR}::{r['_dist']} \n" for r in records)
    added = "".join(f"    - {s}\n" for s in specs)
    return (
        "Collecting package metadata (current_repodata.json): ...working... done\n"
        "Solving environment: ...working... done\n\n## Package Plan ##\n\n"
        f"  environment location: {target}\n\n  added / updated specs:\n{added}\n\n"
        f"The following NEW packages will be INSTALLED:\n\n{pkgs}\n\n\n"
        "Downloading and Extracting Packages: ...working... done\n"
        "Preparing transaction: ...working... done\nVerifying transaction: ...working... done\n"
        "Executing transaction: ...working... done\n#\n# To activate this environment, use\n#\n"
        f"#     $ conda activate {name or target}\n#\n# To deactivate an active environment, use\n#\n#     $ conda deactivate\n\n"
    )


def _log_call(root: Path, argv: list[str]) -> None:
    try:
        log = root / "conda-meta" / "standin-calls.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        entry = {"argv": argv, "cwd": os.getcwd(), "time": _now_iso(), "stdout_isatty": sys.stdout.isatty(),
                 "env": {k: os.environ.get(k) for k in LOGGED_ENV}}
        with log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    except OSError:
        pass


def conda_main(argv: list[str], root_prefix: Path | None = None) -> int:
    """Entry point of the stand-in ``conda``; ``root_prefix`` defaults to the folder above this script's folder."""
    root = Path(root_prefix) if root_prefix else Path(os.path.abspath(__file__)).parent.parent
    _log_call(root, argv)
    try:
        return _Conda(root, argv).run()
    except _Exit as e:
        return e.code


# ==== the installer template ======================================================================================

_INSTALLER_TEMPLATE = r'''#!/bin/sh
#
# STAND-IN Miniconda installer for tests (written by tests/support/standin.py). It installs no packages:
# it honours the command line and messages of conda/constructor's header.sh (as rendered in
# Miniconda3 py313_25.9.1-3 linux-64, constructor 3.13.1) and lays out PREFIX like Miniconda with a
# stand-in `conda` (a Python script) in bin/ and condabin/.
#
# NAME:  Miniconda3
# VER:   @@INSTALLER_VER@@
# PLAT:  linux-64

set -eu
unset LD_LIBRARY_PATH LD_PRELOAD LD_AUDIT

if ! echo "$0" | grep '\.sh$' > /dev/null; then
    printf 'Please run using "bash"/"dash"/"sh"/"zsh", but not "." or "source".\n' >&2
    exit 1
fi

export INSTALLER_NAME='Miniconda3'
export INSTALLER_VER='@@INSTALLER_VER@@'
export INSTALLER_PLAT='linux-64'
export INSTALLER_TYPE="SH"
# Installers should ignore pre-existing configuration files.
unset CONDARC
unset MAMBARC

STANDIN_PYTHON=@@PYTHON@@
THIS_DIR=$(DIRNAME=$(dirname "$0"); cd "$DIRNAME"; pwd)
THIS_FILE=$(basename "$0")
THIS_PATH="$THIS_DIR/$THIS_FILE"
PREFIX="${HOME:-/opt}/miniconda3"
BATCH=0
FORCE=0
KEEP_PKGS=1
SKIP_SCRIPTS=0
SKIP_SHORTCUTS=0
INIT_CONDA=0
TEST=0
REINSTALL=0
USAGE="
usage: $0 [options]

Installs ${INSTALLER_NAME} ${INSTALLER_VER}
-b           run install in batch mode (without manual intervention),
             it is expected the license terms (if any) are agreed upon
-f           no error if install prefix already exists
-h           print this help message and exit
-p PREFIX    install prefix, defaults to $PREFIX, must not contain spaces.
-s           skip running pre/post-link/install scripts
-m           disable the creation of menu items / shortcuts
-u           update an existing installation
-t           run package tests after installation (may install conda-build)
-c           run 'conda init' after installation (only applies to batch mode)
"
while getopts "bifhkp:smutc" x; do
    case "$x" in
        h)
            printf "%s\\n" "$USAGE"
            exit 2
        ;;
        b)
            BATCH=1
            ;;
        i)
            BATCH=0
            ;;
        f)
            FORCE=1
            ;;
        k)
            KEEP_PKGS=1
            ;;
        p)
            PREFIX="$OPTARG"
            ;;
        s)
            SKIP_SCRIPTS=1
            ;;
        m)
            SKIP_SHORTCUTS=1
            ;;
        u)
            FORCE=1
            ;;
        t)
            TEST=1
            ;;
        c)
            INIT_CONDA=1
            ;;
        ?)
            printf "ERROR: did not recognize option '%s', please try -h\\n" "$x"
            exit 1
            ;;
    esac
done

# For pre- and post-install scripts
export INSTALLER_UNATTENDED="$BATCH"

if [ "$BATCH" = "0" ] # interactive mode
then
    printf "\\n"
    printf "Welcome to %s %s\\n" "${INSTALLER_NAME}" "${INSTALLER_VER}"
    printf "\\n"
    printf "In order to continue the installation process, please review the license\\n"
    printf "agreement.\\n"
    printf "Please, press ENTER to continue\\n"
    printf ">>> "
    read -r dummy
    cat <<'EOF'
STAND-IN LICENSE (tests only): this installer is a test stand-in for Miniconda and installs no real packages.

EOF
    printf "\\n"
    printf "Do you accept the license terms? [yes|no]\\n"
    printf ">>> "
    read -r ans
    ans=$(echo "${ans}" | tr '[:lower:]' '[:upper:]')
    while [ "$ans" != "YES" ] && [ "$ans" != "NO" ]
    do
        printf "Please answer 'yes' or 'no':\\n"
        printf ">>> "
        read -r ans
        ans=$(echo "${ans}" | tr '[:lower:]' '[:upper:]')
    done
    if [ "$ans" != "YES" ]
    then
        printf "The license agreement wasn't approved, aborting installation.\\n"
        exit 2
    fi

    printf "\\n"
    printf "%s will now be installed into this location:\\n" "${INSTALLER_NAME}"
    printf "%s\\n" "$PREFIX"
    printf "\\n"
    printf "  - Press ENTER to confirm the location\\n"
    printf "  - Press CTRL-C to abort the installation\\n"
    printf "  - Or specify a different location below\\n"
    printf "\\n"
    printf "[%s] >>> " "$PREFIX"
    read -r user_prefix
    if [ "$user_prefix" != "" ]; then
        case "$user_prefix" in
            *\ * )
                printf "ERROR: Cannot install into directories with spaces\\n" >&2
                exit 1
                ;;
            *)
                PREFIX=$(echo "${user_prefix}" | sed -r "s#^~#$HOME#")
                ;;
        esac
    fi
fi # !BATCH
# Test switch (a STANDIN_INSTALL_FAIL variant): STANDIN_SYSTEM_GLIBC="2.17" makes the minimum-glibc check of the
# real header fail the way it does on an old system, before anything is written (constructor header.sh: stdout,
# "Installer requires GLIBC >=${min_glibc_version}, but system has ${system_glibc_version}.", exit 1).
if [ -n "${STANDIN_SYSTEM_GLIBC:-}" ]; then
    min_glibc_version="2.28"
    system_glibc_version="$STANDIN_SYSTEM_GLIBC"
    if [ "$(printf "%s\\n%s" "$min_glibc_version" "$system_glibc_version" | sort -V | head -1)" != "$min_glibc_version" ]; then
        echo "Installer requires GLIBC >=${min_glibc_version}, but system has ${system_glibc_version}."
        exit 1
    fi
fi
case "$PREFIX" in
    *\ * )
        printf "ERROR: Cannot install into directories with spaces\\n" >&2
        exit 1
        ;;
esac

if [ "$FORCE" = "0" ] && [ -e "$PREFIX" ]; then
    printf "ERROR: File or directory already exists: '%s'\\n" "$PREFIX" >&2
    printf "If you want to update an existing installation, use the -u option.\\n" >&2
    exit 1
elif [ "$FORCE" = "1" ] && [ -e "$PREFIX" ]; then
    REINSTALL=1
fi

total_installation_size_kb="64"
total_installation_size_mb="$(( total_installation_size_kb / 1024 ))"
if ! mkdir -p "$PREFIX"; then
    printf "ERROR: Could not create directory: '%s'.\\n" "$PREFIX" >&2
    printf "Check permissions and available disk space (%s MB needed).\\n" "$total_installation_size_mb" >&2
    exit 1
fi

# pwd does not convert two leading slashes to one
# https://github.com/conda/constructor/issues/284
PREFIX=$(cd "$PREFIX"; pwd | sed 's@//@/@')
export PREFIX

printf "PREFIX=%s\\n" "$PREFIX"

cd "$PREFIX"

printf "Unpacking bootstrapper...\n"

# Create $PREFIX/.nonadmin if the installation didn't require superuser permissions
if [ "$(id -u)" -ne 0 ]; then
    touch "$PREFIX/.nonadmin"
fi

printf "Unpacking payload...\n"
mkdir -p "$PREFIX/bin" "$PREFIX/condabin" "$PREFIX/conda-meta" "$PREFIX/pkgs" "$PREFIX/etc/conda"

write_conda() {
    printf '#!%s\n' "$STANDIN_PYTHON"
    cat <<'@@EOF_MARK@@'
@@CONDA_SOURCE@@
@@EOF_MARK@@
}
write_conda > "$PREFIX/bin/conda"
cp "$PREFIX/bin/conda" "$PREFIX/condabin/conda"
chmod +x "$PREFIX/bin/conda" "$PREFIX/condabin/conda"
ln -sfn "$STANDIN_PYTHON" "$PREFIX/bin/python"

# Test switches (not in the real header): STANDIN_INSTALL_DELAY waits in a child `sleep` (pids of this shell
# and of the sleep go to STANDIN_PID_FILE, then a "stand-in: waiting" line is printed); STANDIN_INSTALL_FAIL
# prints its text on stderr and exits 1, as a payload step that failed (e.g. "[Errno 122] Disk quota exceeded").
if [ -n "${STANDIN_INSTALL_DELAY:-}" ]; then
    sleep "$STANDIN_INSTALL_DELAY" &
    printf '%s %s\n' "$$" "$!" > "${STANDIN_PID_FILE:-/dev/null}"
    printf 'stand-in: waiting %s s\n' "$STANDIN_INSTALL_DELAY"
    wait $!
fi
if [ -n "${STANDIN_INSTALL_FAIL:-}" ]; then
    printf '%s\n' "$STANDIN_INSTALL_FAIL" >&2
    exit 1
fi

test -d ~/.conda || mkdir -p ~/.conda >/dev/null 2>/dev/null || test -d ~/.conda || mkdir ~/.conda

printf "\nInstalling base environment...\n\n"
{
    printf "==> %s <==\n" "$(date '+%Y-%m-%d %H:%M:%S')"
    printf "# cmd: %s -b -p %s (stand-in installer)\n" "$THIS_PATH" "$PREFIX"
    printf "+https://repo.anaconda.com/pkgs/main/linux-64::conda-%s-standin_0\n" "${INSTALLER_VER#*_}"
} >> "$PREFIX/conda-meta/history"
mkdir -p "$PREFIX/envs"
# ----- add condarc
cat <<EOF >"$PREFIX/.condarc"
channels:
  - defaults

EOF

cat <<'EOF'
installation finished.
EOF

if [ "${PYTHONPATH:-}" != "" ]; then
    printf "WARNING:\\n"
    printf "    You currently have a PYTHONPATH environment variable set. This may cause\\n"
    printf "    unexpected behavior when running the Python interpreter in %s.\\n" "${INSTALLER_NAME}"
    printf "    For best results, please verify that your PYTHONPATH only points to\\n"
    printf "    directories of packages that are compatible with the Python interpreter\\n"
    printf "    in %s: %s\\n" "${INSTALLER_NAME}" "$PREFIX"
fi

_maybe_run_conda_init() {
    printf "stand-in installer: 'conda init' is not emulated; no shell file was changed.\\n" >&2
}

if [ "$BATCH" = "0" ]; then
    DEFAULT=no
    printf "Do you wish to update your shell profile to automatically initialize conda?\\n"
    printf "This will activate conda on startup and change the command prompt when activated.\\n"
    printf "If you'd prefer that conda's base environment not be activated on startup,\\n"
    printf "   run the following command when conda is activated:\\n"
    printf "\\n"
    printf "conda config --set auto_activate_base false\\n"
    printf "\\n"
    printf "Note: You can undo this later by running \`conda init --reverse \$SHELL\`\\n"
    printf "\\n"
    printf "Proceed with initialization? [yes|no]\\n"
    printf "[%s] >>> " "$DEFAULT"
    read -r ans
    if [ "$ans" = "" ]; then
        ans=$DEFAULT
    fi
    ans=$(echo "${ans}" | tr '[:lower:]' '[:upper:]')
    if [ "$ans" != "YES" ] && [ "$ans" != "Y" ]
    then
        printf "\\n"
        printf "You have chosen to not have conda modify your shell scripts at all.\\n"
        printf "To activate conda's base environment in your current shell session:\\n"
        printf "\\n"
        printf "eval \"\$(%s/bin/conda shell.YOUR_SHELL_NAME hook)\" \\n" "$PREFIX"
        printf "\\n"
        printf "To install conda's shell functions for easier access, first activate, then:\\n"
        printf "\\n"
        printf "conda init\\n"
        printf "\\n"
    else
        _maybe_run_conda_init
    fi

    printf "Thank you for installing %s!\\n" "${INSTALLER_NAME}"
elif [ "$INIT_CONDA" = "1" ]; then
        printf "Initializing '%s' with 'conda init'...\\n" "$PREFIX"
        _maybe_run_conda_init
fi
if [ "$TEST" = "1" ]; then
    printf "INFO: Running package tests in a subshell\\n"
    printf "stand-in installer: there are no package tests.\\n" >&2
fi

exit 0
'''


if __name__ == "__main__":
    sys.exit(conda_main(sys.argv[1:]))
