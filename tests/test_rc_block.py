"""app.core.rc_block edge cases found by mutation testing (docs/testing.md): exact notes, details and
error messages of the pure rc-text edits, other tools' blocks, BOM and end-of-file handling."""

from __future__ import annotations

import pytest

from app.core.rc_block import (
    BEGIN_MARKER,
    CRLF_NOTE,
    END_MARKER,
    BlockError,
    conda_block,
    edit_rc_text,
    find_blocks,
    remove_blocks_text,
    _split_lines,
)

P = "/home/u/miniconda3"
STRAY = 'export PATH="/opt/miniconda3/bin:$PATH"'


def lines(*rows: str) -> str:
    return "".join(r + "\n" for r in rows)


def stray_note(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return (f"line {numbers[0]} sets up a conda outside the conda initialize block; left as is, but it may put "
                f"another conda than {P} first on PATH")
    return (f"lines {', '.join(map(str, numbers))} set up a conda outside the conda initialize block; left as is, "
            f"but they may put another conda than {P} first on PATH")


def test_lines_inside_another_tools_block_are_not_called_stray():
    text = lines(
        STRAY,                                                      # 1: stray, before the mamba block
        "# >>> mamba initialize >>>",                               # 2
        "# !! Contents within this block are managed by 'mamba shell init' !!",
        "export MAMBA_EXE='/home/u/miniforge3/bin/mamba';",         # looks like conda setup, but is mamba's
        "export MAMBA_ROOT_PREFIX='/home/u/miniforge3';",
        '. "/home/u/miniforge3/etc/profile.d/conda.sh"',            # last body line, also mamba's
        "# <<< mamba initialize <<<",                               # 7
        'export PATH="/home/u/miniconda3/bin:$PATH"',               # 8: stray, right after the block
        '# export PATH="/old/miniconda3/bin:$PATH"',                # commented out: not stray
    )
    edit = edit_rc_text(text, P, "bash")
    assert edit.action == "added"
    assert edit.detail == "added the conda initialize block"
    assert edit.notes == ("the 'mamba initialize' block at line 2 is left as is", stray_note([1, 8]))
    assert edit.text == text + "\n" + conda_block(P, "bash") + "\n"


def test_adjacent_empty_and_unterminated_foreign_blocks():
    text = lines(
        "# >>> mamba initialize >>>",                               # 1: an empty block
        "# <<< mamba initialize <<<",
        "# >>> mamba initialize >>>",                               # 3: right after the first one
        "export MAMBA_EXE='/home/u/miniforge3/bin/mamba';",
        "# <<< mamba initialize <<<",
        STRAY,                                                      # 6
        "# >>> micromamba initialize >>>",                          # 7: never closed
        'export PATH="/opt/miniforge3/bin:$PATH"',                  # 8: so this one is outside any block
    )
    edit = edit_rc_text(text, P, "bash")
    assert edit.notes == (
        "the 'mamba initialize' block at line 1 is left as is",
        "the 'mamba initialize' block at line 3 is left as is",
        "the 'micromamba initialize' block at line 7 is left as is",
        stray_note([6, 8]),
    )


def test_our_own_block_is_not_another_tools_block_and_one_stray_line_is_it():
    text = lines("alias ll='ls -l'", STRAY) + conda_block(P, "bash")
    edit = edit_rc_text(text, P, "bash")
    assert edit.action == "unchanged"
    assert edit.text == text
    assert edit.detail == f"the conda initialize block for {P} is already there; nothing changed"
    assert edit.notes == (stray_note([2]),)


def test_a_hand_edited_last_body_line_is_part_of_the_block_not_stray():
    block = conda_block(P, "bash").splitlines()
    block.insert(-1, 'export PATH="/home/u/miniconda3/bin:$PATH"')  # hand-added just before the end marker
    text = lines(STRAY, *block)
    edit = edit_rc_text(text, P, "bash")
    assert edit.action == "replaced"
    assert edit.detail == "replaced a hand-edited conda initialize block"
    assert edit.notes == (stray_note([1]),)
    assert edit.text == lines(STRAY) + conda_block(P, "bash")


def test_empty_block_is_replaced_as_hand_edited():
    text = lines("x=1", BEGIN_MARKER, END_MARKER, "y=2")
    edit = edit_rc_text(text, P, "zsh")
    assert edit.action == "replaced"
    assert edit.detail == "replaced a hand-edited conda initialize block"
    assert edit.text == lines("x=1") + conda_block(P, "zsh") + lines("y=2")


def test_trailing_blank_on_a_block_line_is_a_hand_edit():
    block = conda_block(P, "bash").splitlines()
    block[-2] += "  "  # "unset __conda_setup  "
    edit = edit_rc_text(lines(*block), P, "bash")
    assert edit.action == "replaced"
    assert edit.text == conda_block(P, "bash")


def test_single_replaced_block_names_no_duplicates():
    old = conda_block("/opt/other", "bash")
    edit = edit_rc_text(old, P, "bash")
    assert edit.detail == "replaced the conda initialize block written for /opt/other"
    assert edit.text == conda_block(P, "bash")


def test_duplicate_of_our_block_is_removed_and_the_first_kept():
    ours = conda_block(P, "bash")
    edit = edit_rc_text(ours + "\n" + ours, P, "bash")
    assert edit.action == "replaced"
    assert edit.detail == f"kept the conda initialize block for {P}; removed 1 duplicate block(s)"
    assert edit.text == ours


def test_block_at_end_of_file_without_newline_stays_without_newline():
    text = "x=1\n" + conda_block("/opt/other", "bash").rstrip("\n")
    edit = edit_rc_text(text, P, "bash")
    assert edit.text == "x=1\n" + conda_block(P, "bash").rstrip("\n")


def test_block_whose_last_line_ends_in_a_bare_cr_is_rewritten_with_lf():
    text = conda_block(P, "bash").rstrip("\n") + "\r"  # a CRLF file whose last line lost its \n
    edit = edit_rc_text(text, P, "bash")
    assert edit.action == "replaced"
    assert edit.text == conda_block(P, "bash").rstrip("\n")


def test_no_preamble_appends_exactly_what_conda_writes():
    assert edit_rc_text("", P, "bash").text == "\n" + conda_block(P, "bash") + "\n"


def test_bom_before_a_block_on_the_first_line():
    ours = conda_block(P, "bash")
    edit = edit_rc_text("\ufeff" + conda_block("/opt/other", "bash") + "y=2\n", P, "bash")
    assert edit.action == "replaced"
    assert edit.text == "\ufeff" + ours + "y=2\n"
    assert edit_rc_text("\ufeff" + ours, P, "bash").action == "unchanged"
    assert remove_blocks_text("\ufeff" + ours + "y=2\n") == ("\ufeffy=2\n", 1)
    assert remove_blocks_text("\ufeffx=1\n\n" + ours) == ("\ufeffx=1\n", 1)


def test_crlf_note_only_for_crlf_files():
    assert edit_rc_text("x=1\r\n", P, "bash").notes == (CRLF_NOTE.replace("bash and zsh read", "bash reads"),)
    # worded per shell (fix-up round, finding 13): config.fish is not read by bash or zsh
    [fish] = edit_rc_text("set x 1\r\n", P, "fish").notes
    assert "bash" not in fish and "zsh" not in fish and "which fish reads as plain line ends" in fish
    [zsh] = edit_rc_text("x=1\r\n", P, "zsh").notes
    assert "which zsh reads as part of each command" in zsh
    assert edit_rc_text("x=1\n", P, "bash").notes == ()


@pytest.mark.parametrize("text, line, message", [
    (lines("a", BEGIN_MARKER, "b", "c", BEGIN_MARKER, END_MARKER),
     2, f"the block started at line 2 has no '{END_MARKER}' line before the next start at line 5"),
    (lines("a", "b", END_MARKER), 3, "line 3 ends a conda initialize block that never started"),
    (lines("a", "b", "c", BEGIN_MARKER, "d"), 4, f"the block started at line 4 has no '{END_MARKER}' line"),
], ids=["two starts", "end without start", "start without end"])
def test_broken_block_errors_name_the_right_lines(text, line, message):
    # The message goes into the refusal the user reads (shell_setup: "... has a damaged conda initialize block: {e}").
    with pytest.raises(BlockError) as exc:
        find_blocks(_split_lines(text))
    assert exc.value.line == line
    assert str(exc.value) == message


def test_unknown_shell_is_named():
    with pytest.raises(ValueError, match="no conda initialize block for shell 'tcsh'"):
        conda_block(P, "tcsh")
