"""app.core.errors: what an error carries and how it prints (the log and the silent-mode stderr use ``str``)."""

from __future__ import annotations

from app.core import errors
from app.core.errors import Cancelled, EnvCreateError, HashMismatchError, Stage, TermsOfServiceError, UsageError, WizardError


def test_error_keeps_message_fix_and_detail():
    e = UsageError("The plan is bad.", fix="Fix it.", detail="raw tool output")
    assert (e.message, e.fix, e.detail) == ("The plan is bad.", "Fix it.", "raw tool output")
    assert e.args == ("The plan is bad.",)
    assert str(e) == "The plan is bad.\nFix it."


def test_error_without_fix_prints_only_the_message():
    e = WizardError("Something failed.")
    assert (e.fix, e.detail) == ("", "")
    assert str(e) == "Something failed."


def test_subclasses_keep_the_stage_and_exit_code_of_their_family():
    assert (HashMismatchError.stage, HashMismatchError.exit_code) == (Stage.DOWNLOAD, 5)
    assert (TermsOfServiceError.stage, TermsOfServiceError.exit_code) == (Stage.ENV, 10)
    assert issubclass(TermsOfServiceError, EnvCreateError)
    assert not issubclass(Cancelled, WizardError)
    assert errors.EXIT_CODES["Cancelled"] == errors.EXIT_CANCELLED == 130
