"""README.md "IT admins" (issue 9, Fleet-ready): every flag of ``--help`` and every answer-file key, with the plan's
defaults, the exit codes, where files go on each OS (platformdirs), and the versioned JSON event schema."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from app import APP_NAME
from app.cli import build_parser
from app.core.errors import EXIT_CODES
from app.core.events import EVENT_FIELDS, EVENT_SCHEMA_VERSION
from app.core.plan import InstallPlan
from app.core.plan_rules import FLAGS

ROOT = Path(__file__).resolve().parent.parent


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _flag_table() -> list[tuple[set[str], set[str], str]]:
    """Rows of the IT admins flag table: (flags, keys, default cell)."""
    section = _section("IT admins")
    table = section[section.index("| flag | answer-file key | default |"):]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        flags = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", cells[0]))
        keys = set(re.findall(r"`(\w+)", cells[1]))
        rows.append((flags, keys, cells[2]))
    return rows


def test_every_flag_of_help_is_in_the_it_admins_table():
    documented = set().union(*(flags for flags, _, _ in _flag_table()))
    in_help = {o for action in build_parser()._actions for o in action.option_strings}
    assert in_help - documented == set(), "add a row to README.md 'IT admins' for each"
    assert documented - in_help == set(), "the README names flags that do not exist"
    # and the help text itself names each of them (what an admin reads first)
    help_text = build_parser().format_help()
    assert all(f in help_text for f in in_help)


def test_every_answer_file_key_is_in_the_table_next_to_its_flag():
    rows = _flag_table()
    keys = set().union(*(k for _, k, _ in rows))
    fields = {f.name for f in dataclasses.fields(InstallPlan)}
    assert fields - keys == set() and set(FLAGS) - keys == set()
    assert keys - fields == set(), "the README names keys the plan does not have"
    from app.cli import _FLAG_KEYS  # flags that set a key other than their own name (--no-shell-init: init_shells)

    for flags, row_keys, _ in rows:
        for key in row_keys:
            assert FLAGS[key] in flags or any(_FLAG_KEYS.get(f, ("",))[0] == key for f in flags), (key, flags)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def test_the_defaults_in_the_table_are_the_plans():
    plan = InstallPlan()
    checked = 0
    for _flags, keys, default in _flag_table():
        if len(keys) != 1 or not default:  # a second row of a key (--no-shell-init) has no default of its own
            continue
        key = next(iter(keys))
        value = getattr(plan, key)
        if value in (None, ()) or key in ("platform", "prefix"):  # descriptive: "none (...)", "detected", "~/..."
            continue
        assert f"`{_toml(value)}`" in default, (key, value, default)
        checked += 1
    assert checked >= 20


def test_every_exit_code_is_in_the_it_admins_section():
    section = _section("IT admins")
    para = section[section.index("**Exit codes**"):]
    para = para[:para.index("\n\n")]
    numbers = {int(n) for n in re.findall(r"(?<![\w+])(\d+)(?= )", para)}
    assert set(EXIT_CODES.values()) <= numbers, set(EXIT_CODES.values()) - numbers
    assert "128 + N" in para and "130" in para


def test_the_json_schema_version_is_stated_and_printed():
    assert f"schema version {EVENT_SCHEMA_VERSION}" in _section("IT admins")
    assert f"**schema version {EVENT_SCHEMA_VERSION}**" in _section("Silent mode (IT admins)")
    assert "schema" in EVENT_FIELDS["version"]
    res = subprocess.run([sys.executable, "-m", "app", "--version", "--json"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    event = json.loads(res.stdout)
    assert event["event"] == "version" and event["schema"] == EVENT_SCHEMA_VERSION


def _where_table() -> dict[str, tuple[str, str, str]]:
    section = _section("IT admins")
    table = section[section.index("| what | Linux | macOS | Windows |"):]
    out = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.split("|")[1:-1]]
        out[cells[0]] = tuple(re.sub(r"^`|/?`.*$|\\`.*$", "", c).rstrip("\\/") for c in cells[1:])
    return out


@pytest.mark.parametrize("what, kind, suffix, author", [
    ("log, one file per run", "user_log_dir", "", False),                 # app.core.logfile
    ("install manifests and the shell-change journal", "user_state_dir", "", False),  # manifest, journal
    ("installer cache", "user_cache_dir", "cache", None),                 # app.core.cache
    ("downloads without `--download-dir`", "user_cache_dir", "downloads", None),  # app.core.download
])
def test_where_files_go_is_what_platformdirs_gives_on_each_os(what, kind, suffix, author, monkeypatch, tmp_path):
    from platformdirs import macos, unix, windows

    row = next(v for k, v in _where_table().items() if k.startswith(what))
    home = Path.home()
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(windows, "get_win_folder", lambda csidl: "%LOCALAPPDATA%" if csidl == "CSIDL_LOCAL_APPDATA"
                        else pytest.fail(csidl))
    monkeypatch.setattr(os.path, "normpath", lambda p: p)  # keep %LOCALAPPDATA% as it is
    monkeypatch.setattr(windows.Windows, "_optionally_create_directory", lambda self, path, **kw: None, raising=False)
    monkeypatch.setattr(macos.MacOS, "_optionally_create_directory", lambda self, path, **kw: None, raising=False)
    monkeypatch.setattr(unix.Unix, "_optionally_create_directory", lambda self, path, **kw: None, raising=False)
    got = []
    for cls in (unix.Unix, macos.MacOS, windows.Windows):
        kwargs = {"appauthor": False} if author is False else {}
        path = getattr(cls(APP_NAME, **kwargs), kind)
        path = os.path.join(path, suffix) if suffix else path
        path = path.replace(str(home), "~").rstrip("/")
        got.append(path.replace("/", "\\") if cls is windows.Windows else path)
    assert tuple(got) == row, (what, got, row)
    # and the program uses those very calls (the Linux one, for real)
    assert Path(getattr(platformdirs, kind)(APP_NAME, **({"appauthor": False} if author is False else {}))).name \
        == (APP_NAME if kind != "user_log_dir" else "log")
