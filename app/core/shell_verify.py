"""Proof that ``conda`` works in a new terminal of each shell step 4 set up (Linux/macOS).

Writing conda's block is not the same as conda working: a ``.bashrc`` that returns early, an
``exec zsh`` before the block, a later line that resets ``PATH`` or a broken prefix all leave the
user without ``conda``. So after the block is written, each shell that exists on the machine is
started the way a new terminal starts it and asked for conda:

* ``bash -ic 'type conda'``, ``zsh -ic 'type conda'``, ``fish -ic 'type conda'`` (``-i``: interactive,
  so each reads its rc file as a terminal does, fish's ``if status is-interactive`` included; bash on
  macOS ``-lic``, a login shell as Terminal.app starts it, which reads ``~/.bash_profile``),
* as argument lists (no shell string), stdin ``/dev/null``, with a timeout (:data:`PROOF_TIMEOUT`),
* in a scratch environment (:func:`scratch_env`): ``HOME`` is the user's home, ``PATH`` a minimal
  system path without the prefix, no ``CONDA_*`` / ``BASH_ENV`` / ``ENV`` / ``PYTHON*`` (``PYTHONUTF8=1``
  as for every child), ``TERM=dumb``, and the user's ``ZDOTDIR`` / ``XDG_CONFIG_HOME`` (they decide
  which file zsh and fish read) and a UTF-8 locale (fish cannot find a config folder whose path has
  non-ASCII characters in the C locale: it decodes ``HOME`` byte by byte).

Each shell gets a :class:`ShellProof`: ``works``, ``failed`` (with the tail of its stderr), ``missing``
(the shell is not installed, nothing to prove) or ``skipped`` (not set up in this run).

**Who is at fault when the proof fails.** The same shell is then started without any start-up file
(``bash --norc --noprofile``, ``zsh -f``, ``fish --no-config``) and made to read only the block we
wrote (from a scratch file). If that works too, our block is fine and something else in the user's
files stops it (an early ``return``, ``exec``, a ``PATH`` reset): the proof is ``failed`` with a
warning that says so, the step succeeds and the block stays (the user's files are theirs to fix; the
block will work once they do). If there is no ``<prefix>/bin/conda`` at all, the install is incomplete:
``failed`` with a warning (finding and repairing a broken install is the install step's job; the shell
step cannot fix it). If the block fails on its own although ``<prefix>/bin/conda`` is there, what we
set up (the block with this prefix's hook) is at fault: :class:`~app.core.errors.ShellSetupError`
(exit 8), and the caller undoes the step's changes, because a block that cannot work must not be left
behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from app.core import shells, system
from app.core.errors import Stage
from app.core.events import CancelToken, Reporter
from app.core.file_edit import refuse
from app.core.journal import Change
from app.core.rc_block import conda_block
from app.i18n import _

#: Seconds one proof may take (a shell that waits for input, a slow network home).
PROOF_TIMEOUT = 30.0
#: Characters of stderr kept in a failed proof.
STDERR_TAIL = 600
#: The minimal PATH of the scratch environment (the shell's own folder is added when it lives elsewhere).
MINIMAL_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
#: Variables passed from the user's environment to the proof: which files the shells read, and the locale.
PASSED_VARIABLES = ("ZDOTDIR", "XDG_CONFIG_HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE")
#: Shells this module can prove.
PROVABLE = ("bash", "zsh", "fish")

Status = Literal["works", "failed", "missing", "skipped"]


@dataclass(frozen=True)
class ShellProof:
    """The result of one proof.

    Attributes:
        shell: ``bash``, ``zsh`` or ``fish``.
        status: ``works`` | ``failed`` | ``missing`` (shell not installed) | ``skipped`` (not set up now).
        rc_file: the file the block went into (``None`` when skipped).
        command: the argument list that was run (empty when nothing ran).
        detail: one human line (what ``type conda`` said, or why it failed and what to do).
        stderr_tail: the last :data:`STDERR_TAIL` characters of stderr of a failed proof.
        block_at_fault: the block failed on its own (see the module docstring).
    """

    shell: str
    status: Status
    rc_file: Path | None = None
    command: tuple[str, ...] = ()
    detail: str = ""
    stderr_tail: str = ""
    block_at_fault: bool = False

    def describe(self) -> str:
        """``bash: works (conda is /opt/mc/bin/conda)``."""
        words = {"works": _("conda works in new terminals"), "failed": _("conda does NOT work in new terminals"),
                 "missing": _("not installed here, so not checked"), "skipped": _("not set up")}[self.status]
        return f"{self.shell}: {words}" + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly (paths as strings)."""
        data = asdict(self)
        data["rc_file"] = str(self.rc_file) if self.rc_file else None
        data["command"] = list(self.command)
        return data


def scratch_env(home: Path, shell_exe: str, prefix: Path | str,
                environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a proof (see the module docstring): complete, not merged with ``os.environ``."""
    environ = os.environ if environ is None else environ
    prefix_real = os.path.realpath(prefix)
    folders = list(MINIMAL_PATH)
    shell_dir = str(Path(shell_exe).parent)
    if shell_dir not in folders:
        folders.append(shell_dir)
    folders = [f for f in folders
               if not (os.path.realpath(f) + os.sep).startswith(prefix_real.rstrip(os.sep) + os.sep)]
    base = {"HOME": str(home), "PATH": os.pathsep.join(folders), "TERM": "dumb"}
    base.update({k: environ[k] for k in PASSED_VARIABLES if environ.get(k)})
    locale = base.get("LC_ALL") or base.get("LC_CTYPE") or base.get("LANG") or ""
    if "utf" not in locale.lower().replace("-", ""):
        base.pop("LC_ALL", None)
        base["LC_CTYPE"] = "C.UTF-8"
    return system.child_env(base=base)


def proof_argv(shell: str, exe: str, os_name: str = "Linux") -> list[str]:
    """``[exe, "-ic", "type conda"]`` (fish: ``-i -c``): a new terminal asked for conda.

    bash on macOS: ``-lic``: Terminal.app starts login shells, which read ``~/.bash_profile`` (where the
    block goes there) and not ``~/.bashrc``; a plain ``-ic`` would read the wrong file.
    """
    if shell == "fish":
        return [exe, "-i", "-c", "type conda"]
    if shell == "bash" and os_name == "MacOSX":
        return [exe, "-lic", "type conda"]
    return [exe, "-ic", "type conda"]


def block_only_argv(shell: str, exe: str, block_file: Path) -> list[str]:
    """The same question in a shell that reads no start-up file, only ``block_file`` (passed as ``$1``)."""
    if shell == "bash":
        return [exe, "--norc", "--noprofile", "-ic", '. "$1"; type conda', "bash", str(block_file)]
    if shell == "zsh":
        return [exe, "-f", "-ic", '. "$1"; type conda', "zsh", str(block_file)]
    return [exe, "--no-config", "-i", "-c", "source $argv[1]; type conda", str(block_file)]


def _tail(text: str) -> str:
    # Interactive shells without a terminal complain about job control on every start; that is noise here.
    noise = ("cannot set terminal process group", "no job control in this shell")
    lines = [line for line in text.strip().splitlines() if not any(n in line for n in noise)]
    out = "\n".join(lines)
    return out[-STDERR_TAIL:]


def _run(argv: Sequence[str], env: Mapping[str, str], cancel: CancelToken | None) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)``; a timeout or a program that cannot start is exit code -1."""
    try:
        result = system.run_streaming(argv, env=env, timeout=PROOF_TIMEOUT, cancel=cancel)
    except TimeoutError:
        return -1, "", _("no answer within {proof_timeout:.0f} s (does the start-up file wait for input?)").format(proof_timeout=PROOF_TIMEOUT)
    except OSError as e:
        return -1, "", _("could not start {argv}: {value}").format(argv=argv[0], value=e.strerror or e)
    return result.returncode, result.stdout, result.stderr


def prove(shell: str, prefix: Path | str, rc_file: Path | None, *, home: Path | None = None,
          environ: Mapping[str, str] | None = None, cancel: CancelToken | None = None,
          os_name: str = "Linux") -> ShellProof:
    """Start ``shell`` as a new terminal would and ask ``type conda`` (see the module docstring).

    Args:
        shell: ``bash``, ``zsh`` or ``fish``.
        prefix: the Miniconda root prefix the block points at.
        rc_file: the file the block was written to (for the message).
        home / environ: the user's home and environment (default :func:`app.core.system.home`, ``os.environ``).
        cancel: ends a running proof (the shell's process tree) within 0.1 s.
        os_name: ``Linux`` or ``MacOSX`` (see :func:`proof_argv`).

    Returns:
        ``works``, ``failed`` (``block_at_fault`` set when the block fails on its own too) or ``missing``.
    """
    home = Path(home) if home is not None else system.home()
    environ = os.environ if environ is None else environ
    exe = shells.installed(shell, environ)
    if not exe:
        return ShellProof(shell, "missing", rc_file, detail=_("{shell} is not installed; the block is written and will work when it is").format(shell=shell))
    env = scratch_env(home, exe, prefix, environ)
    argv = proof_argv(shell, exe, os_name)
    code, out, err = _run(argv, env, cancel)
    said = out.strip().splitlines()[0].strip() if out.strip() else ""  # "conda is a function" / "conda is /p/bin/conda"
    if code == 0 and said:
        return ShellProof(shell, "works", rc_file, tuple(argv), said)
    tail = _tail(err) or _("exit code {code}, no output").format(code=code)
    with tempfile.TemporaryDirectory(prefix="miniconda-wizard-proof-") as tmp:
        block_file = Path(tmp) / f"block.{shell}"
        block_file.write_text(conda_block(prefix, shell), encoding="utf-8")
        b_code, b_out, b_err = _run(block_only_argv(shell, exe, block_file), env, cancel)
    where = rc_file if rc_file is not None else _("{shell}'s start-up file").format(shell=shell)
    if b_code == 0 and b_out.strip():
        return ShellProof(shell, "failed", rc_file, tuple(argv),
                          _("the conda initialize block works on its own, so something else in {where} or a file it reads "
                            "stops it (an early return, exec, or a PATH reset after the block): {tail}").format(where=where, tail=tail),
                          tail)
    b_tail = _tail(b_err) or _("exit code {b_code}, no output").format(b_code=b_code)
    conda = Path(prefix) / "bin" / "conda"
    if not os.access(conda, os.X_OK):
        return ShellProof(shell, "failed", rc_file, tuple(argv),
                          _("there is no conda at {conda}: the install in {prefix} is incomplete, so the block has nothing "
                            "to find").format(conda=conda, prefix=prefix), tail)
    return ShellProof(shell, "failed", rc_file, tuple(argv),
                      _("the conda initialize block does not make conda available even on its own: {b_tail}").format(b_tail=b_tail),
                      tail, block_at_fault=True)


def prove_changes(changes: Iterable[Change], prefix: Path | str, reporter: Reporter | None = None, *,
                  home: Path | None = None, environ: Mapping[str, str] | None = None,
                  cancel: CancelToken | None = None, os_name: str = "Linux") -> list[ShellProof]:
    """Prove each bash/zsh/fish that :func:`app.core.shell_setup.apply` set up (``changes``), in order.

    Every result is logged (a warning when it failed) and sent as ``info(Stage.SHELL, "shell_proof", dict)``.
    Shells ``apply`` skipped are returned as ``skipped`` without running anything.

    Raises:
        ShellSetupError: a block failed on its own (``block_at_fault``), naming the shell, its stderr and
            the fix. The caller undoes the step's changes (:func:`app.core.shell_setup.undo`).
        Cancelled: ``cancel`` was set.
    """
    proofs: list[ShellProof] = []
    for change in changes:
        if change.shell not in PROVABLE:
            continue
        if cancel is not None:
            cancel.raise_if_cancelled()
        if change.action == "skipped":
            proof = ShellProof(change.shell, "skipped", None, detail=change.detail)
        else:
            proof = prove(change.shell, prefix, change.path, home=home, environ=environ, cancel=cancel,
                          os_name=os_name)
        proofs.append(proof)
        if reporter is not None:
            reporter.log(Stage.SHELL, proof.describe(), "warning" if proof.status == "failed" else "info")
            reporter.info(Stage.SHELL, "shell_proof", proof.to_dict())
    bad = [p for p in proofs if p.block_at_fault]
    if bad:
        conda = Path(prefix) / "bin" / "conda"
        raise refuse(
            _("The conda initialize block does not make conda available: {problems}.").format(
                problems="; ".join(f"{p.shell} ({' '.join(p.command)}): {p.detail}" for p in bad)),
            _("Check that the install in {prefix} is complete: '{conda} shell.{shell} hook' should print "
              "shell code and '{conda} --version' a version. Reinstall Miniconda there if not, or untick "
              "{shells} on the PATH options page (leave it out of --init-shells) to go on.").format(prefix=prefix, conda=conda, shell=bad[0].shell, shells=', '.join(p.shell for p in bad)),
        )
    return proofs
