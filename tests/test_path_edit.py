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


def test_empty_segments_are_kept_even_at_the_join_point():
    # The old value stays byte for byte (empty entries at its start included), so that removing our
    # entries later gives it back exactly (issue 11: "comes back identical").
    old = ";;C:\\a;;C:\\b;%USERPROFILE%\\bin;"
    assert add_to_path(old, ["C:\\m"]) == "C:\\m;" + old
    assert remove_from_path(add_to_path(old, ["C:\\m"]), ["C:\\m"]) == old
    assert add_to_path(";;;", ["C:\\m"]) == "C:\\m;;;;"
    assert add_to_path("", ["C:\\m"]) == "C:\\m"


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


# ---- rules that mutation testing found unchecked (docs/testing.md) -------------------------

def test_posix_entries_compare_case_sensitively_in_every_function():
    # ":" rules: "/opt/Conda" and "/opt/conda" are different folders on Linux and macOS (case-sensitive APFS too).
    assert add_to_path("/opt/conda", ["/opt/Conda"], sep=":") == "/opt/Conda:/opt/conda"
    assert add_to_path("/usr/bin", ["/opt/A", "/opt/a"], sep=":") == "/opt/A:/opt/a:/usr/bin"
    assert remove_from_path("/opt/Conda:/usr/bin", ["/opt/conda"], sep=":") is None
    assert remove_from_path("/opt/conda/:/usr/bin", ["/opt/conda"], sep=":") == "/usr/bin"
    assert path_contains("/opt/Conda:/usr/bin", "/opt/conda", sep=":") is False
    assert path_contains("/opt/conda/:/usr/bin", "/opt/conda", sep=":") is True


@pytest.mark.parametrize("sep, a, b", [
    (";", r"C:\tools\BOX", r"C:\tools\BO"),
    (";", r"C:\X", "C:\\"),
    (":", "/opt/BOX", "/opt/BO"),
])
def test_entries_differing_only_in_trailing_letters_are_different(sep, a, b):
    assert normalize_entry(a, sep) != normalize_entry(b, sep)
    assert path_contains(a, b, sep) is False
    assert add_to_path(a, [b], sep) == f"{b}{sep}{a}"


def test_quoted_windows_entry_keeps_its_letters():
    assert normalize_entry('"C:\\Program Files\\X"') == "c:\\program files\\x"
    assert normalize_entry("X:\\Tools") == "x:\\tools"


def test_no_path_contains_nothing():
    assert path_contains(None, r"C:\miniconda3") is False
    assert path_contains("", "/opt/conda", sep=":") is False


@pytest.mark.parametrize("entries, match", [([r"C:\a;C:\b"], "contains the separator ';'"), (["  "], "empty")])
def test_bad_entries_are_refused_with_the_reason(entries, match):
    for call in (add_to_path, remove_from_path):
        with pytest.raises(ValueError, match=match):
            call(r"C:\x", entries)


# ---- issue 11: a long Windows PATH with odd entries, %VAR% forms, exact round trip ----------------

#: Entries of the kinds real PATHs have (trailing "\", "(x86)", spaces, %VARS%, quotes, an empty entry,
#: duplicates in other spellings), repeated with numbers until the value is over 2,048 characters.
ODD = [
    r"C:\Program Files (x86)\Common Files\Oracle\Java\javapath",
    r"%SystemRoot%\system32",
    r"%SystemRoot%",
    r"%SYSTEMROOT%\System32\Wbem",
    r"C:\Program Files\Git\cmd\\",
    r"C:\Tools\trailing\\",
    r"  C:\Program Files\spaced dir  ",
    r'"C:\Program Files\Quoted App\bin"',
    "",
    r"%USERPROFILE%\AppData\Local\Microsoft\WindowsApps",
    r"c:\program files\git\CMD",
    r"%USERPROFILE%\.dotnet\tools",
    r"C:\Program Files (x86)\NVIDIA Corporation\PhysX\Common",
]


def odd_windows_path() -> str:
    entries = list(ODD)
    n = 0
    while len(";".join(entries)) <= 2100:
        n += 1
        entries.append(rf"C:\Program Files (x86)\Vendor {n}\bin\\")
        entries.append(rf"%LOCALAPPDATA%\Programs\Tool {n}")
    return ";" + ";".join(entries) + ";"  # an empty entry at both ends too


def test_odd_long_path_round_trip_is_byte_identical():
    old = odd_windows_path()
    assert len(old) > 2048
    new = add_to_path(old, MINICONDA)
    assert new == ";".join(MINICONDA) + ";" + old
    assert remove_from_path(new, MINICONDA) == old


WIN_VARS = {"USERPROFILE": r"C:\Users\<USER>", "SystemRoot": r"C:\Windows", "LOCALAPPDATA": r"C:\Users\<USER>\AppData\Local"}


def expand(value: str) -> str:
    from app.core.win_registry import expand_vars

    return expand_vars(value, WIN_VARS)


@pytest.mark.parametrize("present", [
    r"%USERPROFILE%\miniconda3\Scripts",
    r"%userprofile%\MINICONDA3\scripts\\",
    r'"%USERPROFILE%\miniconda3\Scripts\"',
])
def test_percent_forms_count_as_their_expansion(present):
    old = r"%SystemRoot%\system32;" + present
    new = add_to_path(old, MINICONDA, expand=expand)
    assert new == ";".join(MINICONDA[:4]) + ";" + old  # Scripts is there already, as a %USERPROFILE% form
    assert path_contains(old, MINICONDA[4], expand=expand)
    assert not path_contains(old, MINICONDA[4])  # without expansion it would be added twice
    assert remove_from_path(new, MINICONDA[:4]) == old  # their %USERPROFILE% entry stays


def test_unknown_variables_stay_unexpanded():
    assert expand(r"%NOPE%\x;%USERPROFILE%") == r"%NOPE%\x;C:\Users\<USER>"
    assert add_to_path(r"%NOPE%\miniconda3", [r"C:\Users\<USER>\miniconda3"], expand=expand) is not None


def test_posix_paths_are_never_expanded():
    assert add_to_path("%HOME%/bin", ["/home/u/bin"], sep=":", expand=lambda v: "/home/u/bin") == "/home/u/bin:%HOME%/bin"
