"""Every row of resources/conda_errors.toml is reached by a real recorded output (tests/data/real-conda-errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core import conda_errors, conda_env
from app.core.errors import EnvCreateError, TermsOfServiceError

DATA = Path(__file__).parent / "data" / "real-conda-errors"


def recorded(name: str):
    """(doc, stdout, stderr, returncode) of a recording NAME.{json,stdout,stderr}."""
    meta = json.loads((DATA / f"{name}.json").read_text())
    stdout = (DATA / f"{name}.stdout").read_text()
    stderr = (DATA / f"{name}.stderr").read_text()
    return conda_env.parse_conda_json(stdout), stdout, stderr, meta["returncode"]


def explain_recording(name: str) -> EnvCreateError:
    doc, out, err, rc = recorded(name)
    assert rc != 0
    return conda_errors.explain(doc, out, err, rc, where="/home/user/miniconda3/envs/x")


def explain_doc_file(name: str) -> EnvCreateError:
    text = (DATA / name).read_text()
    return conda_errors.explain(conda_env.parse_conda_json(text), text, "", 1, where="/home/user/miniconda3/envs/x")


def explain_text(name: str) -> EnvCreateError:
    text = (DATA / name).read_text()
    return conda_errors.explain(None, "", text, 1, where="/home/user/miniconda3/envs/x")


def test_unsatisfiable_with_an_empty_message_uses_the_guidance():
    err = explain_recording("unsat-dep-localpy")
    assert err.row_id == "unsatisfiable-no-detail"
    assert "UnsatisfiableError: UnsatisfiableError" not in err.message
    assert "Conda could not find a compatible set of packages" in err.message  # guidance.summary
    assert "one at a time" in err.fix and "Loosen" not in err.fix


def test_unsatisfiable_conflict_names_the_conflict():
    err = explain_recording("unsat")
    assert err.row_id == "unsatisfiable-conflict"
    assert "dependent=1.0" in err.message and "dependency=2.0" in err.message
    assert "Loosen" in err.fix


def test_dependency_not_in_channels():
    err = explain_recording("unsat-dep")
    assert err.row_id == "packages-not-found"
    assert "versioned[version='<1.0']" in err.message and "file:///srv/channels/local-test" in err.message
    assert "needed by a package" in err.message


def test_missing_package():
    err = explain_recording("missing")
    assert err.row_id == "packages-not-found" and "does-not-exist" in err.message
    assert "--packages" in err.fix and "conda-forge" in err.fix


def test_bad_channel_is_named_with_its_url_and_status():
    err = explain_recording("nonexistent-file")
    assert err.row_id == "bad-channel"
    assert "file:///nonexistent" in err.message and "404" in err.message
    assert "--channels" in err.fix


def test_http_000_with_stderr_text_is_a_connection_failure():
    doc, out, err_text, rc = recorded("http-refused")
    assert err_text.strip()  # the retry warnings: a fix that needs an empty stderr fails here
    err = conda_errors.explain(doc, out, err_text, rc)
    assert err.row_id == "http-connection"
    assert "http://127.0.0.1:9/linux-64/current_repodata.json" in err.message
    assert "Retrying" in err.detail


def test_offline_defaults_is_a_name_resolution_failure_with_a_mirror_fix():
    err = explain_recording("defaults-offline")
    assert err.row_id == "http-dns"
    assert "repo.anaconda.com" in err.message and "--mirror" in err.fix


def test_proxy_failure_names_the_proxy():
    err = explain_text("public-CondaHTTPError_000_proxy__jade-hpc-gpu-issue-49.txt")
    assert err.row_id == "http-proxy" and "proxy_servers" in err.fix


def test_crash_without_json_on_a_bad_spec():
    doc, out, err_text, rc = recorded("bad-spec")
    assert doc is None and out == ""
    err = conda_errors.explain(doc, out, err_text, rc)
    assert err.row_id == "bad-spec-crash"
    assert "Invalid spec '>=2.0': no package name found in '>=2.0'" in err.message
    assert "numpy>=1.26" in err.fix


@pytest.mark.parametrize("name", ["tos-gate", "tos-gate-text"])
def test_tos_gate_names_the_channels_conda_named(name):
    err = explain_recording(name)
    assert isinstance(err, TermsOfServiceError) and err.exit_code == 10
    assert "http://127.0.0.1:8765/tosch" in err.message  # not a fixed "defaults" text
    assert "defaults" not in err.message
    assert "conda tos accept --override-channels --channel http://127.0.0.1:8765/tosch" in err.fix
    assert "--accept-tos" in err.fix


def test_tos_gate_old_bullet_wording():
    data = Path(__file__).parent / "data" / "conda_outputs"
    text = (data / "error_CondaToSNonInteractiveError_bullets__ansible-miniconda-issue-38.txt").read_text()
    err = conda_errors.explain(None, "", text, 1)
    assert isinstance(err, TermsOfServiceError)
    assert "https://repo.anaconda.com/pkgs/main, https://repo.anaconda.com/pkgs/r" in err.message


def test_reserved_base_name():
    err = explain_recording("base")
    assert err.row_id == "reserved-name" and "--env-name" in err.fix


def test_env_created_without_a_working_python():
    doc, out, _, rc = recorded("py399")
    assert rc == 0 and doc["success"] is True
    err = conda_errors.env_without_python(doc, Path("/home/user/miniconda3/envs/t399/bin/python"), "x")
    assert err.row_id == "python-without-interpreter"
    assert "python 3.99.99 from file:///srv/channels/local-test" in err.message
    assert "Keep python in the env spec" not in err.fix and "--env-python" in err.fix
    # no python linked at all: the old advice is right there
    no_py = {"success": True, "actions": {"LINK": [r for r in doc["actions"]["LINK"] if r["name"] != "python"]}}
    err = conda_errors.env_without_python(no_py, Path("/x/bin/python"), "x")
    assert err.row_id == "python-not-installed" and "Keep python in the env spec" in err.fix


def test_no_nvidia_driver_offers_the_cpu_variant():
    err = explain_text("libmamba-nothing-provides-cuda.txt")
    assert err.row_id == "no-nvidia-driver"
    assert err.fix.startswith("There is no NVIDIA driver; choose the CPU variant (--torch-variant cpu")
    assert "Loosen" not in err.fix


def test_ssl_error_names_the_proxy_and_the_os_certificate_store():
    err = explain_doc_file("synth-ssl.json")
    assert err.row_id == "ssl"
    assert "proxy" in err.message and "operating system's certificate store" in err.fix
    assert "ssl_verify truststore" in err.fix


def test_disk_full_and_quota_and_not_writable():
    full = explain_doc_file("synth-nospace.json")
    assert "is full" in full.message and "df -h /home/user/miniconda3/envs/x" in full.fix
    quota = explain_doc_file("synth-quota.json")
    assert "quota" in quota.message.lower() and "quota -s" in quota.fix
    nw = explain_doc_file("synth-notwritable.json")
    assert nw.row_id == "not-writable" and "/opt/miniconda3/pkgs/urls.txt" in nw.message
    assert "sudo chown -R $USER /opt/miniconda3/pkgs" in nw.fix


def test_windows_path_too_long():
    err = explain_text("synth-winpath.txt")
    assert err.row_id == "windows-path-too-long" and "LongPathsEnabled" in err.fix


def test_unknown_failures_fall_back_without_a_wrong_fix():
    err = conda_errors.explain({"exception_name": "SomethingNewError", "message": "a new thing"}, "", "", 1)
    assert err.row_id == "other" and "a new thing" in err.message
    err = conda_errors.explain(None, "", "Segmentation fault\n", 139)
    assert err.row_id == "crash" and "Segmentation fault" in err.message and "139" in err.message


def test_every_row_is_reached_by_a_test_above():
    """Each row's source names a file in tests/data that exists (or is the product's own fallback)."""
    for row in conda_errors.load_table():
        names = [w.strip("(),.;*") for w in row.source.split() if "tests/data/" in w]
        for n in names:
            path = Path(__file__).parent.parent / n.split("*")[0].rstrip(".")
            assert path.exists() or list(path.parent.glob(path.name + "*")), (row.id, n)


def test_tos_gate_windows_wording_with_mangled_bullets():
    data = Path(__file__).parent / "data" / "conda_outputs"
    text = (data / "error_CondaToSNonInteractiveError_windows_mojibake_TRUNCATED__faceswap-issue-1495.txt").read_text(
        encoding="utf-8", errors="replace")
    err = conda_errors.explain(None, "", text, 1)
    assert isinstance(err, TermsOfServiceError) and "https://repo.anaconda.com/pkgs/msys2" in err.message


def test_tos_rejected_earlier():
    err = explain_doc_file("synth-tos-rejected.json")
    assert isinstance(err, TermsOfServiceError) and err.row_id == "tos-rejected"
    assert "https://repo.anaconda.com/pkgs/main" in err.message and "rejected" in err.message


def test_proxy_authentication_required():
    doc = {"exception_name": "CondaHTTPError", "status_code": 407, "reason": "Proxy Authentication Required",
           "url": "https://repo.anaconda.com/pkgs/main/linux-64/current_repodata.json",
           "message": "HTTP 407 Proxy Authentication Required for url <https://repo.anaconda.com/pkgs/main/"
                      "linux-64/current_repodata.json>\nElapsed: 00:00.012\n"}
    err = conda_errors.explain(doc, "", "", 1)
    assert err.row_id == "http-proxy" and "USER:PASSWORD" in err.fix


def test_http_status_other_than_000():
    doc = {"exception_name": "CondaHTTPError", "status_code": 403, "reason": "FORBIDDEN",
           "url": "https://mirror.example/pkgs/main/linux-64/repodata.json",
           "message": "HTTP 403 FORBIDDEN for url <https://mirror.example/pkgs/main/linux-64/repodata.json>\n"}
    err = conda_errors.explain(doc, "", "", 1)
    assert err.row_id == "http-status" and "403" in err.message


# ---- texts never have an empty blank, and never a command with an empty or "." argument -------------------------

def test_not_writable_without_a_path_field_takes_the_path_from_the_message():
    doc = json.loads((DATA / "synth-notwritable.json").read_text())
    doc.pop("path")
    for key in ("message", "error"):
        doc[key] = doc[key].replace("/opt/miniconda3/pkgs/urls.txt", "/opt/shared/pkgs/cache")
    err = conda_errors.explain(doc, "", "", 1)
    assert err.message.startswith("conda cannot write to /opt/shared/pkgs/cache: ")
    assert "sudo chown -R $USER /opt/shared/pkgs/cache." in err.fix


@pytest.mark.parametrize("path", [None, "", ".", "./"])
def test_not_writable_without_any_path_names_the_folder_in_words(path):
    doc = {"exception_name": "NotWritableError",
           "message": "The current user does not have write permissions to a required path."}
    if path is not None:
        doc["path"] = path
    err = conda_errors.explain(doc, "", "", 1)
    assert "to :" not in err.message and "chown -R $USER" not in err.fix and " ." not in err.fix
    assert err.message.startswith("conda cannot write to a folder it needs: ")
    assert "the folder that conda names in the log" in err.fix


def test_proxy_407_without_url_takes_it_from_the_message_or_says_a_channel_server():
    doc = {"exception_name": "CondaHTTPError", "status_code": 407,
           "message": "HTTP 407 Proxy Authentication Required for url <https://repo.example/pkgs/main/repodata.json>\n"}
    err = conda_errors.explain(doc, "", "", 1)
    assert "through the proxy to https://repo.example/pkgs/main/repodata.json. conda says:" in err.message
    doc["message"] = "HTTP 407 Proxy Authentication Required\n"
    err = conda_errors.explain(doc, "", "", 1)
    assert "through the proxy to a channel server. conda says: HTTP 407" in err.message
    assert "to ." not in err.message


BLANKS = ("((", "))", "to :", "to .", " . ", " , ", "()", "( ", " )", "HTTP  ", "HTTP )", "package  ", "{", "}", "  ")


def test_every_row_renders_with_empty_fields_without_blanks_or_empty_arguments():
    words = [w for w in conda_errors.UNKNOWN_WORDS.values() if " " in w]  # phrases, not "conda"
    for row in conda_errors.load_table():
        for doc in ({}, {"path": ".", "url": "", "channel_url": "", "packages": []}):
            facts = conda_errors._facts({"exception_name": "", "message": "", **doc}, "", 1, "")
            facts.update({name: "" for name in row.pattern.groupindex})
            for template, without in ((row.explanation, row.explanation_without), (row.fix, row.fix_without)):
                if not template:
                    continue  # disk rows: the text comes from app/core/disk_errors.py
                text = conda_errors.render(template, without, facts)
                assert not any(b in text for b in BLANKS), (row.id, text)
                assert not text.endswith((" .", ":", ": .")), (row.id, text)
                for command in text.split("`")[1::2]:  # a command never holds a blank or words for one
                    assert command.strip() == command and "  " not in command, (row.id, command)
                    assert not any(w in command for w in words), (row.id, command)
                    assert not command.rstrip(".").endswith((" .", " -R $USER", "--channel", "-n")), (row.id, command)
                assert "chown -R $USER ." not in text and not text.rstrip(".").endswith("chown -R $USER"), (row.id, text)
