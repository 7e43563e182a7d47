"""Issue 8, "The right torch for the machine": presets as data, the PyTorch variant from the driver and compute
capability (resources/torch_variants.toml), the GPU probe, and the env's pip step."""

from __future__ import annotations

import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.cli import main, plan_from_values
from app.core import gpu_info, pip_install, presets, torch_variant
from app.core.conda_env import EnvResult
from app.core.errors import EnvCreateError
from app.core.events import CancelToken, RecordingReporter
from app.core.gpu_info import GpuDevice, GpuInfo
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo, detect
from app.resources import resource
from tests.support.http_server import LocalServer
from tests.support.wheels import tiny_wheel as _tiny_wheel

DATA = Path(__file__).parent / "data"
LINUX = PlatformInfo("Linux", "x86_64")
PY = "/envs/llm/bin/python"
PIP = (PY, "-m", "pip", "install")
REST = (*PIP, "transformers", "accelerate")  # resources/presets.toml, LLM presets' pip list
WHL = "https://download.pytorch.org/whl/"


@pytest.fixture
def real_presets(monkeypatch):
    """The bundled resources/presets.toml (the suite otherwise uses tests/data/presets/offline.toml)."""
    monkeypatch.delenv(presets.PRESETS_ENV, raising=False)


def gpu(driver: str, *devices: tuple[str, str | None]) -> GpuInfo:
    return GpuInfo(driver, tuple(GpuDevice(n, cc) for n, cc in devices), "nvidia-smi")


# driver 470.86: the real header in tests/data/gpu/nvidia-smi_header_driver470_cuda11.4_partial__Fooocus-issue-1313.txt
ROWS = [
    # id, platform, gpu, variant, preset, torch command, words in the reason
    ("no-gpu", LINUX, None, "cpu", "llm-cpu",
     (*PIP, "--index-url", WHL + "cpu", "torch"), ["No NVIDIA GPU driver was found"]),
    ("driver-470", LINUX, gpu("470.86", ("NVIDIA GeForce RTX 3090", "8.6")), "cpu", "llm-cpu",
     (*PIP, "--index-url", WHL + "cpu", "torch"),
     ["470.86 is too old", "update the driver to >= 525.60.13, or use the CPU"]),
    ("driver-550", LINUX, gpu("550.127.05", ("NVIDIA GeForce RTX 3090", "8.6")), "cu126", "llm-gpu",
     (*PIP, "--index-url", WHL + "cu126", "torch"), ["cu130 needs driver >= 580.65.06"]),
    ("driver-590", LINUX, gpu("590.44.01", ("NVIDIA GeForce RTX 4090", "8.9")), "cu130", "llm-gpu",
     (*PIP, "--index-url", WHL + "cu130", "torch"), ["CUDA 13.0 build cu130 fits"]),
    ("pascal-on-590", LINUX, gpu("590.44.01", ("NVIDIA GeForce GTX 1080", "6.1")), "cu126", "llm-gpu",
     (*PIP, "--index-url", WHL + "cu126", "torch"), ["cu130 has no kernels for compute capability 6.1"]),
    ("apple-silicon", PlatformInfo("MacOSX", "arm64"), None, "mps", "llm-mps",
     (*PIP, "torch"), ["Apple Silicon", "MPS"]),
    ("linux-aarch64", PlatformInfo("Linux", "aarch64"), None, "cpu", "llm-cpu",
     (*PIP, "--index-url", WHL + "cpu", "torch"), ["CPU build"]),
    # more of the same kind
    ("aarch64-grace-hopper-590", PlatformInfo("Linux", "aarch64"), gpu("590.44.01", ("NVIDIA GH200 480GB", "9.0")),
     "cu130", "llm-gpu", (*PIP, "--index-url", WHL + "cu130", "torch"), ["cu130"]),
    ("blackwell-on-570", LINUX, gpu("570.86.10", ("NVIDIA GeForce RTX 5090", "12.0")), "cpu", "llm-cpu",
     (*PIP, "--index-url", WHL + "cpu", "torch"), ["update the driver to >= 580.65.06, or use the CPU"]),
    ("blackwell-gb10-on-580", LINUX, gpu("580.95.05", ("NVIDIA GB10", "12.1")), "cu130", "llm-gpu",
     (*PIP, "--index-url", WHL + "cu130", "torch"), ["cu130"]),
    ("kepler-on-470", LINUX, gpu("470.86", ("Tesla K80", "3.7")), "cpu", "llm-cpu",
     (*PIP, "--index-url", WHL + "cpu", "torch"), ["No current PyTorch CUDA build supports Tesla K80"]),
    ("windows-528.33", PlatformInfo("Windows", "x86_64"), gpu("528.33", ("NVIDIA GeForce RTX 3060", "8.6")), "cu126",
     "llm-gpu", (*PIP, "--index-url", WHL + "cu126", "torch"), ["cu126"]),
    ("linux-525.60.12", LINUX, gpu("525.60.12", ("NVIDIA GeForce RTX 3060", "8.6")), "cpu", "llm-cpu",
     (*PIP, "--index-url", WHL + "cpu", "torch"), ["update the driver to >= 525.60.13"]),
    ("intel-mac", PlatformInfo("MacOSX", "x86_64"), None, "cpu", "llm-cpu",
     (*PIP, "torch==2.2.2", "numpy<2"), ["Intel Mac", "2.2.2"]),
    ("mixed-gpus-590", LINUX, gpu("590.44.01", ("NVIDIA GeForce RTX 4090", "8.9"), ("NVIDIA GeForce GTX 1080", "6.1")),
     "cu126", "llm-gpu", (*PIP, "--index-url", WHL + "cu126", "torch"), ["6.1"]),
]


@pytest.mark.parametrize("platform, gpu_found, variant, preset, torch_cmd, reason",
                         [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_variant_choice_gives_the_exact_pip_commands(real_presets, platform, gpu_found, variant, preset,
                                                     torch_cmd, reason):
    plan = InstallPlan(platform=platform)
    if platform.os == "Windows":
        plan.prefix = Path("C:\\miniconda3")
    assert plan.problems() == []
    choice = presets.resolve(plan, gpu=gpu_found)
    assert (choice.variant.variant, choice.name) == (variant, preset)
    for words in reason:
        assert words in choice.reason, choice.reason
    assert [s.argv for s in pip_install.steps(plan, PY, choice)] == [torch_cmd, REST]
    # the summary (wizard and --dry-run) shows the preset, the reason and the commands
    assert plan.conda_create_args()[5:] == ["python=3.11", "pip"]


def test_driver_too_old_is_a_warning_in_the_summary(real_presets, monkeypatch):
    monkeypatch.setattr(gpu_info, "detected", lambda: gpu("470.86", ("NVIDIA GeForce RTX 3090", "8.6")))
    text = InstallPlan(platform=presets._here()).summary()
    assert "Warning:         The NVIDIA driver 470.86 is too old for every current PyTorch CUDA build: update the " \
           "driver to >= 525.60.13, or use the CPU." in text
    assert "pip:             python -m pip install --index-url https://download.pytorch.org/whl/cpu torch" in text
    assert "pip:             python -m pip install transformers accelerate" in text
    assert "Preset:          LLM on the CPU" in text


def test_aarch64_cuda_build_is_flagged_unverified(real_presets):
    choice = presets.resolve(InstallPlan(platform=PlatformInfo("Linux", "aarch64")),
                             gpu=gpu("590.44.01", ("NVIDIA GH200 480GB", "9.0")))
    assert any("not checked" in w and "Jetson" in w for w in choice.warnings)


# ---- --torch-variant and --preset ------------------------------------------------------------------

def test_torch_variant_override_wins_and_warns_about_the_driver(real_presets):
    plan = InstallPlan(platform=LINUX, torch_variant="cu130")
    choice = presets.resolve(plan, gpu=gpu("550.127.05", ("NVIDIA GeForce RTX 3090", "8.6")))
    assert choice.variant.variant == "cu130" and choice.name == "llm-gpu"
    assert choice.reason.startswith("Set with --torch-variant: cu130 (CUDA 13.0).")
    assert any("needs NVIDIA driver >= 580.65.06" in w for w in choice.warnings)
    assert pip_install.steps(plan, PY, choice)[0].argv == (*PIP, "--index-url", WHL + "cu130", "torch")
    cpu = presets.resolve(InstallPlan(platform=LINUX, torch_variant="cpu"),
                          gpu=gpu("590.44.01", ("NVIDIA GeForce RTX 4090", "8.9")))
    assert (cpu.variant.variant, cpu.name) == ("cpu", "llm-cpu")


@pytest.mark.parametrize("argv, words", [
    (["--torch-variant", "cu999"], ["Unknown PyTorch variant 'cu999'", "auto, cpu, cu126, cu130, cu132, mps"]),
    (["--torch-variant", "cu130", "--platform", "MacOSX-arm64"], ["has no build for macOS", "auto, mps"]),
    (["--torch-variant", "mps"], ["'mps' has no build for Linux", "auto, cpu, cu126, cu130, cu132"]),
    (["--preset", "llm-gpu", "--platform", "MacOSX-arm64"], ["no CUDA build of PyTorch for macOS"]),
    (["--env-python", "3.9"], ["Python 3.10 to 3.15, not 3.9"]),
    (["--packages", "numpy", "--torch-variant", "cu126"], ["applies to the LLM presets"]),
    (["--preset", "env-file"], ["needs an environment.yml"]),
])
def test_bad_variant_or_preset_exits_2_naming_the_known_ones(real_presets, capsys, tmp_path, argv, words):
    code = main(["--dry-run", "--prefix", str(tmp_path / "mc"), "--accept-tos", "--platform", "Linux-x86_64", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    for w in words:
        assert w in err, err


def test_preset_flag_and_answer_file_set_the_plan_field(real_presets, tmp_path):
    from app.cli import build_parser, plan_from_args

    plan = plan_from_args(build_parser().parse_args(["--preset", "minimal"]))
    assert plan.preset == "minimal" and plan.conda_create_args()[5:] == ["python=3.11", "pip"]
    assert pip_install.steps(plan, PY) == []
    cfg = tmp_path / "a.toml"
    cfg.write_text('preset = "llm-extra"\ntorch_variant = "cu126"\n', encoding="utf-8")
    plan = plan_from_args(build_parser().parse_args(["--config", str(cfg), "--platform", "Linux-x86_64"]))
    steps = pip_install.steps(plan, PY, presets.resolve(plan, gpu=None))
    assert [s.argv for s in steps] == [(*PIP, "--index-url", WHL + "cu126", "torch"),
                                       (*PIP, "transformers", "accelerate", "datasets", "tokenizers")]


def test_auto_with_packages_is_custom_conda_only(real_presets):
    plan = InstallPlan(platform=LINUX, packages=("numpy",))
    choice = presets.resolve(plan, gpu=None)
    assert choice.name == "custom" and choice.variant is None and "packages were given" in choice.reason
    assert plan.conda_create_args()[5:] == ["python=3.11", "numpy"]
    plan = InstallPlan(platform=LINUX, preset="llm", packages=("numpy",))
    assert plan.conda_create_args()[5:] == ["python=3.11", "pip", "numpy"]  # extras for an LLM preset


@pytest.mark.parametrize("channels, packages", [
    (("pytorch",), ()), (("conda-forge", "https://conda.anaconda.org/pytorch/"), ()),
    (("https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/pytorch",), ()),
    ((), ("pytorch-cuda=12.4",)), ((), ("pytorch::pytorch",)),
])
def test_pytorch_conda_channel_is_warned_about(real_presets, channels, packages):
    plan = InstallPlan(platform=LINUX, channels=channels, packages=packages or ("numpy",))
    assert presets.PYTORCH_CHANNEL_NOTE in presets.resolve(plan, gpu=None).warnings
    assert "stopped at PyTorch 2.5" in plan.summary()
    clean = InstallPlan(platform=LINUX, channels=("conda-forge",), packages=("pytorch", "numpy"))
    assert presets.channel_warnings(clean) == []


def test_presets_and_variants_are_data(real_presets, tmp_path, monkeypatch):
    table = torch_variant.load()
    assert table.path == resource("torch_variants.toml") and table.version >= 1
    assert {"cpu", "cu126", "cu130", "mps"} <= set(table.names)
    assert set(presets.load()) >= {"llm-gpu", "llm-cpu", "llm-mps", "minimal", "env-file", "custom"}
    # a substituted table decides instead (a site that pins another build)
    own = tmp_path / "variants.toml"
    own.write_text(textwrap.dedent("""\
        version = 99
        torch = "9.9"
        [variant.cpu]
        platforms = ["Linux-x86_64"]
        [variant.cu999]
        title = "CUDA 99.9"
        cuda = "99.9"
        platforms = ["Linux-x86_64"]
        min_driver = { Linux = "100" }
        compute_capability = ["1.0", "99.0"]
        rank = 5
    """), encoding="utf-8")
    monkeypatch.setenv(torch_variant.TABLE_ENV, str(own))
    choice = presets.resolve(InstallPlan(platform=LINUX), gpu=gpu("470.86", ("Tesla K80", "3.7")))
    assert choice.variant.variant == "cu999"


# ---- the GPU probe ---------------------------------------------------------------------------------

def test_parse_nvidia_smi_query_lines():
    info = gpu_info.parse_nvidia_smi("590.44.01, 8.6, NVIDIA GeForce RTX 3090\n590.44.01, 6.1, NVIDIA GeForce GTX 1080\n")
    assert info == GpuInfo("590.44.01", (GpuDevice("NVIDIA GeForce RTX 3090", "8.6"),
                                         GpuDevice("NVIDIA GeForce GTX 1080", "6.1")), "nvidia-smi")
    assert gpu_info.parse_nvidia_smi("No devices were found\n") is None
    assert gpu_info.parse_nvidia_smi("590.44.01, [N/A], Some, GPU, with commas").devices[0] == \
        GpuDevice("Some, GPU, with commas", None)


def _fake_nvidia_smi(folder: Path, recording: Path) -> Path:
    """An ``nvidia-smi`` (which cannot run here) that answers ``--query-gpu=FIELDS`` from a REAL recorded query:
    the recording's first line is the command with its field list, the second the values. A field the recorded
    driver did not know (``compute_cap``, added to nvidia-smi long after driver 440) gets nvidia-smi's refusal."""
    script = folder / "nvidia-smi"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        lines = open({str(recording)!r}, encoding="utf-8").read().splitlines()
        names = lines[0].split("--query-gpu=")[1].split()[0].split(",")
        values = dict(zip(names, [v.strip() for v in lines[1].split(", ")]))
        asked = next(a for a in sys.argv if a.startswith("--query-gpu=")).split("=", 1)[1].split(",")
        for name in asked:
            if name not in values:
                print(f'Field "{{name}}" is not a valid field to query.', file=sys.stderr)
                sys.exit(2)
        print(", ".join(values[n] for n in asked))
    """), encoding="utf-8")
    script.chmod(0o755)
    return script


def test_nvidia_smi_fallback_reads_a_real_recorded_answer(tmp_path):
    exe = _fake_nvidia_smi(tmp_path, DATA / "gpu" / "nvidia-smi_query_gpu_csv_noheader_nounits__gpu-utils-issue-83.txt")
    info = gpu_info.read_nvidia_smi(str(exe))
    # issue 6: the query also asks memory.total (7979 MiB in the recording)
    assert info == GpuInfo("440.64", (GpuDevice("GeForce RTX 2080", None, 7979 * 1024 * 1024),), "nvidia-smi")
    choice = torch_variant.choose(LINUX, info)
    assert choice.variant == "cpu" and "update the driver to >= 525.60.13, or use the CPU" in choice.reason


def test_detect_falls_back_to_nvidia_smi_and_never_raises(tmp_path, monkeypatch):
    if gpu_info.read_nvml() is not None:
        pytest.skip("NVML works on this machine; the fallback is checked where it does not")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_info.detect() is None  # no driver library, no nvidia-smi: no GPU, no exception
    _fake_nvidia_smi(tmp_path, DATA / "gpu" / "nvidia-smi_query_gpu_csv_noheader_nounits__gpu-utils-issue-83.txt")
    assert gpu_info.detect().driver_version == "440.64"
    broken = tmp_path / "nvidia-smi"
    broken.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA "
                      "driver.'\nexit 9\n")
    assert gpu_info.detect() is None


# ---- the pip step, for real ------------------------------------------------------------------------

def _stand_in_env(folder: Path) -> Path:
    """An env shaped like the stand-in conda's: a venv without pip that sees this interpreter's site-packages
    (torch, pip) through a .pth. Returns its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    sp = next((folder / "lib").glob("python3*/site-packages"))
    (sp / "host.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return folder / "bin" / "python"


@pytest.mark.slow
def test_pip_step_installs_from_the_envs_pip_index_and_finds_torch_installed(tmp_path, monkeypatch):
    root = tmp_path / "index"
    _tiny_wheel(root, "tinyllmlib")
    (root / "simple" / "index.html").write_text("<html></html>", encoding="utf-8")
    own = tmp_path / "presets.toml"
    own.write_text('[preset.llm]\nkind = "llm"\nhardware = true\nconda = ["pip"]\npip = ["tinyllmlib"]\n'
                   '[preset.llm-cpu]\ntitle = "LLM on the CPU"\nkind = "llm"\ndevice = "cpu"\n'
                   '[preset.llm-gpu]\nkind = "llm"\ndevice = "cuda"\n[preset.llm-mps]\nkind = "llm"\ndevice = "mps"\n'
                   '[preset.custom]\nkind = "conda"\n[preset.env-file]\nkind = "env-file"\n', encoding="utf-8")
    monkeypatch.setenv(presets.PRESETS_ENV, str(own))
    for var in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    env_dir = tmp_path / "envs" / "llm"
    python = _stand_in_env(env_dir)
    with LocalServer(root) as server:
        # the env's own pip config, as app.core.pip_config writes it for a mirror ("site" config: sys.prefix/pip.conf)
        (env_dir / "pip.conf").write_text(f"[global]\nindex-url = {server.base_url}/simple\n", encoding="utf-8")
        plan = InstallPlan(platform=presets._here(), torch_variant="cpu")
        rec = RecordingReporter()
        result = pip_install.run(plan, EnvResult("llm", env_dir, python), rec, CancelToken())
        asked = [path for _m, path, _h in server.state.requests]
    assert [s.argv[4:] for s in result.steps] == [("--index-url", WHL + "cpu", "torch"), ("tinyllmlib",)]
    out = subprocess.run([str(python), "-c", "import tinyllmlib, torch; print(tinyllmlib.__file__)"],
                         capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in out  # installed INTO the env, not the host
    assert "/simple/tinyllmlib/" in asked and not any("torch" in p for p in asked)  # torch: already there
    logs = " ".join(str(e) for e in rec.of("log"))
    assert "Requirement already satisfied: torch" in logs
    # the run adds pip's progress flag for this pip (raw from 24.1, else off); stage texts reach the reporter
    version = pip_install.pip_version(python)
    assert version and version[0].isdigit()
    calls = [c for c in rec.of("progress") if c and getattr(c[0], "text", "")]
    assert calls, "pip's lines gave no stage text"

    # a package the index does not have: pip's message, a fix and the command to retry
    own.write_text(own.read_text().replace('pip = ["tinyllmlib"]', 'pip = ["no-such-llm-lib"]'), encoding="utf-8")
    with LocalServer(root) as server:
        (env_dir / "pip.conf").write_text(f"[global]\nindex-url = {server.base_url}/simple\n", encoding="utf-8")
        with pytest.raises(EnvCreateError) as err:
            pip_install.run(plan, EnvResult("llm", env_dir, python), RecordingReporter(), CancelToken())
    assert "No matching distribution found for no-such-llm-lib" in err.value.message
    assert "--pip-index" in err.value.fix and f"{python} -m pip install no-such-llm-lib" in err.value.fix
    assert err.value.exit_code == 9


def test_reused_env_gets_no_pip_step(tmp_path):
    rec = RecordingReporter()
    res = pip_install.run(InstallPlan(platform=LINUX, torch_variant="cpu"),
                          EnvResult("llm", tmp_path, tmp_path / "bin" / "python", reused=True), rec, CancelToken())
    assert res.steps == () and "reused as it is" in res.skipped


def test_pip_errors_map_to_fixes():
    step = pip_install.PipStep("PyTorch (CUDA 13.0)", (*PIP, "--index-url", WHL + "cu130", "torch"), "x", WHL + "cu130")
    plan = InstallPlan(platform=LINUX)
    cases = {
        "ERROR: Could not find a version that satisfies the requirement torch (from versions: none)\n"
        "ERROR: No matching distribution found for torch": "has no torch for Python 3.11",
        "WARNING: Retrying (Retry(total=4...)) after connection broken by 'NewConnectionError(...)'\n"
        "ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='download.pytorch.org', "
        "port=443): Max retries exceeded": "could not reach https://download.pytorch.org/whl/cu130",
        "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device": "space",
        "Could not fetch URL https://download.pytorch.org/whl/cu130/torch/: There was a problem confirming the ssl "
        "certificate: HTTPSConnectionPool(...): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, "
        "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))": "OS certificate store",
    }
    for output, words in cases.items():
        err = pip_install.error_for(step, 1, output, plan)
        assert words in err.fix or words in err.message, (output, err.message, err.fix)
        assert "To retry by hand: /envs/llm/bin/python -m pip install --index-url" in err.fix


def test_dry_run_prints_the_preset_reason_and_commands(real_presets, capsys, tmp_path):
    # --dry-run prints plan.summary(); a Mac's plan is built here from the answer-file values (a dry run of
    # --platform MacOSX-arm64 on this Linux machine is refused: its installer cannot run here)
    plan = plan_from_values({"platform": "MacOSX-arm64", "prefix": str(tmp_path / "mc"), "accept_tos": True})
    out = plan.summary()
    assert "Preset:          LLM on Apple Silicon (MPS)" in out and "pip:             python -m pip install torch" in out
    assert "Apple Silicon: the PyPI wheel of torch, which uses the GPU through MPS" in out
    # and the dry run on this machine prints the same kind of lines
    installer = tmp_path / f"Miniconda3-latest-{detect().tag}.sh"
    installer.write_bytes(b"#!/bin/sh\n")
    code = main(["--dry-run", "--prefix", str(tmp_path / "mc"), "--accept-tos", "--installer-file", str(installer)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Preset:          LLM on" in out and "pip:             python -m pip install" in out


def test_a_mirror_of_the_torch_wheels_is_used_as_it_says(real_presets):
    class Sources:  # the shape of app.core.mirrors.Sources (MIRRORS helper): a flat folder, as Aliyun serves it
        def torch_index(self, variant):
            return f"https://mirrors.aliyun.com/pytorch-wheels/{variant}", "find-links"

    plan = InstallPlan(platform=LINUX)
    choice = presets.resolve(plan, gpu=gpu("590.44.01", ("NVIDIA GeForce RTX 4090", "8.9")))
    torch_step, rest = pip_install.steps(plan, PY, choice, sources=Sources())
    assert torch_step.argv == (*PIP, "--find-links", "https://mirrors.aliyun.com/pytorch-wheels/cu130", "torch")
    assert "a mirror of the PyTorch wheels" in torch_step.source
    assert rest.argv == REST  # the rest: the env's own pip config (PyPI or its mirror), no index named here


# ---- a pip failure: never suggest what is already chosen; say what becomes of the env --------------------------

NOT_FOUND = ("ERROR: Could not find a version that satisfies the requirement {0} (from versions: none)\n"
             "ERROR: No matching distribution found for {0}")


def test_a_failed_torch_step_never_suggests_the_variant_or_python_already_chosen():
    step = pip_install.PipStep("PyTorch (CPU)", (*PIP, "--index-url", WHL + "cpu", "torch"), "x", WHL + "cpu",
                               "cpu", ("torch",))
    err = pip_install.error_for(step, 1, NOT_FOUND.format("torch"), InstallPlan(platform=LINUX, env_python="3.11"))
    assert "--torch-variant" not in err.fix and "--env-python 3.11" not in err.fix
    assert "has no torch for Python 3.11" in err.fix and "another Python (--env-python 3.12)" in err.fix
    cu = pip_install.PipStep("PyTorch (CUDA 13.0)", (*PIP, "--index-url", WHL + "cu130", "torch"), "x", WHL + "cu130",
                             "cu130", ("torch",))
    err = pip_install.error_for(cu, 1, NOT_FOUND.format("torch"), InstallPlan(platform=LINUX, env_python="3.12"))
    assert "--torch-variant (cpu exists" in err.fix and "--env-python 3.11" in err.fix


def test_a_dependency_missing_from_a_mirrors_torch_index_says_the_mirror_is_incomplete():
    url = "https://mirrors.example/pytorch-wheels/cpu"
    step = pip_install.PipStep("PyTorch (CPU)", (*PIP, "--index-url", url, "torch"), "x", url, "cpu", ("torch",))
    err = pip_install.error_for(step, 1, NOT_FOUND.format("filelock"), InstallPlan(platform=LINUX))
    assert err.fix.startswith(f"The mirror's PyTorch wheel index {url} is incomplete: it has no filelock, which "
                              "torch needs. Use the official PyTorch index (--mirror official")
    assert "--torch-variant" not in err.fix
    err = pip_install.error_for(step, 1, NOT_FOUND.format("torch"), InstallPlan(platform=LINUX))
    assert "the official PyTorch index (--mirror official)" in err.fix and "--torch-variant" not in err.fix


def _failed(step):
    return pip_install.error_for(step, 1, NOT_FOUND.format("torch"), InstallPlan(platform=LINUX))


def test_a_pip_failure_removes_an_env_this_run_created_with_nothing_from_pip(tmp_path):
    from app.core.snapshot import Snapshot

    prefix = tmp_path / "envs" / "llm"
    before = Snapshot.take(prefix)
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text("")
    env = EnvResult("llm", prefix, prefix / "bin" / "python", created=True, before=before)
    step = pip_install.PipStep("PyTorch (CPU)", (*PIP, "--index-url", WHL + "cpu", "torch"), "x", WHL + "cpu", "cpu",
                               ("torch",))
    err = pip_install.settle_env_after_failure(_failed(step), env, [], RecordingReporter())
    assert not prefix.exists()
    assert err.message.endswith(f"The env llm that this run created ({prefix}) was removed, so running again "
                                "starts clean.")
    assert "To retry by hand" not in err.fix


@pytest.mark.parametrize("created, done", [(False, []), (True, ["torch"])])
def test_a_pip_failure_keeps_any_other_env_and_says_how_to_go_on(tmp_path, created, done):
    prefix = tmp_path / "envs" / "llm"
    (prefix / "bin").mkdir(parents=True)
    env = EnvResult("llm", prefix, prefix / "bin" / "python", created=created)
    step = pip_install.PipStep("PyTorch (CPU)", (*PIP, "--index-url", WHL + "cpu", "torch"), "x", WHL + "cpu", "cpu",
                               ("torch",))
    finished = [step] if done else []
    err = pip_install.settle_env_after_failure(_failed(step), env, finished, RecordingReporter())
    assert prefix.is_dir()
    kept = "its conda part" + (" and PyTorch (CPU)" if done else "")
    assert err.message.endswith(f"The env llm ({prefix}, {kept}) is kept.")
    assert "To retry by hand" in err.fix and "--if-env-exists replace to start over" in err.fix


# ---- texts that say what really happened (new-user findings) ----------------------------------------------------

def test_a_variant_set_with_the_flag_is_not_said_to_come_from_the_machine(real_presets):
    plan = InstallPlan(platform=LINUX, torch_variant="cu126")
    reason = presets.resolve(plan, gpu=None).reason
    assert reason.startswith("Set with --torch-variant: cu126 (CUDA 12.6).") and "Chosen from the machine" not in reason
    plan = InstallPlan(platform=LINUX, preset="llm-cpu", torch_variant="cpu")
    assert presets.resolve(plan, gpu=None).reason.startswith("Set with --torch-variant (--preset llm-cpu): cpu (CPU only).")


@pytest.mark.parametrize("spec", ["pytorch", "pytorch::pytorch>=2", "torchvision", "pytorch-cuda=12.1"])
def test_an_llm_preset_refuses_conda_pytorch_in_the_packages(real_presets, capsys, tmp_path, spec):
    code = main(["--dry-run", "--preset", "llm-cpu", "--packages", f"numpy {spec}", "--prefix", str(tmp_path / "mc"),
                 "--accept-tos"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "The LLM presets install torch with pip" in err and "--preset custom" in err
    assert presets.problems(InstallPlan(platform=LINUX, packages=(spec,))) == []  # custom: conda's pytorch is fine


def test_verify_counts_every_package_conda_create_was_given(real_presets):
    from app.core import env_verify

    assert env_verify.asked_names(InstallPlan(platform=LINUX, preset="minimal")) == ["python", "pip"]
    assert env_verify.asked_names(InstallPlan(platform=LINUX, preset="custom", packages=("numpy",))) == \
        ["python", "numpy"]
