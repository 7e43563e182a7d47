"""app.core.windows_setup / powershell: PowerShell profiles, cmd AutoRun, PEP 514, PATH, next steps.

Windows cannot run here: the registry, the Documents known folder and PowerShell itself come from
:class:`~app.core.win_registry.FakeUserEnvironment`; the profiles are real files in a temporary
"Documents" folder, and undo is the real :func:`app.core.shell_setup.undo`.
Real profiles: tests/data/shell/powershell/ (sources in tests/data/shell/README.md).
"""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pytest

from app.core import powershell, windows_setup
from app.core.errors import ShellSetupError
from app.core.events import RecordingReporter
from app.core.file_edit import sha256_file
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.powershell import POWERSHELLS, edit_profile_text, profile_block
from app.core.shell_setup import apply, last_run, summarize, undo
from app.core.win_registry import REG_EXPAND_SZ, REG_SZ, FakeUserEnvironment, UserEnvironment
from app.core.windows_setup import (
    AUTORUN,
    CMD_KEY,
    autorun_hook,
    autorun_with_hook,
    autorun_without_hook,
    next_steps_header,
    windows_shells,
)

DATA = Path(__file__).parent / "data" / "shell" / "powershell"
WINDOWS = PlatformInfo("Windows", "x86_64")
PREFIX = Path(r"C:\Users\<USER>\miniconda3")
PS51 = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
PWSH = r"C:\Program Files\PowerShell\7\pwsh.exe"
CONDA_EXE = r"C:\Users\<USER>\miniconda3\Scripts\conda.exe"
HOOK = r'if exist "C:\Users\<USER>\miniconda3\condabin\conda_hook.bat" "C:\Users\<USER>\miniconda3\condabin\conda_hook.bat"'

# The table `Get-ExecutionPolicy -List` prints (format as in real transcripts; enum names are not translated).
POLICY_TABLE = """
        Scope ExecutionPolicy
        ----- ---------------
MachinePolicy       {MachinePolicy}
   UserPolicy       {UserPolicy}
      Process       {Process}
  CurrentUser       {CurrentUser}
 LocalMachine       {LocalMachine}

"""


def policy_output(**scopes: str) -> str:
    values = dict.fromkeys(powershell.SCOPES, "Undefined") | scopes
    return POLICY_TABLE.format(**values)


REMOTESIGNED = (0, policy_output(LocalMachine="RemoteSigned"))


def messages(rep: RecordingReporter, level: str | None = None) -> list[str]:
    return [line for _stage, line, lvl in rep.of("log") if level is None or lvl == level]


def real(name: str) -> str:
    return (DATA / name).read_text("utf-8")


@pytest.fixture
def docs(tmp_path):
    d = tmp_path / "OneDrive" / "Documents"
    d.mkdir(parents=True)
    return d


@pytest.fixture
def journal(tmp_path):
    return tmp_path / "state" / "changes.json"


def fake(docs, *, pwsh=True, policy=REMOTESIGNED, values=None, variables=None):
    programs = {"powershell": PS51}
    if pwsh:
        programs["pwsh"] = PWSH
    return FakeUserEnvironment(values, variables=variables, documents=str(docs), programs=programs,
                               outputs={PS51: policy, PWSH: policy})


def plan(*shells, add_to_path=False, register_python=False):
    return InstallPlan(platform=WINDOWS, init_shells=tuple(shells), add_to_path=add_to_path,
                       register_python=register_python)


def run(p, env, journal, reporter=None):
    return apply(p, PREFIX, reporter or RecordingReporter(), user_env=env, python_version=lambda _p: "3.13",
                 journal_path=journal)


def ps51_profile(docs):
    return docs / "WindowsPowerShell" / "profile.ps1"


def ps7_profile(docs):
    return docs / "PowerShell" / "profile.ps1"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# ---- the block --------------------------------------------------------------------------------


def test_block_is_what_conda_init_powershell_writes():
    # The real profile (vunhatchuong) holds conda's block for C:\Users\<USER>\miniconda3, lines 3-8.
    lines = real("powershell_profile_standard_block__vunhatchuong-dotfiles.ps1.txt").split("\n")
    assert "\n".join(lines[2:8]) + "\n" == profile_block(PREFIX)
    assert powershell.conda_exe(PREFIX) == CONDA_EXE


def test_profile_paths_are_current_user_all_hosts_under_documents(docs):
    assert [powershell.profile_path(docs, k) for k in POWERSHELLS] == [ps51_profile(docs), ps7_profile(docs)]


@pytest.mark.parametrize("names, want", [
    (("auto",), ["powershell"]),
    (("powershell",), ["powershell"]),
    (("cmd",), ["cmd"]),
    (("cmd.exe", "PowerShell"), ["powershell", "cmd"]),
    (("auto", "cmd"), ["powershell", "cmd"]),
    (("bash", "zsh"), []),
    ((), []),
])
def test_windows_shells_cmd_only_when_named(names, want):
    assert windows_shells(names) == want


# ---- PowerShell profiles through apply / undo ---------------------------------------------------


def test_new_profiles_for_both_powershells_are_byte_identical_to_conda_init(docs, journal):
    env = fake(docs)
    changes = run(plan("powershell"), env, journal)
    expected = crlf("\n" + profile_block(PREFIX) + "\n").encode()  # conda: text mode on Windows -> CRLF
    assert ps51_profile(docs).read_bytes() == expected
    assert ps7_profile(docs).read_bytes() == expected
    assert [(c.shell, c.action, c.changed) for c in changes] == [("powershell", "added", True)] * 2
    assert "created with the conda initialize region" in changes[0].detail
    assert env.runs == [powershell.policy_argv(PS51), powershell.policy_argv(PWSH)]
    assert env.runs[0] == [PS51, "-NoProfile", "-NonInteractive", "-Command", "Get-ExecutionPolicy -List"]
    assert env.broadcasts == 0  # no environment variable changed
    undo(last_run(journal), None, user_env=env, journal_path=journal)
    assert not ps51_profile(docs).exists() and not ps7_profile(docs).exists()


def test_only_installed_powershells_get_a_profile(docs, journal):
    env = fake(docs, pwsh=False)
    rep = RecordingReporter()
    [c] = run(plan("auto"), env, journal, rep)
    assert c.path == ps51_profile(docs)
    assert not ps7_profile(docs).exists()
    assert any("PowerShell 7 is not installed" in m for m in messages(rep))


def test_existing_profile_keeps_every_other_byte_and_second_run_changes_nothing(docs, journal):
    old = b"\xef\xbb\xbf" + crlf(". \"$env:USERPROFILE\\.config\\powershell\\config.ps1\"\n"
                                 "Invoke-Expression (&starship init powershell)").encode()
    ps7_profile(docs).parent.mkdir()
    ps7_profile(docs).write_bytes(old)
    env = fake(docs, pwsh=True)
    first = run(plan("powershell"), env, journal)
    data = ps7_profile(docs).read_bytes()
    assert data == old + crlf("\n" + profile_block(PREFIX) + "\n").encode()
    assert first[1].backup is not None and first[1].backup.read_bytes() == old
    n_files = len(list(ps7_profile(docs).parent.iterdir()))
    second = run(plan("powershell"), env, journal)
    assert [c.action for c in second] == ["unchanged", "unchanged"]
    assert ps7_profile(docs).read_bytes() == data
    assert len(list(ps7_profile(docs).parent.iterdir())) == n_files
    undo(last_run(journal), None, user_env=env, journal_path=journal)
    undo([e for c in first for e in c.entries], None, user_env=env, journal_path=journal)
    assert ps7_profile(docs).read_bytes() == old


def test_standard_block_already_there_is_unchanged(docs, journal):
    text = real("powershell_profile_standard_block__vunhatchuong-dotfiles.ps1.txt")
    edit = edit_profile_text(text, PREFIX)
    assert (edit.action, edit.text) == ("unchanged", text)


def test_older_block_without_test_path_is_replaced_in_place_and_other_tools_kept():
    text = real("powershell_profile_older_block_no_testpath__NikkiSatmaka-dotfiles.ps1.txt")
    prefix = r"C:\tools\miniconda3"
    edit = edit_profile_text(text, prefix)
    assert edit.action == "replaced" and "older or hand-edited" in edit.detail
    before, _, after = text.partition("#region conda initialize\n")
    assert edit.text.startswith(before)  # Chocolatey and starship lines untouched
    assert profile_block(prefix) in edit.text
    assert edit.text.endswith(after.split("#endregion\n", 1)[1])
    assert edit_profile_text(edit.text, prefix).action == "unchanged"


def test_block_for_another_prefix_is_replaced_and_named():
    text = real("powershell_profile_scoop_path__eric-gitta-moore-os-starter.ps1.txt")
    edit = edit_profile_text(text, PREFIX)
    assert edit.detail == r"replaced the conda initialize region written for C:\Users\<USER>\scoop\apps\miniconda3\current"
    assert edit.text == profile_block(PREFIX)
    no_last_newline = edit_profile_text(text.rstrip("\n"), PREFIX)
    assert no_last_newline.text == profile_block(PREFIX).rstrip("\n")  # a file that ends at #endregion still does


def test_hand_rewritten_block_is_replaced_like_conda_does():
    text = real("powershell_profile_block_hand_rewritten__jfishe-PowerShell.ps1.txt")
    edit = edit_profile_text(text, PREFIX)
    assert edit.action == "replaced"
    assert edit.text == profile_block(PREFIX) + "\n"


def test_other_regions_and_duplicates():
    mamba = ("#region mamba initialize\n$Env:MAMBA_ROOT_PREFIX = \"C:\\mamba\"\n#endregion\n")
    text = mamba + "\n" + profile_block(r"C:\old") + "\nWrite-Host hi\n" + profile_block(r"C:\old2")
    edit = edit_profile_text(text, PREFIX)
    assert edit.text == mamba + "\n" + profile_block(PREFIX) + "\nWrite-Host hi\n"
    assert "removed 1 duplicate region(s)" in edit.detail


def test_broken_region_is_refused_and_nothing_changes(docs, journal):
    ps7_profile(docs).parent.mkdir()
    ps7_profile(docs).write_text("Set-Alias g git\n#region conda initialize\n# cut\n", "utf-8")
    env = fake(docs, values={"Path": ("C:\\Windows", REG_EXPAND_SZ)})
    with pytest.raises(ShellSetupError, match="line 2") as err:
        run(plan("powershell", add_to_path=True), env, journal)
    assert "#endregion" in err.value.fix
    assert env.get("Path") == ("C:\\Windows", REG_EXPAND_SZ)  # checked before any change
    assert not ps51_profile(docs).exists()


@pytest.mark.parametrize("bom, codec", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_utf16_profile_from_windows_powershell_stays_utf16(docs, journal, bom, codec):
    # Windows PowerShell 5.1's `"..." > $PROFILE` writes UTF-16 LE with a BOM.
    old = bom + "Set-Alias g git\r\n".encode(codec)
    ps51_profile(docs).parent.mkdir()
    ps51_profile(docs).write_bytes(old)
    env = fake(docs, pwsh=False)
    run(plan("powershell"), env, journal)
    data = ps51_profile(docs).read_bytes()
    assert data[:2] == bom
    assert data[2:].decode(codec) == "Set-Alias g git\r\n" + crlf("\n" + profile_block(PREFIX) + "\n")
    undo(last_run(journal), None, user_env=env, journal_path=journal)
    assert ps51_profile(docs).read_bytes() == old


def test_prefix_that_breaks_powershell_quoting_is_refused(docs, journal):
    with pytest.raises(ShellSetupError, match="quoting"):
        apply(plan("powershell"), Path(r"C:\a$b"), RecordingReporter(), user_env=fake(docs), journal_path=journal)


def test_no_documents_folder_is_refused(docs, journal):
    env = fake(docs)
    env.documents = None
    with pytest.raises(ShellSetupError, match="Documents"):
        run(plan("powershell"), env, journal)


# ---- execution policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("scopes, want", [
    ({}, ("Restricted", "default")),
    ({"LocalMachine": "RemoteSigned"}, ("RemoteSigned", "LocalMachine")),
    ({"CurrentUser": "Restricted", "LocalMachine": "RemoteSigned"}, ("Restricted", "CurrentUser")),
    ({"Process": "Bypass"}, ("Restricted", "default")),  # the wizard's own process does not count
    ({"MachinePolicy": "AllSigned", "CurrentUser": "RemoteSigned"}, ("AllSigned", "MachinePolicy")),
])
def test_effective_policy(scopes, want):
    verdict = powershell.effective_policy(powershell.parse_policy_list(policy_output(**scopes)))
    assert (verdict.policy, verdict.scope) == want


def test_restricted_policy_is_explained_and_never_changed(docs, journal):
    env = fake(docs, pwsh=False, policy=(0, policy_output()))
    rep = RecordingReporter()
    changes = run(plan("powershell"), env, journal, rep)
    assert [(c.action, c.shell) for c in changes] == [("added", "powershell"), ("skipped", "powershell")]
    note = changes[1].notes[0]
    assert "Restricted" in note and "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned" in note
    assert "does not change the policy" in note
    assert all("Get-ExecutionPolicy" in r[-1] for r in env.runs)  # only read, never Set-ExecutionPolicy
    assert any(w.endswith(note) for w in messages(rep, "warning"))
    assert "not set up: powershell" in summarize(changes)


def test_group_policy_allsigned_names_the_administrator(docs, journal):
    env = fake(docs, pwsh=False, policy=(0, policy_output(MachinePolicy="AllSigned")))
    changes = run(plan("powershell"), env, journal)
    note = changes[1].notes[0]
    assert "AllSigned" in note and "Group Policy" in note and "administrator" in note


@pytest.mark.parametrize("answer", [FileNotFoundError(2, "not found"), TimeoutError("slow"), (1, "error")])
def test_unreadable_policy_gives_a_hint_but_no_failure(docs, journal, answer):
    env = fake(docs, pwsh=False, policy=answer)
    [c] = run(plan("powershell"), env, journal)
    assert c.action == "added"
    assert "Could not read the execution policy" in c.notes[0]


# ---- cmd.exe AutoRun ----------------------------------------------------------------------------


def test_autorun_hook_is_condas():
    assert autorun_hook(PREFIX) == HOOK


@pytest.mark.parametrize("old, new", [
    (None, HOOK),
    ("", HOOK),
    ("doskey /macrofile=C:\\mac.txt", "doskey /macrofile=C:\\mac.txt & " + HOOK),
    ("  @echo off  ", "@echo off & " + HOOK),
    ('if exist "C:\\old\\condabin\\conda_hook.bat" "C:\\old\\condabin\\conda_hook.bat" & doskey ls=dir',
     HOOK + " & doskey ls=dir"),
    ('"C:\\Anaconda3\\condabin\\conda_hook.bat" & "C:\\Anaconda3\\condabin\\conda_hook.bat"', HOOK),
    (HOOK, None),
    ("doskey ls=dir & " + HOOK, None),
    ('if exist "C:\\a\\condabin\\conda_hook.bat" "C:\\a\\condabin\\conda_hook.bat" & '
     'if exist "C:\\b\\condabin\\conda_hook.bat" "C:\\b\\condabin\\conda_hook.bat"', HOOK),
])
def test_autorun_value_as_conda_computes_it(old, new):
    assert autorun_with_hook(old, PREFIX)[0] == new


def test_autorun_without_hook_keeps_the_rest():
    assert autorun_without_hook("doskey ls=dir & " + HOOK, HOOK) == "doskey ls=dir"
    assert autorun_without_hook(HOOK + " & doskey ls=dir", HOOK) == "doskey ls=dir"
    assert autorun_without_hook(HOOK, HOOK) == ""
    assert autorun_without_hook("doskey ls=dir", HOOK) is None


def test_cmd_autorun_kept_joined_journalled_and_undone(docs, journal):
    env = fake(docs)
    env.set_key_value(CMD_KEY, AUTORUN, "doskey /macrofile=C:\\mac.txt", REG_SZ)
    env.set_key_value(CMD_KEY, "CompletionChar", "9")
    [c] = run(plan("cmd"), env, journal)
    assert env.query_key_value(CMD_KEY, AUTORUN) == ("doskey /macrofile=C:\\mac.txt & " + HOOK, REG_SZ)
    assert (c.shell, c.action) == ("cmd", "registry")
    [e] = c.entries
    assert (e.value_before, e.type_before, e.type_after, e.added) == ("doskey /macrofile=C:\\mac.txt", REG_SZ,
                                                                       REG_SZ, [HOOK])
    assert run(plan("cmd"), env, journal)[0].action == "unchanged"
    undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.query_key_value(CMD_KEY, AUTORUN) == ("doskey /macrofile=C:\\mac.txt", REG_SZ)


def test_cmd_autorun_created_then_removed_keeps_the_key(docs, journal):
    env = fake(docs)
    env.set_key_value(CMD_KEY, "CompletionChar", "9")
    [c] = run(plan("cmd.exe"), env, journal)
    assert env.query_key_value(CMD_KEY, AUTORUN) == (HOOK, REG_EXPAND_SZ)  # conda's type for a new value
    undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.query_key_value(CMD_KEY, AUTORUN) is None
    assert env.get_key_value(CMD_KEY, "CompletionChar") == "9"


def test_cmd_autorun_changed_since_loses_only_our_hook(docs, journal):
    env = fake(docs)
    [c] = run(plan("cmd"), env, journal)
    env.set_key_value(CMD_KEY, AUTORUN, HOOK + " & doskey ls=dir", REG_EXPAND_SZ)  # another tool appended
    [u] = undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.query_key_value(CMD_KEY, AUTORUN) == ("doskey ls=dir", REG_EXPAND_SZ)
    assert "only the wizard's part" in u.detail


def test_cmd_autorun_of_an_older_install_is_replaced_with_a_note(docs, journal):
    env = fake(docs)
    old = 'if exist "C:\\ProgramData\\Anaconda3\\condabin\\conda_hook.bat" "C:\\ProgramData\\Anaconda3\\condabin\\conda_hook.bat"'
    env.set_key_value(CMD_KEY, AUTORUN, old, REG_EXPAND_SZ)
    [c] = run(plan("cmd"), env, journal)
    assert env.get_key_value(CMD_KEY, AUTORUN) == HOOK
    assert any("Anaconda3" in n for n in c.notes)


def test_cmd_autorun_of_odd_type_is_refused(docs, journal):
    env = fake(docs)
    env.set_key_value(CMD_KEY, AUTORUN, "1", 4)
    with pytest.raises(ShellSetupError, match="unexpected type"):
        run(plan("cmd"), env, journal)


# ---- PEP 514 ------------------------------------------------------------------------------------


def test_pep514_writes_windowed_executable_and_undo_restores_python_org(docs, journal):
    sub = r"Software\Python\PythonCore\3.13\InstallPath"
    env = fake(docs)
    env.set_key_value(sub, "", "C:\\Python313\\")
    env.set_key_value(sub, "ExecutablePath", "C:\\Python313\\python.exe")
    env.set_key_value(sub, "WindowedExecutablePath", "C:\\Python313\\pythonw.exe")
    [c] = run(plan(register_python=True), env, journal)
    assert env.keys[sub.casefold()] == {
        "": str(PREFIX),
        "executablepath": str(PREFIX) + "\\python.exe",
        "windowedexecutablepath": str(PREFIX) + "\\pythonw.exe",
    }
    undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.get_key_value(sub, "WindowedExecutablePath") == "C:\\Python313\\pythonw.exe"
    assert env.get_key_value(sub, "ExecutablePath") == "C:\\Python313\\python.exe"
    assert env.get_key_value(sub, "") == "C:\\Python313\\"


# ---- every registry value at once ---------------------------------------------------------------


def test_exact_registry_values_written_and_all_undone(docs, journal):
    env = fake(docs, values={"Path": ("%USERPROFILE%\\bin;C:\\Windows", REG_EXPAND_SZ)})
    env.set_key_value(CMD_KEY, "CompletionChar", "9")  # the key exists on every Windows
    before = (dict(env.values), {k: dict(v) for k, v in env.keys.items()})
    changes = run(plan("powershell", "cmd", add_to_path=True, register_python=True), env, journal)
    entries = windows_setup.windows_path_entries(PREFIX)
    assert env.values == {"Path": (";".join(entries) + ";%USERPROFILE%\\bin;C:\\Windows", REG_EXPAND_SZ)}
    assert env.keys == {
        r"software\python\pythoncore\3.13\installpath": {
            "": r"C:\Users\<USER>\miniconda3",
            "executablepath": r"C:\Users\<USER>\miniconda3\python.exe",
            "windowedexecutablepath": r"C:\Users\<USER>\miniconda3\pythonw.exe",
        },
        r"software\microsoft\command processor": {"completionchar": "9", "autorun": HOOK},
    }
    assert env.key_types[(CMD_KEY.casefold(), "autorun")] == REG_EXPAND_SZ
    assert env.broadcasts == 1
    assert [c.shell for c in changes] == ["", "", "powershell", "powershell", "cmd"]
    undo(last_run(journal), None, user_env=env, journal_path=journal)
    assert (env.values, env.keys) == before
    assert sha256_file(ps51_profile(docs)) is None and sha256_file(ps7_profile(docs)) is None


def test_fake_keeps_the_protocol():
    assert isinstance(FakeUserEnvironment(), UserEnvironment)


# ---- next steps ---------------------------------------------------------------------------------


def header(docs, journal, *shells, policy=REMOTESIGNED, add_to_path=False):
    env = fake(docs, policy=policy)
    p = plan(*shells, add_to_path=add_to_path)
    return "\n".join(next_steps_header(p, run(p, env, journal), PREFIX))


def test_next_steps_powershell_set_up(docs, journal):
    text = header(docs, journal, "powershell")
    assert text == "# Open a new PowerShell or Windows Terminal window (conda is set up there), then:"


def test_next_steps_powershell_and_cmd(docs, journal):
    assert "PowerShell or Windows Terminal or cmd.exe window" in header(docs, journal, "powershell", "cmd")


def test_next_steps_without_powershell_never_promise_conda_activate_there(docs, journal):
    text = header(docs, journal, add_to_path=True)
    assert "PowerShell is not set up for conda" in text
    assert f"{CONDA_EXE} init powershell" in text
    assert "Anaconda Prompt (miniconda3)" in text


def test_next_steps_restricted_policy_gives_the_command(docs, journal):
    lines = header(docs, journal, "powershell", policy=(0, policy_output())).split("\n")
    assert lines[1] == "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned"
    assert "Anaconda Prompt" in lines[2]


def test_next_steps_group_policy_and_cmd(docs, journal):
    text = header(docs, journal, "powershell", "cmd", policy=(0, policy_output(UserPolicy="Restricted")))
    assert "Group Policy" in text and "Set-ExecutionPolicy" not in text
    assert "# Open a new cmd.exe window (conda is set up there), then:" in text


def test_next_steps_with_no_step_4_result():
    text = "\n".join(next_steps_header(plan(), [], PureWindowsPath(r"C:\mc")))
    assert r"C:\mc\Scripts\conda.exe init powershell" in text and "Anaconda Prompt" in text


# ---- PATH: the done-when case through the registry ----------------------------------------


def odd_path():
    from tests.test_path_edit import odd_windows_path

    return odd_windows_path()


@pytest.mark.parametrize("kind", [REG_EXPAND_SZ, REG_SZ])
def test_long_odd_user_path_add_then_undo_is_byte_identical(docs, journal, kind):
    old = odd_path()
    assert len(old) > 2048
    env = fake(docs, values={"Path": (old, kind)}, variables={"USERPROFILE": r"C:\Users\<USER>"})
    [c] = run(plan(add_to_path=True), env, journal)
    assert env.get("Path") == (";".join(windows_setup.windows_path_entries(PREFIX)) + ";" + old, kind)
    undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.get("Path") == (old, kind)


def test_long_odd_user_path_changed_since_still_comes_back_exactly(docs, journal):
    old = odd_path()
    env = fake(docs, values={"Path": (old, REG_EXPAND_SZ)})
    [c] = run(plan(add_to_path=True), env, journal)
    env.set("Path", r"C:\NodeJS;" + env.get("Path")[0], REG_EXPAND_SZ)  # another installer, after us
    undo(c.entries, None, user_env=env, journal_path=journal)
    assert env.get("Path") == (r"C:\NodeJS;" + old, REG_EXPAND_SZ)


def test_userprofile_form_of_our_entry_is_not_added_again(docs, journal):
    old = r"%USERPROFILE%\miniconda3;%USERPROFILE%\miniconda3\Scripts\;C:\Windows"
    env = fake(docs, values={"Path": (old, REG_EXPAND_SZ)}, variables={"USERPROFILE": r"C:\Users\<USER>"})
    [c] = run(plan(add_to_path=True), env, journal)
    entries = windows_setup.windows_path_entries(PREFIX)
    assert env.get("Path") == (";".join(entries[1:4]) + ";" + old, REG_EXPAND_SZ)
    assert c.entries[0].added == entries[1:4]


def test_silent_summary_on_windows_is_worded_for_the_terminals(docs, journal, tmp_path):
    from app import silent
    from app.core.conda_env import EnvResult
    from app.core.pipeline import RunState

    p = plan("powershell", add_to_path=True)
    state = RunState()
    state.env = EnvResult("llm", tmp_path, tmp_path / "python.exe")
    text = silent._next_steps(p, state)  # step 4 did not run: nothing set up
    assert "Open a new terminal" not in text
    assert "init powershell" in text and "Anaconda Prompt (miniconda3)" in text
    assert text.split("\n").index("conda activate llm") > text.split("\n").index(
        next(x for x in text.split("\n") if "Anaconda Prompt" in x))
    state.shell_changes = run(p, fake(docs), journal)
    text = silent._next_steps(p, state)
    assert "# Open a new PowerShell or Windows Terminal window (conda is set up there), then:\nconda activate llm" in text


def test_find_program_on_path_then_standard_folders():
    from app.core.win_registry import find_program

    def expand(v):
        return v.replace("%SystemRoot%", r"C:\Windows").replace("%ProgramFiles%", r"C:\Program Files")

    assert find_program("pwsh", expand, which=lambda n: r"D:\bin\pwsh.exe", exists=lambda p: False) == r"D:\bin\pwsh.exe"
    assert find_program("powershell", expand, which=lambda n: None, exists=lambda p: p == PS51) == PS51
    assert find_program("pwsh", expand, which=lambda n: None, exists=lambda p: p == PWSH) == PWSH
    assert find_program("pwsh", lambda v: v, which=lambda n: None, exists=lambda p: True) is None  # unexpanded
    assert find_program("pwsh", expand, which=lambda n: None, exists=lambda p: False) is None


def test_created_profile_edited_since_names_powershell_in_the_fix(docs, journal):
    env = fake(docs, pwsh=False)
    run(plan("powershell"), env, journal)
    ps51_profile(docs).write_text("edited", "utf-8")
    with pytest.raises(ShellSetupError) as err:
        undo(last_run(journal), None, user_env=env, journal_path=journal)
    assert "conda init --reverse powershell" in err.value.fix
    assert ps51_profile(docs).read_text("utf-8") == "edited"
