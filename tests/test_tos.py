"""ToS, done properly: checked before installing, kept after an explicit acceptance, and the stand-in conda
reproduces real conda's failure shapes (tests/data/real-conda-errors) so the error table meets them for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import conda_env, conda_errors, installer, pipeline, tos
from app.core.errors import EnvCreateError, TermsOfServiceError
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from tests.support.http_server import LocalServer
from tests.support.standin import read_calls

LINUX = PlatformInfo("Linux", "x86_64")
DATA = Path(__file__).parent / "data" / "real-conda-errors"
ROOT = Path(__file__).resolve().parent.parent


def conda(prefix: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUTF8="1", **extra_env)
    return subprocess.run([str(prefix / "bin" / "conda"), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def make_channel(folder: Path, terms: bool) -> Path:
    """A local conda channel (noarch/repodata.json), serving a terms.json when ``terms``."""
    (folder / "noarch").mkdir(parents=True)
    (folder / "noarch" / "repodata.json").write_text("{}")
    if terms:
        (folder / "terms.json").write_text(json.dumps({"version": "2025-01-01", "text": "Test terms."}))
    return folder


def plan_for(standin_prefix: Path, **kw) -> InstallPlan:
    return InstallPlan(platform=LINUX, prefix=standin_prefix, **kw)


def create(plan: InstallPlan, prefix: Path):
    return conda_env.create(plan, installer.conda_executable(prefix, "Linux"), RecordingReporter(), CancelToken())


# ---- the acceptance is kept --------------------------------------------------------------------------------------

def test_accept_runs_condas_own_command_for_each_channel_and_is_kept(standin_prefix, isolated_home):
    plan = plan_for(standin_prefix, env_name="demo", accept_tos=True)
    rec = RecordingReporter()
    result = tos.accept(plan, installer.conda_executable(standin_prefix, "Linux"), rec, CancelToken())
    assert result.accepted == list(tos.DEFAULTS) and not result.failed
    calls = [c["argv"] for c in read_calls(standin_prefix) if c["argv"][:2] == ["tos", "accept"]]
    assert calls == [["tos", "accept", "--override-channels", "--channel", url] for url in tos.DEFAULTS]
    assert all(c["env"]["CONDA_PLUGINS_AUTO_ACCEPT_TOS"] is None for c in read_calls(standin_prefix))
    assert len(list((isolated_home / ".conda" / "tos").glob("*/*.json"))) == 2
    # the user's own plain conda create (no variable, no CI) is not refused any more
    own = conda(standin_prefix, "create", "--yes", "--json", "-n", "mine", "python=3.11")
    assert own.returncode == 0, own.stdout
    assert "accepted Terms of Service for https://repo.anaconda.com/pkgs/main" in [a[1] for a in rec.of("log")]


def test_nothing_is_accepted_without_an_explicit_acceptance(standin_prefix):
    plan = plan_for(standin_prefix, env_name="demo")
    result = tos.accept(plan, installer.conda_executable(standin_prefix, "Linux"), RecordingReporter(), CancelToken())
    assert result.accepted == [] and not any(c["argv"][:1] == ["tos"] for c in read_calls(standin_prefix))


@pytest.mark.slow
def test_silent_run_with_accept_tos_keeps_the_acceptance(tmp_path, isolated_home, mirror):
    prefix = tmp_path / "miniconda3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(isolated_home), "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    res = subprocess.run([sys.executable, "-m", "app", "--silent", "--mirror", mirror.base_url, "--prefix", str(prefix),
                          "--accept-tos", "--no-gpu-check", "--download-dir", str(tmp_path / "dl")],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    accepts = [c for c in read_calls(prefix) if c["argv"][:2] == ["tos", "accept"]]
    assert {c["argv"][-1] for c in accepts} == set(tos.DEFAULTS)
    own = conda(prefix, "create", "--yes", "--json", "-n", "mine", "python=3.11", "numpy")
    assert own.returncode == 0, own.stdout
    assert own.stderr == ""


# ---- any channel with terms is gated, and named --------------------------------------------------------------------

def test_a_file_channel_with_terms_is_gated_and_named(standin_prefix, tmp_path):
    url = f"file://{make_channel(tmp_path / 'tosch', terms=True)}"
    plan = plan_for(standin_prefix, env_name="t", channels=(url,))
    with pytest.raises(TermsOfServiceError) as before:
        tos.check_before_install(plan)
    assert url in before.value.message and "defaults" not in before.value.message
    with pytest.raises(TermsOfServiceError) as err:  # conda itself, through the error table
        create(plan, standin_prefix)
    assert url in err.value.message and f"conda tos accept --override-channels --channel {url}" in err.value.fix
    assert not (standin_prefix / "envs" / "t").exists()

    plan.accept_tos = True
    result = tos.accept(plan, installer.conda_executable(standin_prefix, "Linux"), RecordingReporter(), CancelToken())
    assert url in result.accepted
    assert conda(standin_prefix, "create", "--yes", "--json", "-n", "t2", "python=3.11", "-c", url,
                 "--override-channels").returncode == 0


def test_an_http_channel_with_terms_is_gated_before_installing(standin_prefix, tmp_path):
    make_channel(tmp_path / "srv" / "tosch", terms=True)
    make_channel(tmp_path / "srv" / "free", terms=False)
    with LocalServer(tmp_path / "srv") as server:
        gated, free = server.url("tosch"), server.url("free")
        with pytest.raises(TermsOfServiceError, match="tosch"):
            pipeline.preflight(plan_for(tmp_path / "new", env_name="t", channels=(gated,)), RecordingReporter())
        pipeline.preflight(plan_for(tmp_path / "new", env_name="t", channels=(free,)), RecordingReporter())
        proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "x", "python=3.11", "-c", gated,
                     "--override-channels")
        doc = json.loads(proc.stdout)
        assert doc["exception_name"] == "CondaToSNonInteractiveError" and gated in doc["message"]
        assert conda(standin_prefix, "create", "--yes", "--json", "-n", "y", "python=3.11", "-c", free,
                     "--override-channels").returncode == 0


def test_silent_mode_without_acceptance_fails_before_installing(tmp_path, isolated_home, mirror):
    url = f"file://{make_channel(tmp_path / 'tosch', terms=True)}"
    prefix = tmp_path / "miniconda3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(isolated_home)})
    env.pop("QT_QPA_PLATFORM", None)
    res = subprocess.run([sys.executable, "-m", "app", "--silent", "--mirror", mirror.base_url, "--prefix", str(prefix),
                          "--channels", url, "--download-dir", str(tmp_path / "dl")],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert res.returncode == 10, res.stderr
    assert url in res.stderr and "--accept-tos" in res.stderr
    assert not prefix.exists() and not (tmp_path / "dl").exists()


# ---- the stand-in reproduces the recorded shapes, and the product explains them -------------------------------

def test_standin_bad_channel_is_the_recorded_document(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "tnf", "--override-channels", "-c",
                 "file:///nonexistent", "dependent")
    assert proc.returncode == 1 and proc.stderr == ""
    assert json.loads(proc.stdout) == json.loads((DATA / "nonexistent-file.stdout").read_text())
    with pytest.raises(EnvCreateError) as exc:
        create(plan_for(standin_prefix, env_name="tnf", channels=("file:///nonexistent",)), standin_prefix)
    assert exc.value.row_id == "bad-channel" and "file:///nonexistent" in exc.value.message


def test_standin_http_000_writes_stderr_like_the_recording(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "thr", "--override-channels", "-c",
                 "http://127.0.0.1:9/", "dependent")
    assert proc.returncode == 1
    assert proc.stderr == (DATA / "http-refused.stderr").read_text()
    assert json.loads(proc.stdout) == json.loads((DATA / "http-refused.stdout").read_text())
    with pytest.raises(EnvCreateError) as exc:
        create(plan_for(standin_prefix, env_name="thr", channels=("http://127.0.0.1:9/",)), standin_prefix)
    assert exc.value.row_id == "http-connection"


def test_standin_unsatisfiable_has_an_empty_message(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "tun3", "--override-channels", "-c",
                 "conda-forge", "python=3.11", "unsatisfiable")
    assert json.loads(proc.stdout) == json.loads((DATA / "unsat-dep-localpy.stdout").read_text())
    with pytest.raises(EnvCreateError) as exc:
        create(plan_for(standin_prefix, env_name="u", channels=("conda-forge",), packages=("unsatisfiable",)),
               standin_prefix)
    assert exc.value.row_id == "unsatisfiable-no-detail"
    assert "UnsatisfiableError: UnsatisfiableError" not in str(exc.value)


def test_standin_crashes_without_json_on_a_spec_without_a_name(standin_prefix):
    proc = conda(standin_prefix, "create", "--yes", "--json", "-n", "tbad", "python=3.11", "dependent", ">=2.0",
                 "--override-channels", "-c", "conda-forge")
    real = (DATA / "bad-spec.stderr").read_text()
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == real.splitlines()[-1]
    assert "conda.exceptions.InvalidMatchSpec: Invalid spec '>=2.0': no package name found in '>=2.0'" in proc.stderr
    err = conda_errors.explain(None, proc.stdout, proc.stderr, proc.returncode)
    assert err.row_id == "bad-spec-crash"


def test_standin_python_without_interpreter(standin_prefix):
    with pytest.raises(EnvCreateError) as exc:
        create(plan_for(standin_prefix, env_name="t399", channels=("conda-forge",), env_python="3.99"),
               standin_prefix)
    assert exc.value.row_id == "python-without-interpreter"
    assert "python 3.99.99 from" in exc.value.message and "Keep python" not in exc.value.fix


def test_standin_cuda_package_on_a_machine_without_driver(standin_prefix):
    with pytest.raises(EnvCreateError) as exc:
        create(plan_for(standin_prefix, env_name="cu", channels=("conda-forge",), packages=("pytorch-cuda",)),
               standin_prefix)
    assert exc.value.row_id == "no-nvidia-driver" and "--torch-variant cpu" in exc.value.fix


@pytest.mark.parametrize("terms", [True, False])
def test_a_mirror_that_writes_the_channels_decides_the_gate(tmp_path, monkeypatch, terms):
    """With no --channels, the channels in force are those the mirror writes into .condarc: a mirror of the
    defaults channels is gated only when its channels serve terms; a conda-forge-only mirror never is."""
    from app.core import mirrors

    main = tmp_path / "anaconda" / "pkgs" / "main"
    main.mkdir(parents=True)
    if terms:
        (main / "terms.json").write_text("{}", encoding="utf-8")
    table = tmp_path / "mirrors.toml"
    table.write_text(
        '[mirrors.campus]\ntitle = "Campus"\ninstaller = "http://127.0.0.1:1/anaconda/miniconda/"\n'
        f'[mirrors.campus.conda]\nchannels = ["defaults"]\ndefault_channels = ["{main.as_uri()}"]\n'
        '[mirrors.forge]\ntitle = "Forge"\ninstaller = "http://127.0.0.1:1/anaconda/miniconda/"\n'
        f'[mirrors.forge.conda]\nchannels = ["conda-forge"]\ncustom_channels = {{ conda-forge = "{tmp_path.as_uri()}" }}\n',
        encoding="utf-8")
    monkeypatch.setenv(mirrors.TABLE_ENV, str(table))
    monkeypatch.delenv("CONDA_PLUGINS_AUTO_ACCEPT_TOS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="campus", prefix=tmp_path / "mc")
    assert tos.channels_with_terms(plan) == ([main.as_uri()] if terms else [])
    if terms:
        with pytest.raises(TermsOfServiceError) as info:
            tos.check_before_install(plan)
        assert main.as_uri() in info.value.message and "Anaconda's defaults" not in info.value.message
    else:
        tos.check_before_install(plan)  # nothing to accept: the mirror's defaults serve no terms
    forge = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="forge", prefix=tmp_path / "mc")
    assert tos.channels_with_terms(forge) == []
    # --channels still wins over the mirror's .condarc: defaults named explicitly are Anaconda's own
    explicit = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="forge", prefix=tmp_path / "mc",
                           channels=("defaults",))
    assert tos.channels_with_terms(explicit)[0].startswith("https://repo.anaconda.com/")
