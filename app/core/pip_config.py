"""The env's own pip configuration: ``<env>/pip.conf`` (``pip.ini`` on Windows) with the mirror's index.

pip reads a "site" configuration file at ``sys.prefix/pip.conf`` (Linux, macOS) or ``sys.prefix\\pip.ini``
(Windows), after the user's global and per-user files, so its values win for that env only and the user's
own ``~/.config/pip/pip.conf`` stays untouched. Source: pip docs, "Configuration" -> "Configuration files"
(https://pip.pypa.io/en/stable/topics/configuration/: "Site: ``$VIRTUAL_ENV/pip.conf``" /
``%VIRTUAL_ENV%\\pip.ini``; pip's ``site_config_files`` is ``os.path.join(sys.prefix, CONFIG_BASENAME)``),
the same file ``pip config --site set global.index-url URL`` writes.

An http:// index also gets ``trusted-host`` (pip refuses plain-http indexes otherwise).
"""

from __future__ import annotations

import configparser
import io
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.i18n import _
from app.core import mirrors
from app.core.errors import EnvCreateError
from app.core.file_edit import BACKUP_TAG, timestamp, unique_path


def config_path(env_prefix: Path, os_name: str) -> Path:
    """``<env>/pip.ini`` on Windows, else ``<env>/pip.conf``."""
    return Path(env_prefix) / ("pip.ini" if os_name == "Windows" else "pip.conf")


def render(index_url: str, existing: str = "") -> str:
    """The config text: ``existing`` (INI) with ``[global] index-url`` set, plus ``trusted-host`` for http."""
    cfg = configparser.ConfigParser(interpolation=None)
    if existing.strip():
        cfg.read_string(existing)
    if not cfg.has_section("global"):
        cfg.add_section("global")
    cfg.set("global", "index-url", index_url)
    parts = urlsplit(index_url)
    if parts.scheme == "http" and parts.hostname:
        hosts = cfg.get("global", "trusted-host", fallback="").split()
        if parts.hostname not in hosts:
            hosts.append(parts.hostname)
        cfg.set("global", "trusted-host", " ".join(hosts))
    buf = io.StringIO()
    buf.write("# Written by miniconda-wizard: the pip index for this env only (pip's site config).\n")
    cfg.write(buf)
    return buf.getvalue()


def write(env_prefix: Path, plan: Any) -> Path | None:
    """Write the env's pip config for the plan's pip index (:func:`app.core.mirrors.sources`).

    Returns:
        The file written, or ``None`` when pip uses PyPI (nothing written; an existing file is left alone).

    Raises:
        EnvCreateError: the file cannot be written (the env itself is fine).
    """
    index = mirrors.sources(plan).pip_index
    if not index:
        return None
    os_name = getattr(getattr(plan, "platform", None), "os", "Linux")
    path = config_path(env_prefix, os_name)
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        text = render(index, existing)
        if existing == text:
            return path
        if existing:
            shutil.copy2(path, unique_path(f"{path}{BACKUP_TAG}{timestamp()}", ".bak"))
        path.write_text(text, encoding="utf-8")
    except (OSError, configparser.Error) as exc:
        raise EnvCreateError(
            _("Could not write the env's pip configuration {path}: {exc}").format(path=path, exc=exc),
            fix=_('Give pip the index yourself: {value} -m pip config --site set global.index-url {index}').format(value=Path(env_prefix) / 'bin' / 'python', index=index),
        ) from exc
    return path
