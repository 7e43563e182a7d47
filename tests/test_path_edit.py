"""app.core.path_edit: pure PATH edits, checked against a real (long) Windows PATH."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.path_edit import add_to_path, normalize_entry, path_contains, remove_from_path

DATA = Path(__file__).parent / "data" / "shell" / "windows_path"
MINICONDA = [
    r"C:\Users\<USER>\miniconda3",
    r"C:\Users\<USER>\miniconda3\Library\mingw-w64\bin",
    r"C:\Users\<USER>\miniconda3\Library\usr\bin",
    r"C:\Users\<USER>\miniconda3\Library\bin",
    r"C:\Users\<USER>\miniconda3\Scripts",
]


def real_path(keep_paste_linebreak: bool = False) -> str:
    """The PATH value of vscode-python#19172 (JSON-unescaped; the excerpt is cut at the end)."""
    raw = (DATA / "long_PATH_in_conda_info_json_TRUNCATED__vscode-python-issue-19172.txt").read_text("utf-8")
    value = raw.split('"PATH": "', 1)[1].rstrip("\n").replace("\\\\", "\\")
    return value if keep_paste_linebreak else value.replace("Se\nrver", "Server")


def setx_limit() -> int:
    text = (DATA / "setx_truncation_warning_real_output__openFrameworks-issue-6907.txt").read_text("utf-8")
    return int(re.search(r"truncated to (\d+) characters", text).group(1))


def test_real_path_fixture_is_what_we_think():
    old = real_path()
    assert len(old) > setx_limit() == 1024
    assert old.startswith(r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA\v10.2\bin;")
    assert r";D:\ProgramData\Anaconda3\Scripts;" in old


@pytest.mark.parametrize("keep_linebreak", [False, True])
def test_prepend_to_real_long_path_keeps_every_byte(keep_linebreak):
    old = real_path(keep_linebreak)
    new = add_to_path(old, MINICONDA)
    assert new == ";".join(MINICONDA) + ";" + old
    # nothing truncated (setx would have cut it to 1,024 characters), nothing dropped or reordered
    assert len(new) == len(old) + sum(len(e) + 1 for e in MINICONDA)
    assert len(new) > setx_limit()
    assert new.endswith(old)
    assert new.split(";")[len(MINICONDA):] == old.split(";")


def test_second_add_is_none():
    once = add_to_path(real_path(), MINICONDA)
    assert add_to_path(once, MINICONDA) is None


def test_entries_already_there_in_other_spelling_are_not_added_again():
    old = real_path()
    # present in the real PATH as D:\ProgramData\Anaconda3 ... ; ask with other case, quotes, trailing \ and /
    ask = ['"d:\\programdata\\ANACONDA3\\"', "D:/ProgramData/Anaconda3/Scripts/", "d:\\programdata\\anaconda3\\library\\bin\\\\"]
    assert add_to_path(old, ask) is None
    assert path_contains(old, "D:\\PROGRAMDATA\\anaconda3\\library\\usr\\bin\\")


def test_only_missing_entries_are_prepended_in_order():
    old = r"C:\Windows;C:\Users\<USER>\MINICONDA3\scripts\;C:\Tools"
    new = add_to_path(old, MINICONDA)
    assert new == ";".join(MINICONDA[:4]) + ";" + old


def test_entries_deduplicated_among_themselves():
    assert add_to_path("C:\\x", ["C:\\a", "c:\\A\\", "C:\\b"]) == "C:\\a;C:\\b;C:\\x"


@pytest.mark.parametrize("old", [None, ""])
def test_no_old_path(old):
    assert add_to_path(old, MINICONDA[:2]) == ";".join(MINICONDA[:2])


def test_empty_segments_cleaned_only_at_the_join_point():
    old = ";;C:\\a;;C:\\b;%USERPROFILE%\\bin;"
    assert add_to_path(old, ["C:\\m"]) == "C:\\m;C:\\a;;C:\\b;%USERPROFILE%\\bin;"
    assert add_to_path(";;;", ["C:\\m"]) == "C:\\m"


def test_percent_references_and_odd_entries_are_kept_verbatim():
    old = '%SystemRoot%\\system32;"C:\\Program Files\\Quoted";  C:\\spaced  ;C:\\trailing\\'
    new = add_to_path(old, ["C:\\m"])
    assert new == "C:\\m;" + old


def test_remove_is_the_inverse_of_add():
    old = real_path()
    assert remove_from_path(add_to_path(old, MINICONDA), MINICONDA) == old


def test_remove_matches_loosely_and_keeps_the_rest():
    old = 'C:\\a;"C:\\M\\";;C:\\b;c:\\m\\scripts;C:\\c'
    assert remove_from_path(old, ["C:\\m", "C:\\m\\Scripts"]) == "C:\\a;;C:\\b;C:\\c"
    assert remove_from_path(old, ["C:\\not-there"]) is None
    assert remove_from_path(None, ["C:\\m"]) is None
    assert remove_from_path("C:\\m", ["C:\\m"]) == ""


def test_remove_keeps_other_peoples_duplicates_of_nothing_else():
    old = real_path()
    added = add_to_path(old, MINICONDA)
    # someone else prepended their own entry after us
    theirs = "C:\\Theirs;" + added
    assert remove_from_path(theirs, MINICONDA) == "C:\\Theirs;" + old


def test_posix_rules_are_case_sensitive():
    assert normalize_entry("/opt/Conda/bin/", ":") == "/opt/Conda/bin"
    assert normalize_entry("/", ":") == "/"
    assert add_to_path("/usr/bin:/opt/conda/bin", ["/opt/conda/bin/"], sep=":") is None
    assert add_to_path("/usr/bin", ["/opt/Conda/bin"], sep=":") == "/opt/Conda/bin:/usr/bin"
    assert add_to_path("/OPT/CONDA/BIN", ["/opt/conda/bin"], sep=":") == "/opt/conda/bin:/OPT/CONDA/BIN"


@pytest.mark.parametrize("bad", ["C:\\a;C:\\b", "", "  ", '""'])
def test_bad_entries_are_programming_errors(bad):
    with pytest.raises(ValueError):
        add_to_path("C:\\x", [bad])
    with pytest.raises(ValueError):
        remove_from_path("C:\\x", [bad])
