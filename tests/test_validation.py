"""Input is checked in one place, before anything is downloaded (issue 10, sections 4, 5 and 8).

Every bad input of the issue, and others of the same kinds, goes through the real command line
(:func:`app.cli.main` in this process, or ``python -m app`` as a child for the cases where a
traceback or the GUI could show) and must end with exit 2 (or the code the real run gives) and a
message that names the setting, what was expected and an example. Servers are the real local test
server; files and folders are real.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main, normalize_argv, plan_from_args
from app.core import catalog, installer, match_spec, pipeline
from app.core.errors import PrefixError, UsageError
from app.core.events import RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.standin import DEFAULT_FILENAME

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
LINUX = PlatformInfo("Linux", "x86_64")


def plan_for(*argv: str) -> InstallPlan:
    return plan_from_args(build_parser().parse_args(normalize_argv(list(argv))))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in this process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_child(*args: str, home: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k not in ("CI", "DISPLAY",
                                                                                           "WAYLAND_DISPLAY")}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---- empty paths -----------------------------------------------------------------------------

def test_empty_prefix_flag_and_key_are_usage_errors_without_traceback(tmp_path, isolated_home):
    res = run_child("--silent", "--prefix", "", home=isolated_home)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "AssertionError" not in res.stderr
    assert "--prefix" in res.stderr and "empty" in res.stderr and "~/miniconda3" in res.stderr
    cfg = write_toml(tmp_path / "a.toml", 'prefix = ""\n')
    res = run_child("--dry-run", "--config", str(cfg), home=isolated_home)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "prefix" in res.stderr and "empty" in res.stderr


@pytest.mark.parametrize("flag", ["--installer-file", "--download-dir", "--log-file"])
def test_other_empty_paths_are_refused_not_taken_as_unset(flag, capsys, tmp_path):
    code, _, err = cli(capsys, "--silent", "--no-env", "--prefix", str(tmp_path / "p"), flag, "")
    assert code == 2 and flag in err and "empty" in err


@pytest.mark.parametrize("key", ["installer_file", "download_dir", "log_file", "prefix"])
def test_paths_with_a_nul_byte_are_refused_without_traceback(key, capsys, tmp_path):
    cfg = write_toml(tmp_path / "a.toml", f'{key} = "/tmp/x\\u0000y.sh"\ncreate_env = false\ngpu_check = false\n')
    code, _, err = cli(capsys, "--silent", "--config", str(cfg), *(["--prefix", str(tmp_path / "p")]
                                                                 if key != "prefix" else []))
    assert code == 2 and "control character" in err and key in err


# ---- answer-file encodings -------------------------------------------------------------------

def test_answer_file_with_utf8_bom_is_read(tmp_path):
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbfenv_name = \"team\"\n")
    assert plan_for("--config", str(cfg)).env_name == "team"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-16-le"])
def test_answer_file_in_utf16_with_bom_is_read(tmp_path, codec):
    # Windows PowerShell 5 writes UTF-16 LE with a BOM ("> file", Out-File).
    cfg = tmp_path / "u16.toml"
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-16-le": b"\xff\xfe"}[codec]
    cfg.write_bytes(bom + 'env_name = "pwsh"\nprefix = "/opt/mc"\n'.encode(codec))
    plan = plan_for("--config", str(cfg))
    assert plan.env_name == "pwsh" and str(plan.prefix) == "/opt/mc"


def test_answer_file_in_utf16_without_bom_is_refused(tmp_path, capsys):
    cfg = tmp_path / "u16.toml"
    cfg.write_bytes('env_name = "x"\n'.encode("utf-16-le"))
    code, _, err = cli(capsys, "--silent", "--config", str(cfg))
    assert code == 2 and "UTF-16" in err and "UTF-8" in err and "Invalid statement" not in err


def test_answer_file_in_latin1_names_the_line_and_the_fix(tmp_path, capsys):
    cfg = tmp_path / "latin1.toml"
    cfg.write_bytes('mirror = "tuna"\nenv_name = "café"\n'.encode("latin-1"))
    code, _, err = cli(capsys, "--silent", "--config", str(cfg))
    assert code == 2
    assert "not UTF-8" in err and "line 2" in err and "0xE9" in err and "'é'" in err
    assert "Save the answer file as UTF-8" in err and "Traceback" not in err


def test_answer_file_with_a_table_is_refused(tmp_path, capsys):
    cfg = write_toml(tmp_path / "t.toml", '[wizard]\nprefix = "/opt/mc"\n')
    code, _, err = cli(capsys, "--silent", "--config", str(cfg))
    assert code == 2 and "[wizard]" in err and "plain keys" in err


# ---- strict TOML types (every key) -----------------------------------------------------------

TYPE_CASES = [
    ("env_python = 3.10", 'env_python must be a string such as "3.10"', "the number 3.1"),
    ("env_python = 3", "env_python must be a string", "the number 3"),
    ("env_name = true", "env_name must be a string", "not true"),
    ("env_name = 7", "env_name must be a string", "the number 7"),
    ("gpu_steps = 7.9", "gpu_steps must be a whole number", "the number 7.9"),
    ("gpu_steps = true", "gpu_steps must be a whole number", "not true"),
    ('gpu_steps = "60"', "gpu_steps must be a whole number", "the text '60'"),
    ('packages = ["numpy", 3]', "packages must be a list of strings", "the number 3"),
    ("packages = 3", "packages must be a list of strings", "the number 3"),
    ('channels = ["conda-forge", true]', "channels must be a list of strings", "true"),
    ("init_shells = [1]", "init_shells must be a list of strings", "the number 1"),
    ('accept_tos = "yes"', "accept_tos must be true or false", "the text 'yes'"),
    ("create_env = 0", "create_env must be true or false", "the number 0"),
    ("gpu_check = 1", "gpu_check must be true or false", "the number 1"),
    ('skip_space_check = "true"', "skip_space_check must be true or false", "the text 'true'"),
    ('update_existing = "no"', "update_existing must be true or false", "the text 'no'"),
    ('allow_unverified = 1', "allow_unverified must be true or false", "the number 1"),
    ('add_to_path = "1"', "add_to_path must be true or false", "the text '1'"),
    ('register_python = 0', "register_python must be true or false", "the number 0"),
    ("prefix = 5", "prefix must be a string", "the number 5"),
    ("prefix = []", "prefix must be a string", "a list"),
    ("download_dir = false", "download_dir must be a string", "false"),
    ("installer_file = 1", "installer_file must be a string", "the number 1"),
    ("log_file = 2", "log_file must be a string", "the number 2"),
    ("mirror = 1", "mirror must be a string", "the number 1"),
    ("installer = 1", "installer must be a string", "the number 1"),
    ("sha256 = 1", "sha256 must be a string", "the number 1"),
    ("install_type = 1", "install_type must be a string", "the number 1"),
    ("if_env_exists = false", "if_env_exists must be a string", "false"),
    ("platform = 64", "platform must be a string", "the number 64"),
    ("preset = 1", "preset must be a string", "the number 1"),
    ('preset = "llm-huge"', "Unknown preset 'llm-huge'", "auto, llm-gpu"),
]


@pytest.mark.parametrize("line, expected, given", TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_answer_file_types_are_strict(tmp_path, capsys, line, expected, given):
    cfg = write_toml(tmp_path / "a.toml", line + "\n")
    code, _, err = cli(capsys, "--silent", "--config", str(cfg))
    assert code == 2, err
    assert expected in err and given in err, err
    assert "Traceback" not in err


def test_every_type_problem_is_reported_at_once(tmp_path, capsys):
    cfg = write_toml(tmp_path / "a.toml", 'env_python = 3.10\nenv_name = true\ngpu_steps = 7.9\n'
                                          'packages = ["numpy", 3]\nprefixx = "/x"\n')
    code, _, err = cli(capsys, "--silent", "--config", str(cfg))
    assert code == 2
    for key in ("env_python", "env_name", "gpu_steps", "packages"):
        assert f"- {key} must be" in err
    assert "Unknown setting 'prefixx' (did you mean 'prefix'?)" in err
    # the exact wording for the first one
    assert 'env_python must be a string such as "3.10"' in err and 'write env_python = "3.10"' in err


def test_every_plan_field_has_a_strict_type_rule():
    """A new field without a rule in _coerce would be taken loosely again."""
    import dataclasses

    from app.core import plan as plan_mod

    for f in dataclasses.fields(InstallPlan):
        with pytest.raises(UsageError):
            plan_mod._coerce(f.name, {"a": "table"})


def test_right_types_still_work(tmp_path):
    cfg = write_toml(tmp_path / "a.toml", 'env_python = "3.10"\nenv_name = "team"\ngpu_steps = 30\n'
                                          'packages = ["numpy>=1.26", "pytorch"]\naccept_tos = true\n'
                                          f'prefix = "{(tmp_path / "p").as_posix()}"\n')
    plan = plan_for("--config", str(cfg))
    assert (plan.env_python, plan.env_name, plan.gpu_steps) == ("3.10", "team", 30)
    assert plan.conda_create_args()[5:] == ["python=3.10", "numpy>=1.26", "pytorch"]
    assert plan.problems() == []


# ---- package specs (conda MatchSpec rules) ---------------------------------------------------

@pytest.mark.parametrize("text, specs", [
    ("numpy >= 1.26", ["numpy>=1.26"]),
    ("numpy >=1.26,<2", ["numpy>=1.26,<2"]),
    ("numpy>=1.26, <2 pandas", ["numpy>=1.26,<2", "pandas"]),
    ("numpy = 1.26 scipy", ["numpy=1.26", "scipy"]),
    ("pytorch=2.5", ["pytorch=2.5"]),
    ("conda-forge::numpy", ["conda-forge::numpy"]),
    ("numpy[version='>=1.26']", ["numpy>=1.26"]),
    ("python 3.11.*", ["python=3.11"]),
    ("python 3.11", ["python==3.11"]),
    ("numpy=1.11.1|1.11.3", ["numpy=1.11.1|1.11.3"]),
    ("numpy=1.26.4=py311h_0 transformers", ["numpy==1.26.4=py311h_0", "transformers"]),
    ("pytorch, transformers", ["pytorch", "transformers"]),
    ("numpy !=1.26", ["numpy!=1.26"]),
])
def test_packages_flag_is_split_by_match_spec_rules(text, specs):
    plan = plan_for("--packages", text)
    assert list(plan.packages) == specs
    assert plan.problems() == []
    assert plan.conda_create_args()[6:] == specs


@pytest.mark.parametrize("text, reason", [
    ("3", "is a version, not a package name"),
    (">=1.2", "no package name"),
    ("numpy >>= 1", "not a version operator"),
    ("numpy>=", "no version after it"),
    ("numpy==", "no version after it"),
    ("numpy=", "no version after it"),
    ("numpy:1.2", "single ':'"),
    ("numpy[foo=1]", "'foo' is not a key"),
    ("numpy[version=]", "has no value"),
    ("numpy>=1.2.x-y", "is not a version"),
    ("numpy>=(1", "unbalanced"),
    ("-x", "starts with '-'"),
    ("*", "pattern"),
    ("numpy#2", "'#'"),
    ("bad::", "no package name"),
])
def test_bad_specs_are_refused_before_anything_runs(text, reason, capsys, tmp_path):
    code, _, err = cli(capsys, "--silent", f"--packages={text}", "--prefix", str(tmp_path / "p"), "--accept-tos")
    assert code == 2, err
    assert "--packages" in err and reason in err and "for example 'numpy'" in err
    assert not (tmp_path / "p").exists()


def test_the_recorded_conda_crash_becomes_one_spec(tmp_path):
    """Real conda crashed (no JSON) on "dependent >=2.0" passed as two words: now it is one spec."""
    rec = json.loads((DATA / "real-conda-errors" / "bad-spec.json").read_text())
    assert rec["returncode"] == 1 and rec["stdout_bytes"] == 0
    stderr = (DATA / "real-conda-errors" / "bad-spec.stderr").read_text()
    assert "no package name found in '>=2.0'" in stderr
    words = rec["cmd"][rec["cmd"].index("python=3.11") + 1:rec["cmd"].index("--override-channels")]
    assert words == ["dependent", ">=2.0"]
    plan = plan_for("--packages", " ".join(words))
    assert plan.packages == ("dependent>=2.0",)
    # what conda refused on its own is refused here, with conda's reason
    with pytest.raises(match_spec.SpecError, match="no package name"):
        match_spec.parse(">=2.0")


def test_toml_list_items_are_one_spec_each(tmp_path):
    cfg = write_toml(tmp_path / "a.toml", 'packages = ["numpy >= 1.26", "python 3.11.*"]\n')
    assert plan_for("--config", str(cfg)).packages == ("numpy>=1.26", "python=3.11")
    cfg = write_toml(tmp_path / "b.toml", 'packages = ["numpy, scipy"]\n')
    assert any("numpy, scipy" in p for p in plan_for("--config", str(cfg)).problems())


@pytest.mark.parametrize("spec", ["numpy >= 1.26", "numpy >=1.0 py34_0", "numpy[version='>=1.26', build=py311*]",
                                  "numpy 1.26 py311_0", "conda-forge/linux-64::numpy>=1", "numpy=1.26=*"])
def test_canonical_form_means_the_same_spec(spec):
    assert match_spec.parse(match_spec.canonical(spec)) == match_spec.parse(spec)


@pytest.mark.parametrize("channel, ok", [("conda-forge", True), ("nvidia/label/cuda-12.1.0", True),
                                         ("https://conda.anaconda.org/conda-forge", True), ("defaults", True),
                                         ("conda forge", False), ("-c", False), ("http://a b/", False)])
def test_channels_are_checked(channel, ok):
    plan = InstallPlan(platform=LINUX)
    plan.channels = (channel,)
    assert (not any("channel" in p for p in plan.problems())) is ok


# ---- env names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, words", [
    ("-x", "starts with '-'"), ("-", "starts with '-'"), (".", "not a new folder"), ("..", "not a new folder"),
    ("base", "base environment"), ("root", "base environment"), ("BASE", "base environment"),
    ("a/b", "characters"), ("a b", "characters"), ("a:b", "characters"), ("a#b", "characters"),
    ("a\\b", "characters"), ("café", "characters"), ("a;b", "characters"), ("$x", "characters"),
    (".hidden", "characters"), ("", "empty"), ("x" * 65, "characters long"),
])
def test_bad_env_names_exit_2(name, words, capsys, tmp_path):
    code, _, err = cli(capsys, "--silent", f"--env-name={name}", "--prefix", str(tmp_path / "p"), "--accept-tos")
    assert code == 2, err
    assert "--env-name" in err and words in err and "'llm'" in err


@pytest.mark.parametrize("name", ["llm", "llm-3.11", "my_env", "a.b", "3d", "_x", "py+cu"])
def test_good_env_names(name):
    assert InstallPlan(platform=LINUX, env_name=name).problems() == []


def test_windows_reserved_env_names():
    assert any("Windows reserves" in p for p in InstallPlan(platform=PlatformInfo("Windows", "x86_64"),
                                                            env_name="con").problems())


# ---- mirrors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, words", [
    ("http://", "no host name"),
    ("https://", "no host name"),
    ("http://mirror example.org/miniconda/", "contains a space"),
    ("http://mirror.example.org:99999/", "invalid port"),
    ("http://mirror.example.org:0/", "invalid port"),
    ("http://mirror.example.org:abc/", "invalid port"),
    ("ftp://mirror.example.org/miniconda/", "only http://, https://"),
    ("file://server/share/", "three slashes"),
    ("http://[::1", "Invalid IPv6 URL"),
    ("file://[::1", "cannot be read"),
    ("nowhere", "Unknown mirror"),
    ("", "empty"),
])
def test_bad_mirror_urls_exit_2_not_3(url, words, capsys, tmp_path):
    code, _, err = cli(capsys, "--silent", "--no-env", "--mirror", url, "--prefix", str(tmp_path / "p"))
    assert code == 2, err
    assert "--mirror" in err and words in err
    assert "HTTPS_PROXY" not in err  # no network advice for a typo


def test_missing_or_file_mirror_folder_exit_2(capsys, tmp_path):
    code, _, err = cli(capsys, "--silent", "--no-env", "--mirror", f"file://{tmp_path}/nothing/",
                       "--prefix", str(tmp_path / "p"))
    assert code == 2 and "does not exist" in err
    (tmp_path / "afile").write_text("x")
    code, _, err = cli(capsys, "--silent", "--no-env", "--mirror", str(tmp_path / "afile"),
                       "--prefix", str(tmp_path / "p"))
    assert code == 2 and "is a file, not a folder" in err and "--installer-file" in err


@pytest.fixture
def mirror_folder(tmp_path, standin_installer) -> Path:
    folder = tmp_path / "offline-mirror"
    folder.mkdir()
    shutil.copy(standin_installer, folder / DEFAULT_FILENAME)
    (folder / "notes.txt").write_text("not an installer")
    digest = hashlib.sha256((folder / DEFAULT_FILENAME).read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(f"{digest}  {DEFAULT_FILENAME}\n")
    return folder


def test_local_folder_mirror_is_an_index(mirror_folder):
    entries = catalog.fetch_index(mirror_folder.as_uri() + "/", None, None)  # type: ignore[arg-type]
    assert [e.filename for e in entries] == [DEFAULT_FILENAME]
    e = entries[0]
    assert e.url == (mirror_folder / DEFAULT_FILENAME).as_uri()
    assert e.size == (mirror_folder / DEFAULT_FILENAME).stat().st_size
    assert e.sha256 == hashlib.sha256((mirror_folder / DEFAULT_FILENAME).read_bytes()).hexdigest()
    plan = InstallPlan(platform=LINUX, mirror=str(mirror_folder))
    assert plan.mirror_url == mirror_folder.as_uri() + "/" and plan.problems() == []


def test_empty_local_folder_mirror_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--mirror", str(tmp_path / "empty"),
                       "--prefix", str(tmp_path / "p"))
    assert code == 3 and "holds no Miniconda installers" in err and "--installer-file" in err


@pytest.mark.slow
def test_silent_install_from_a_local_folder_mirror(tmp_path, isolated_home, mirror_folder):
    prefix, dl = tmp_path / "mc", tmp_path / "dl"
    res = run_child("--silent", "--json", "--mirror", str(mirror_folder), "--prefix", str(prefix), "--no-env",
                    "--no-shell-init", "--download-dir", str(dl), home=isolated_home)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    evs = [json.loads(line) for line in res.stdout.splitlines()]
    infos = {(e["stage"], e["key"]): e["value"] for e in evs if e["event"] == "info"}
    assert infos[("catalog", "hash_source")] == "index" and infos[("download", "verified")] is True
    assert (dl / DEFAULT_FILENAME).read_bytes() == (mirror_folder / DEFAULT_FILENAME).read_bytes()
    assert not list(dl.glob("*.part"))
    assert (prefix / "bin" / "conda").exists()


def test_local_folder_mirror_with_a_wrong_sum_exits_5_and_keeps_the_mirror(tmp_path, isolated_home, mirror_folder):
    original = (mirror_folder / DEFAULT_FILENAME).read_bytes()
    (mirror_folder / "SHA256SUMS").write_text(f"{'0' * 64} *{DEFAULT_FILENAME}\n")
    dl = tmp_path / "dl"
    res = run_child("--silent", "--mirror", mirror_folder.as_uri(), "--prefix", str(tmp_path / "mc"),
                    "--no-env", "--no-shell-init", "--download-dir", str(dl), home=isolated_home)
    assert res.returncode == 5, res.stdout + res.stderr
    assert "SHA-256" in res.stderr and "0" * 64 in res.stderr
    assert list(dl.iterdir()) == []  # no copy, no .part
    assert (mirror_folder / DEFAULT_FILENAME).read_bytes() == original
    assert not (tmp_path / "mc").exists()


# ---- --installer-file ------------------------------------------------------------------------

@pytest.mark.parametrize("name, content, words", [
    ("Miniconda3-latest-Linux-x86_64.sh", b"", "is empty (0 bytes)"),
    ("installer.txt", b"#!/bin/sh\n", "expected a .sh, .exe or .pkg file"),
    ("Miniconda3-latest-Linux-x86_64.sh", b"<!DOCTYPE html><html>Not found</html>", "looks like a web page"),
    ("Miniconda3-latest-Linux-x86_64.sh", b"\x7fELF\x02\x01", "is not a shell script"),
    ("Miniconda3-latest-Windows-x86_64.exe", b"MZ\x90\x00", "does not run on Linux x86_64"),
])
def test_bad_installer_files_exit_2_up_front(name, content, words, capsys, tmp_path):
    f = tmp_path / name
    f.write_bytes(content)
    code, _, err = cli(capsys, "--silent", "--no-env", "--installer-file", str(f), "--prefix", str(tmp_path / "p"))
    assert code == 2, err
    assert "--installer-file" in err and words in err
    assert not (tmp_path / "p").exists()


def test_installer_file_that_is_a_folder_says_so(capsys, tmp_path):
    folder = tmp_path / "Miniconda3-latest-Linux-x86_64.sh"
    folder.mkdir()
    code, _, err = cli(capsys, "--silent", "--no-env", "--installer-file", str(folder), "--prefix", str(tmp_path / "p"))
    assert code == 2 and "is a folder, not a file" in err and "does not exist" not in err


@pytest.mark.parametrize("ext, magic, os_name", [(".exe", b"MZ", "Windows"), (".pkg", b"xar!", "MacOSX"),
                                                 (".sh", b"#!", "MacOSX")])
def test_installer_file_headers_of_each_kind(tmp_path, ext, magic, os_name):
    from app.core.plan import installer_file_problem

    f = tmp_path / ("Miniconda3-latest-x" + ext)
    f.write_bytes(magic + b"rest")
    assert installer_file_problem(f, PlatformInfo(os_name, "x86_64" if os_name == "Windows" else "arm64")) is None
    f.write_bytes(b"PK\x03\x04")
    assert "is not" in installer_file_problem(f, PlatformInfo(os_name, "arm64"))


# ---- --sha256 against the published hash ---------------------------------------------------

def test_wrong_sha256_is_refused_before_downloading(tmp_path, isolated_home, mirror, standin_installer):
    published = hashlib.sha256(standin_installer.read_bytes()).hexdigest()
    res = run_child("--silent", "--json", "--mirror", mirror.base_url, "--sha256", "ab" * 32, "--no-env",
                    "--prefix", str(tmp_path / "mc"), "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    assert res.returncode == 2, res.stdout + res.stderr
    last = json.loads(res.stdout.splitlines()[-1])
    assert last["event"] == "failed" and last["exit_code"] == 2
    assert "ab" * 32 in last["message"] and published in last["message"] and "--sha256" in last["message"]
    assert [r[1] for r in mirror.state.requests] == ["/"]  # the index, never the installer
    assert not (tmp_path / "dl").exists() and not (tmp_path / "mc").exists()


# ---- unknown --installer: closest and newest -----------------------------------------------

def test_unknown_installer_suggests_the_closest_and_newest(mirror, tmp_path, capsys):
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "p"),
                       "--installer", "Miniconda3-py311_23.5.3-0-Linux-x86_64.sh")
    assert code == 3, err
    closest = err.split("Closest names: ")[1].split(".sh")[0] + ".sh"
    assert closest == "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    newest = err.split("Newest for Linux-x86_64: ")[1]
    assert newest.startswith("Miniconda3-latest-Linux-x86_64.sh")
    assert "Miniconda-1.6.0" not in err and "Miniconda3-2." not in err  # never the oldest


# ---- conflicting flags -----------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    (["--installer-file", "X"], ["--mirror", "tuna"]),
    (["--installer-file", "X"], ["--installer", "Miniconda3-latest-Linux-x86_64.sh"]),
    (["--no-shell-init"], ["--init-shells", "bash"]),
    (["--no-env"], ["--gpu-check"]),
    (["--no-env"], ["--env-name", "x"]),
    (["--no-env"], ["--packages", "numpy"]),
    (["--no-env"], ["--env-python", "3.12"]),
    (["--no-env"], ["--channels", "conda-forge"]),
    (["--no-env"], ["--preset", "minimal"]),
    (["--no-gpu-check"], ["--gpu-steps", "30"]),
])
def test_conflicting_flags_name_both(a, b, capsys, tmp_path):
    code, _, err = cli(capsys, "--silent", *a, *b, "--prefix", str(tmp_path / "p"))
    assert code == 2, err
    assert a[0] in err and b[0] in err and "cannot be used together" in err


def test_a_flag_overriding_an_answer_file_is_no_conflict(tmp_path, standin_installer):
    cfg = write_toml(tmp_path / "a.toml", 'mirror = "tuna"\ngpu_check = true\ninit_shells = ["bash"]\n'
                                          'env_name = "team"\n')
    plan = plan_for("--config", str(cfg), "--no-env", "--no-shell-init", "--installer-file", str(standin_installer),
                    "--allow-unverified")
    assert plan.create_env is False and plan.gpu_check is False and plan.init_shells == ()
    assert plan.problems() == []


def test_json_without_silent_is_refused_and_never_opens_the_window(isolated_home):
    res = run_child("--json", "--no-env", home=isolated_home, timeout=60)
    assert res.returncode == 2, res.stderr
    event = json.loads(res.stdout.strip().splitlines()[-1])
    assert event["event"] == "failed" and event["exit_code"] == 2 and "--silent" in event["message"]
    assert "--json" in res.stderr and "--silent" in res.stderr


# ---- --dry-run exits like the real run ------------------------------------------------------

def dry(capsys, mirror, tmp_path, *extra: str) -> tuple[int, str, str]:
    args = ["--dry-run", "--mirror", mirror.base_url, "--download-dir", str(tmp_path / "dl"), *extra]
    if "--prefix" not in extra:
        args += ["--prefix", str(tmp_path / "mc")]
    return cli(capsys, *args)


def test_dry_run_without_tos_exits_10(capsys, mirror, tmp_path):
    code, _, err = dry(capsys, mirror, tmp_path)
    assert code == 10 and "Terms of Service" in err and "--accept-tos" in err


def test_dry_run_prefix_is_a_file_exits_6(capsys, mirror, tmp_path):
    (tmp_path / "f").write_text("x")
    code, _, err = dry(capsys, mirror, tmp_path, "--no-env", "--prefix", str(tmp_path / "f"))
    assert code == 6 and "is a file" in err


def test_dry_run_prefix_under_a_file_exits_6(capsys, mirror, tmp_path):
    (tmp_path / "f").write_text("x")
    code, _, err = dry(capsys, mirror, tmp_path, "--no-env", "--prefix", str(tmp_path / "f" / "mc"))
    assert code == 6 and f"{tmp_path / 'f'} is a file" in err and "cannot be created under it" in err


@pytest.mark.parametrize("sub", ["", "dl"])
def test_dry_run_download_dir_is_or_is_under_a_file_exits_4(capsys, mirror, tmp_path, sub):
    (tmp_path / "f").write_text("x")
    code, _, err = cli(capsys, "--dry-run", "--no-env", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                       "--download-dir", str(tmp_path / "f" / sub) if sub else str(tmp_path / "f"))
    assert code == 4, err
    assert "--download-dir" in err and "is a file" in err and "disk space" not in err


def test_dry_run_log_file_under_a_file_exits_2(capsys, mirror, tmp_path):
    (tmp_path / "f").write_text("x")
    code, _, err = dry(capsys, mirror, tmp_path, "--no-env", "--log-file", str(tmp_path / "f" / "run.log"))
    assert code == 2 and "Cannot write the log file" in err


def test_dry_run_failure_in_json_is_a_failed_event(capsys, mirror, tmp_path):
    code, out, _ = dry(capsys, mirror, tmp_path, "--json")
    assert code == 10
    event = json.loads(out.strip().splitlines()[-1])
    assert event["event"] == "failed" and event["exit_code"] == 10 and event["stage"] == "env"


def test_dry_run_without_a_published_hash_exits_5_like_the_real_run(capsys, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "Miniconda3-latest-Linux-x86_64.sh").write_bytes(b"#!/bin/sh\n")  # no SHA256SUMS
    catalog_url = catalog.OFFICIAL_INDEX_URL
    catalog.OFFICIAL_INDEX_URL = "http://127.0.0.1:9/miniconda/"  # the official look-up fails fast here
    try:
        code, _, err = cli(capsys, "--dry-run", "--no-env", "--mirror", str(folder), "--prefix", str(tmp_path / "mc"),
                           "--platform", "Linux-x86_64")
        assert code == 5 and "--allow-unverified" in err
        code, out, _ = cli(capsys, "--dry-run", "--no-env", "--mirror", str(folder), "--prefix", str(tmp_path / "mc"),
                           "--platform", "Linux-x86_64", "--allow-unverified")
        assert code == 0 and "no known SHA-256" in out
    finally:
        catalog.OFFICIAL_INDEX_URL = catalog_url


def test_real_run_catches_prefix_under_a_file_before_downloading(tmp_path, isolated_home, mirror):
    (tmp_path / "f").write_text("x")
    res = run_child("--silent", "--no-env", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "f" / "mc"),
                    "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    assert res.returncode == 6, res.stdout + res.stderr
    assert "is a file" in res.stderr and "Could not create directory" not in res.stderr
    assert mirror.state.requests == [] and not (tmp_path / "dl").exists()


def test_real_run_download_dir_a_file_is_not_a_disk_space_problem(tmp_path, isolated_home, mirror):
    (tmp_path / "f").write_text("x")
    res = run_child("--silent", "--no-env", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                    "--download-dir", str(tmp_path / "f"), home=isolated_home)
    assert res.returncode == 4, res.stdout + res.stderr
    assert "is a file, not a folder" in res.stderr and "Free some disk space" not in res.stderr
    assert mirror.state.requests == [] and not (tmp_path / "mc").exists()


# ---- free space: --skip-space-check and implausible figures ---------------------------------

GiB = 1024 ** 3


@pytest.fixture
def disk(monkeypatch):
    """Stands in for a file system's statfs figures (a Lustre mount reporting 0 free cannot be made here)."""
    figures = {"total": 100 * GiB, "used": 10 * GiB, "free": 90 * GiB}
    monkeypatch.setattr(installer, "disk_usage", lambda path: (figures["total"], figures["used"], figures["free"]))
    return figures


def test_zero_bytes_free_is_refused_with_the_override_named(disk, tmp_path):
    disk["free"] = 0
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc")
    with pytest.raises(PrefixError) as info:
        installer.check_prefix(plan)
    assert "exactly 0 bytes free" in info.value.message and "Lustre" in info.value.message
    assert "--skip-space-check" in info.value.fix


def test_skip_space_check_lets_it_through_with_a_warning(disk, tmp_path):
    disk.update(total=0, used=0, free=0)
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc", skip_space_check=True)
    warnings = installer.check_prefix(plan)
    assert len(warnings) == 1 and "skipped" in warnings[0] and "size of 0 bytes" in warnings[0]


def test_low_but_plausible_space_names_the_override_too(disk, tmp_path):
    disk.update(free=GiB // 2)
    with pytest.raises(PrefixError) as info:
        installer.check_prefix(InstallPlan(platform=LINUX, prefix=tmp_path / "mc"))
    assert "Only 512.0 MiB is free" in info.value.message and "--skip-space-check" in info.value.fix


def test_implausible_but_large_figure_only_warns(disk, tmp_path):
    disk.update(total=10 * GiB, free=20 * GiB)
    warnings = installer.check_prefix(InstallPlan(platform=LINUX, prefix=tmp_path / "mc"))
    assert any("more free space" in w for w in warnings)


def test_skip_space_check_flag_reaches_preflight_and_dry_run(disk, capsys, mirror, tmp_path):
    disk["free"] = 0
    code, _, err = dry(capsys, mirror, tmp_path, "--no-env")
    assert code == 6 and "--skip-space-check" in err
    code, out, _ = dry(capsys, mirror, tmp_path, "--no-env", "--skip-space-check")
    assert code == 0 and "warning: Free-space check skipped" in out
    rec = RecordingReporter()
    pipeline.preflight(InstallPlan(platform=LINUX, prefix=tmp_path / "mc", create_env=False, gpu_check=False,
                                   skip_space_check=True), rec)
    assert any("skipped" in line for _, line, level in rec.of("log") if level == "warning")
