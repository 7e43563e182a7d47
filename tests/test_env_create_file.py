"""conda env create -f, the pip: section, verification and cancel, against the stand-in conda (real processes)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psutil
import pytest

from app.core import conda_env, env_verify, installer, pipeline
from app.core.errors import Cancelled, EnvCreateError, Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.standin import read_calls

DATA = Path(__file__).parent / "data"
LINUX = PlatformInfo("Linux", "x86_64")
ENV_YML = """\
name: ldm
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
    - transformers==4.30.2
    - accelerate
"""


def plan_for(tmp_path: Path, standin_prefix: Path, text: str = ENV_YML, **kw) -> InstallPlan:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "environment.yml").write_text(text, encoding="utf-8")
    kw.setdefault("env_name", "ldm")
    return InstallPlan(platform=LINUX, prefix=standin_prefix, env_file=project / "environment.yml",
                       accept_tos=True, **kw)


def conda_exe(prefix: Path) -> Path:
    return installer.conda_executable(prefix, "Linux")


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_env_create_from_file_runs_conda_env_create_and_pip(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix)
    rec = RecordingReporter()
    env = conda_env.create(plan, conda_exe(standin_prefix), rec, CancelToken())
    assert env.prefix == standin_prefix / "envs" / "ldm" and env.python.exists() and env.created
    call = [c for c in read_calls(standin_prefix) if c["argv"][:2] == ["env", "create"]][-1]
    assert call["argv"] == ["env", "create", "--yes", "--json", "-f", str(plan.env_file), "-n", "ldm"]
    assert call["cwd"] == str(standin_prefix / "envs")
    assert any("2 installed by pip" in args[1] for args in rec.of("log"))
    assert not list(plan.env_file.parent.glob("condaenv.*"))  # conda's temporary requirements file is gone


def test_conda_list_of_the_standin_has_the_recorded_shape(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix)
    env = conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    from app.core.system import run_streaming

    rows = json.loads(run_streaming([conda_exe(standin_prefix), "list", "-p", env.prefix, "--json"]).stdout)
    recorded = json.loads((DATA / "real-conda" / "conda-list--json-n-demo.json").read_text())
    assert all(set(r) == set(recorded[0]) for r in rows)
    pypi = {r["name"]: r for r in rows if r["channel"] == "pypi"}
    assert pypi["transformers"]["version"] == "4.30.2" and pypi["transformers"]["build_string"] == "pypi_0"
    assert {"python", "pip"} <= {r["name"] for r in rows if r["channel"] != "pypi"}


def test_verify_reports_packages_versions_and_the_cpu_build(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix, ENV_YML + "    - torch\n", torch_variant="cpu")
    env = conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    rec = RecordingReporter()
    report = env_verify.verify(plan, env, rec, CancelToken())
    assert report.ok, report.lines()
    assert report.asked == ["python", "pip", "transformers", "accelerate", "torch"]
    assert report.installed["transformers"] == "4.30.2"
    from importlib import metadata

    lines = report.lines()
    assert lines[0].startswith("All 5 packages asked are in the env: python ")
    assert f"torch {metadata.version('torch')} imports" in lines[1]
    assert lines[2].startswith("transformers 4.30.2 imports")
    assert lines[3] == "torch.version.cuda = None: the cpu build, as chosen."
    assert ("info", Stage.ENV, "env_verify") == ("info", *rec.of("info")[-1][:2])


def test_verify_names_what_is_missing_and_a_wrong_build(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix, torch_variant="cu126")
    env = conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    rec = RecordingReporter()
    report = env_verify.verify(plan, env, rec, CancelToken(), expected_pip=("peft",))
    assert not report.ok and report.missing == ["peft"]
    problems = [line for line in report.lines() if line.startswith("PROBLEM:")]
    assert problems[0] == (f"PROBLEM: {env.prefix} lacks 1 of the 5 packages asked (conda list, and pip's view for "
                           "the pip packages): peft")
    assert problems[1].startswith("PROBLEM: torch.version.cuda = None, but the cu126 variant means cuda 12.6")
    assert sum(level == "warning" for _s, _l, level in rec.of("log")) == 2


@pytest.mark.parametrize("variant, expected", [("cu126", ("cuda", "12.6")), ("cu130", ("cuda", "13.0")),
                                               ("cu118", ("cuda", "11.8")), ("cpu", ("cuda", None)),
                                               ("rocm6.2", ("hip", "6.2")), ("auto", None), (None, None)])
def test_expected_cuda_of_each_variant(variant, expected):
    assert env_verify.expected_cuda(variant) == expected


def test_a_failed_pip_section_removes_the_env_this_run_made(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix, ENV_YML.replace("accelerate", "no-such-package-xyz"))
    rec = RecordingReporter()
    with pytest.raises(EnvCreateError) as info:
        conda_env.create(plan, conda_exe(standin_prefix), rec, CancelToken())
    assert "Pip failed" in info.value.message
    assert info.value.message.endswith(f"The half-made env {standin_prefix / 'envs' / 'ldm'} was removed (this run "
                                       "had created it), so nothing is left behind.")
    assert info.value.row_id == "pip-failed" and "Fix or remove the pip line" in info.value.fix
    warnings = [line for _s, line, level in rec.of("log") if level == "warning"]
    assert "Pip subprocess error:" in warnings
    assert any("No matching distribution found for no-such-package-xyz" in w for w in warnings)
    assert not (standin_prefix / "envs" / "ldm").exists()


def test_cancel_in_the_pip_stage_ends_the_tree_and_removes_the_new_env(tmp_path, standin_prefix, monkeypatch):
    pid_file = tmp_path / "pip.pid"
    monkeypatch.setenv("STANDIN_PIP_DELAY", "120")
    monkeypatch.setenv("STANDIN_PID_FILE", str(pid_file))
    plan = plan_for(tmp_path, standin_prefix)
    rec = RecordingReporter()
    cancel = CancelToken()
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            conda_env.create(plan, conda_exe(standin_prefix), rec, cancel)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text().strip())
        assert wait_for(lambda: any(p[0].text.startswith("pip") for p in rec.of("progress")))
    finally:
        cancel.cancel()
        thread.join(60)
    assert isinstance(outcome[0], Cancelled)
    assert not list(plan.env_file.parent.glob("condaenv.*"))  # conda's temporary file, left by the killed conda
    assert any("Removed conda's temporary file" in args[1] for args in rec.of("log"))
    pid = int(pid_file.read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (standin_prefix / "envs" / "ldm").exists()
    stages = [p[0].text.split(" (")[0].split(":")[0] for p in rec.of("progress")]
    assert stages[-1] == "pip"


def test_an_existing_env_is_never_replaced_unasked_by_env_create(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix)
    conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    marker = standin_prefix / "envs" / "ldm" / "mine.txt"
    marker.write_text("keep")
    with pytest.raises(conda_env.EnvExistsError):
        conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    assert marker.read_text() == "keep"


def test_discard_created_removes_only_an_env_this_run_made(tmp_path):
    rec = RecordingReporter()
    mine = tmp_path / "mine"
    (mine / "bin").mkdir(parents=True)
    theirs = tmp_path / "theirs"
    (theirs / "bin").mkdir(parents=True)
    assert conda_env.discard_created(conda_env.EnvResult("a", mine, mine / "bin/python", created=True), rec, "cancelled")
    assert not mine.exists()
    assert not conda_env.discard_created(conda_env.EnvResult("b", theirs, theirs / "bin/python", reused=True), rec,
                                         "cancelled")
    assert theirs.exists()
    assert "not created by this run" in rec.of("log")[-1][1]


def test_env_step_shows_the_verification(tmp_path, standin_prefix):
    plan = plan_for(tmp_path, standin_prefix, ENV_YML.replace("name: ldm", "name: ldm\nprefix: /home/x/envs/ldm"))
    rec = RecordingReporter()
    pipeline.preflight(InstallPlan(platform=LINUX, prefix=tmp_path / "fresh", env_file=plan.env_file,
                                   env_name="ldm", accept_tos=True), rec)
    assert any("has 'prefix: /home/x/envs/ldm'" in line for _s, line, level in rec.of("log") if level == "warning")
    result = pipeline.run_step(Stage.ENV, plan, pipeline.RunState(), rec, CancelToken())
    assert result.summary.startswith(f"env ldm at {standin_prefix / 'envs' / 'ldm'}; verified:")
    assert "transformers 4.30.2 imports" in result.summary
    assert result.data["verify"]["ok"] is True


def test_text_conda_prints_before_the_json_does_not_hide_the_result(tmp_path, standin_prefix):
    """conda env create prints EnvironmentSectionNotValid and the pip nag with print(), before its --json
    document (conda/env/env.py validate_keys); the result is still read."""
    text = ENV_YML.replace("  - pip\n", "").replace("name: ldm", "name: ldm\nextras: 1")
    plan = plan_for(tmp_path, standin_prefix, text)
    rec = RecordingReporter()
    env = conda_env.create(plan, conda_exe(standin_prefix), rec, CancelToken())
    assert env.python.exists()
    debug = [line for _s, line, level in rec.of("log") if level == "debug"]
    assert any(line.startswith("EnvironmentSectionNotValid:") for line in debug)
    assert any("I'm adding one for you" in line for line in debug)


def test_cancel_after_creation_removes_the_env_this_run_created(tmp_path, standin_prefix):
    """A cancel in a later env step (here the verification) removes the env that this run created."""
    plan = plan_for(tmp_path, standin_prefix)
    cancel = CancelToken()

    class CancelWhenCreated(RecordingReporter):
        def log(self, stage, line, level="info"):
            super().log(stage, line, level)
            if line.startswith("Created env "):
                cancel.cancel()

    rec = CancelWhenCreated()
    with pytest.raises(Cancelled):
        pipeline.run_step(Stage.ENV, plan, pipeline.RunState(), rec, cancel)
    assert not (standin_prefix / "envs" / "ldm").exists()
    assert any("Removing the env" in line and "that this run created (cancelled)" in line
               for _s, line, _l in rec.of("log"))


def test_a_file_with_nodefaults_needs_no_tos_and_one_without_does(tmp_path, standin_prefix):
    """conda env create uses the file's channels and then .condarc's (defaults) unless the file says nodefaults
    (conda/env/installers/conda.py _solve)."""
    text = ENV_YML.replace("  - conda-forge\n", "  - conda-forge\n  - nodefaults\n")
    project = tmp_path / "p2"
    project.mkdir()
    (project / "environment.yml").write_text(text)
    plan = InstallPlan(platform=LINUX, prefix=standin_prefix, env_file=project / "environment.yml", env_name="ldm")
    assert plan.uses_defaults_channels is False
    env = conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    assert env.python.exists()
    (project / "environment.yml").write_text(ENV_YML)
    assert plan.uses_defaults_channels is True


@pytest.mark.parametrize("kw, index, trusted", [
    ({"mirror": "tuna"}, "https://pypi.tuna.tsinghua.edu.cn/simple", None),
    ({"mirror": "official", "pip_index": "http://127.0.0.1:9/simple"}, "http://127.0.0.1:9/simple", "127.0.0.1"),
])
def test_the_files_pip_section_uses_the_mirrors_pip_index(tmp_path, standin_prefix, monkeypatch, kw, index, trusted):
    # conda runs the pip: section before the env's pip.conf exists: the index must reach conda's pip child
    index_log = tmp_path / "pip-index.log"
    monkeypatch.setenv("STANDIN_PIP_INDEX_LOG", str(index_log))
    plan = plan_for(tmp_path, standin_prefix, **kw)
    rec = RecordingReporter()
    env = conda_env.create(plan, conda_exe(standin_prefix), rec, CancelToken())
    assert index_log.read_text().splitlines() == [index]
    call = [c for c in read_calls(standin_prefix) if c["argv"][:2] == ["env", "create"]][-1]
    assert call["env"]["PIP_INDEX_URL"] == index and call["env"]["PIP_TRUSTED_HOST"] == trusted
    assert (env.prefix / "lib").exists()


def test_the_files_pip_section_without_a_mirror_gets_no_pip_variables(tmp_path, standin_prefix, monkeypatch):
    index_log = tmp_path / "pip-index.log"
    monkeypatch.setenv("STANDIN_PIP_INDEX_LOG", str(index_log))
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    plan = plan_for(tmp_path, standin_prefix, mirror="official")
    conda_env.create(plan, conda_exe(standin_prefix), RecordingReporter(), CancelToken())
    assert index_log.read_text().splitlines() == ["https://pypi.org/simple"]
    assert conda_env.pip_child_vars(plan) == {}
