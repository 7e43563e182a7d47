"""A REAL silent install with the frozen console program, then its undo (used by .github/workflows/build.yml).

Usage: ``python build_scripts/real_install_check.py --cli PATH --prefix DIR --logs DIR``. On the runner, from the
official Miniconda repository (the wizard's default mirror) with ``--channels conda-forge`` (no Terms of Service):

1. hashes the shell start-up files (and, on Windows, the user PATH in ``HKCU\\Environment``) before;
2. ``CLI --json --prefix DIR --channels conda-forge --no-gpu-check``: exit 0, the rc files / PATH changed;
3. ``CLI --gpu-check-only --env llm --prefix DIR --json``: exit 0 on the CPU runner (no GPU is a verdict, not
   a failure, without ``--require-gpu``);
4. ``CLI --uninstall --yes --prefix DIR``: exit 0, the prefix is gone, and every hashed file and the PATH are
   byte-identical to step 1.

Exit code 0 when all held, else 1 (the first failure is printed). Logs and JSON events go to ``--logs``.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

RC_FILES = (".bashrc", ".bash_profile", ".profile", ".zshrc", ".config/fish/config.fish",
            "Documents/WindowsPowerShell/profile.ps1", "Documents/PowerShell/profile.ps1",
            "Documents/WindowsPowerShell/Microsoft.PowerShell_profile.ps1",
            "Documents/PowerShell/Microsoft.PowerShell_profile.ps1")


def state() -> dict[str, str]:
    """SHA-256 of each rc file (``"-"`` when missing) and, on Windows, of the user PATH value."""
    home = Path.home()
    out = {}
    for name in RC_FILES:
        p = home / name
        out[name] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "-"
    if sys.platform.startswith("win"):
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, "Environment") as key:
                value, kind = winreg.QueryValueEx(key, "Path")
            out["HKCU\\Environment\\Path"] = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
        except OSError:
            out["HKCU\\Environment\\Path"] = "-"
    return out


def run(argv: list[str], logs: Path, name: str) -> int:
    print("$ " + subprocess.list2cmdline(argv), flush=True)
    res = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", errors="replace",
                         stdin=subprocess.DEVNULL)
    (logs / f"{name}.stdout.jsonl").write_text(res.stdout, encoding="utf-8")
    (logs / f"{name}.stderr.txt").write_text(res.stderr, encoding="utf-8")
    print(res.stdout[-4000:], res.stderr[-4000:], f"exit code {res.returncode}", sep="\n", flush=True)
    return res.returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True, type=Path)
    ap.add_argument("--prefix", required=True, type=Path)
    ap.add_argument("--logs", required=True, type=Path)
    args = ap.parse_args(argv)
    args.logs.mkdir(parents=True, exist_ok=True)
    cli = str(args.cli.resolve())
    before = state()
    failures = []
    if run([cli, "--json", "--prefix", str(args.prefix), "--channels", "conda-forge", "--no-gpu-check",
            "--log-file", str(args.logs / "install.log")], args.logs, "install") != 0:
        failures.append("the install did not exit 0")
    elif state() == before:
        failures.append("the install changed no shell file and no PATH")
    elif run([cli, "--json", "--gpu-check-only", "--env", "llm", "--prefix", str(args.prefix),
              "--log-file", str(args.logs / "gpu-check.log")], args.logs, "gpu-check") != 0:
        failures.append("--gpu-check-only did not exit 0 on the CPU")
    if run([cli, "--uninstall", "--yes", "--prefix", str(args.prefix), "--log-file", str(args.logs / "uninstall.log")],
           args.logs, "uninstall") != 0:
        failures.append("--uninstall --yes did not exit 0")
    after = state()
    changed = [k for k in before if before[k] != after.get(k)]
    if changed:
        failures.append(f"not byte-identical after the undo: {', '.join(changed)}")
    if args.prefix.exists():
        failures.append(f"the prefix {args.prefix} is still there")
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
