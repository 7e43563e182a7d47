"""Steps 3 and 5 against the stand-in installer and its conda (real bash, real subprocesses, real files)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.core import conda_env, installer
from app.core.errors import Cancelled, EnvCreateError, InstallError, PrefixError, Stage, TermsOfServiceError
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.locks import locked_folder
from tests.support.standin import read_calls

DATA = Path(__file__).parent / "data" / "real-conda"
LINUX = PlatformInfo("Linux", "x86_64")


def make_plan(tmp_path: Path, **kw) -> InstallPlan:
    return InstallPlan(platform=LINUX, prefix=tmp_path / "miniconda3", **kw)


def test_build_command_for_each_installer_kind(tmp_path):
    prefix = Path("/opt/mc")
    assert installer.build_command(Path("/d/M.sh"), prefix, "Linux") == ["bash", "/d/M.sh", "-b", "-p", "/opt/mc"]
    assert installer.build_command(Path("/d/M.sh"), prefix, "Linux", update=True)[-1] == "-u"
    exe = installer.build_command(Path("M.exe"), Path("C:/Program Data/mc"), "Windows")
    assert exe[1:5] == ["/S", "/InstallationType=JustMe", "/AddToPath=0", "/RegisterPython=0"]
    assert exe[-1] == "/D=C:/Program Data/mc"  # last and unquoted, even with a space (NSIS)
    assert installer.build_command(Path("M.pkg"), prefix, "MacOSX") == [
        "installer", "-pkg", "M.pkg", "-target", "CurrentUserHomeDirectory"]
    with pytest.raises(InstallError):
        installer.build_command(Path("M.zip"), prefix, "Linux")


def test_conda_executable_per_os(tmp_path):
    assert installer.conda_executable(tmp_path, "Linux") == tmp_path / "bin" / "conda"
    assert installer.conda_executable(tmp_path, "Windows") == tmp_path / "python.exe"  # nothing there yet
    (tmp_path / "condabin").mkdir()
    (tmp_path / "condabin" / "conda.bat").write_text("")  # never used: it runs through cmd.exe (issue 11)
    (tmp_path / "Scripts").mkdir()
    (tmp_path / "Scripts" / "conda.exe").write_text("")
    assert installer.conda_executable(tmp_path, "Windows") == tmp_path / "Scripts" / "conda.exe"


def test_install_streams_output_and_verifies(tmp_path, standin_installer):
    rec = RecordingReporter()
    result = installer.install(make_plan(tmp_path), standin_installer, rec, CancelToken())
    assert result.prefix == tmp_path / "miniconda3"
    assert result.conda_version == (DATA / "conda--version.txt").read_text().split()[1]
    assert (result.prefix / "bin" / "conda").exists() and (result.prefix / "conda-meta" / "history").exists()
    lines = [args[1] for args in rec.of("log")]
    assert any("installation finished" in line for line in lines)
    assert any(line.startswith("Verified:") for line in lines)


def test_existing_prefix_is_refused_unless_updating(tmp_path, standin_installer):
    plan = make_plan(tmp_path)
    installer.install(plan, standin_installer, RecordingReporter(), CancelToken())
    with pytest.raises(PrefixError, match="already holds a conda installation") as err:
        installer.install(plan, standin_installer, RecordingReporter(), CancelToken())
    assert "--update-existing" in err.value.fix
    plan.update_existing = True
    rec = RecordingReporter()
    installer.install(plan, standin_installer, rec, CancelToken())
    assert any(" -u" in args[1] for args in rec.of("log") if args[1].startswith("Running:"))


def test_non_empty_foreign_folder_is_refused(tmp_path, standin_installer):
    target = tmp_path / "miniconda3"
    target.mkdir()
    (target / "thesis.docx").write_text("precious")
    with pytest.raises(PrefixError, match="not empty"):
        installer.install(make_plan(tmp_path, update_existing=True), standin_installer, RecordingReporter(), CancelToken())
    assert (target / "thesis.docx").read_text() == "precious"


def test_failed_installer_cleans_up_new_prefix(tmp_path):
    bad = tmp_path / "Miniconda3-broken-Linux-x86_64.sh"
    bad.write_text('#!/bin/bash\nmkdir -p "$3"; echo "ERROR: could not unpack payload" >&2; exit 1\n')
    plan = make_plan(tmp_path)
    with pytest.raises(InstallError, match="could not unpack payload"):
        installer.install(plan, bad, RecordingReporter(), CancelToken())
    assert not plan.resolved_prefix.exists()


def test_broken_conda_fails_verification(tmp_path):
    fake = tmp_path / "Miniconda3-fake-Linux-x86_64.sh"
    fake.write_text('#!/bin/bash\nmkdir -p "$3/bin" "$3/condabin"; ln -s /bin/sh "$3/bin/python"; '
                    'printf "#!/bin/sh\\nexit 3\\n" > "$3/bin/conda"; chmod +x "$3/bin/conda"\n')
    with pytest.raises(InstallError, match="--version failed"):
        installer.install(make_plan(tmp_path), fake, RecordingReporter(), CancelToken())


def test_unwritable_location_is_refused(tmp_path):
    # Runs as root too (CI): chmod for a user, the immutable flag (or a read-only bind mount) for root.
    locked = tmp_path / "locked"
    locked.mkdir()
    with locked_folder(locked):
        with pytest.raises(PrefixError, match="cannot write") as err:
            installer.check_prefix(InstallPlan(platform=LINUX, prefix=locked / "mc"))
    assert err.value.message.startswith(f"You cannot write to {locked},")
    assert "home directory" in err.value.fix


def test_pkg_installer_cannot_take_a_custom_prefix(tmp_path):
    with pytest.raises(PrefixError, match=r"\.pkg installer always installs"):
        installer.check_prefix(InstallPlan(platform=PlatformInfo("MacOSX", "arm64"), prefix=tmp_path / "x"), ".pkg")


# ---- step 5 ------------------------------------------------------------------------------------

def test_parse_conda_json_pipe_and_tty_forms():
    pipe = (DATA / "conda-create--json-n-demo-dependent.json").read_text()
    assert conda_env.parse_conda_json(pipe)["success"] is True
    tty = (DATA / "conda-create--json-p-tty-dependent.out").read_text(errors="replace")
    doc = conda_env.parse_conda_json(tty)
    assert doc["success"] is True and "fetch" not in doc
    err = conda_env.parse_conda_json((DATA / "conda-create--json-n-missing-package.json").read_text())
    assert err["exception_name"] == "PackagesNotFoundInChannelsError"
    assert conda_env.parse_conda_json("no json here") is None


@pytest.mark.slow
def test_create_env_with_accepted_tos_gives_a_python_that_imports_torch(tmp_path, standin_prefix):
    plan = make_plan(tmp_path, env_name="demo", accept_tos=True)
    rec = RecordingReporter()
    env = conda_env.create(plan, installer.conda_executable(standin_prefix, "Linux"), rec, CancelToken())
    assert env.prefix == standin_prefix / "envs" / "demo"
    assert env.python.exists()
    call = read_calls(standin_prefix)[-1]
    assert call["argv"][:5] == ["create", "--yes", "--json", "-n", "demo"]
    assert call["env"]["CONDA_PLUGINS_AUTO_ACCEPT_TOS"] == "yes"
    assert call["env"]["PYTHONUTF8"] == "1"
    from app.core.system import run_streaming

    res = run_streaming([env.python, "-c", "import torch; print(torch.__version__)"])
    assert res.returncode == 0 and res.stdout.strip()


def test_tos_not_accepted_is_its_own_error(tmp_path, standin_prefix):
    plan = make_plan(tmp_path, env_name="demo")
    with pytest.raises(TermsOfServiceError) as err:
        conda_env.create(plan, installer.conda_executable(standin_prefix, "Linux"), RecordingReporter(), CancelToken())
    assert "--accept-tos" in err.value.fix and "conda-forge" in err.value.fix
    assert "Terms of Service" in err.value.message


def test_conda_forge_only_needs_no_tos(tmp_path, standin_prefix):
    plan = make_plan(tmp_path, env_name="cf", channels=("conda-forge",), packages=("numpy",))
    env = conda_env.create(plan, installer.conda_executable(standin_prefix, "Linux"), RecordingReporter(), CancelToken())
    assert env.python.exists()


def test_missing_package_shows_condas_own_message(tmp_path, standin_prefix):
    plan = make_plan(tmp_path, env_name="bad", accept_tos=True, packages=("does-not-exist",))
    with pytest.raises(EnvCreateError) as err:
        conda_env.create(plan, installer.conda_executable(standin_prefix, "Linux"), RecordingReporter(), CancelToken())
    assert err.value.message.startswith("conda found no package does-not-exist in the channels used")
    assert "PackagesNotFoundInChannelsError: The following packages are not available" in err.value.detail
    assert "- does-not-exist" in err.value.detail
    assert "channel" in err.value.fix


def test_cancel_during_create(tmp_path, standin_prefix, monkeypatch):
    monkeypatch.setenv("STANDIN_CONDA_CREATE_DELAY", "30")
    plan = make_plan(tmp_path, env_name="slow", accept_tos=True)
    cancel = CancelToken()
    rec = RecordingReporter()
    timer = threading.Timer(1.0, cancel.cancel)
    timer.start()
    with pytest.raises(Cancelled):
        conda_env.create(plan, installer.conda_executable(standin_prefix, "Linux"), rec, cancel)
    timer.cancel()
    assert any(args[0].stage is Stage.ENV for args in rec.of("progress"))  # the watcher reported while waiting
    assert not (standin_prefix / "envs" / "slow").exists()  # the half-made env is gone
