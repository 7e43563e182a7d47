"""Issue 6: hardware detection from real recorded outputs, and the diagnosis table fed real failure messages.

Every input is a real text from tests/data/gpu/ (sources in its README). Detection runs the real parsers
through the narrow adapters (a ``run(argv)`` callable and an NVML stand-in), since CI has no GPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import gpu_diagnosis, gpu_info
from app.core.gpu_diagnosis import Context, diagnose
from app.core.gpu_info import GpuDevice, GpuInfo, Hardware
from app.core.platform_info import PlatformInfo

DATA = Path(__file__).parent / "data" / "gpu"
LINUX = PlatformInfo("Linux", "x86_64")


def _real(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def nvidia(name: str, cc: str | None, driver: str = "550.54.14", memory: int | None = 24 * 1024 ** 3,
           cuda: str | None = "12.4") -> Hardware:
    return Hardware("nvidia", nvidia=GpuInfo(driver, (GpuDevice(name, cc, memory),), "nvml", cuda))


NONE = Hardware("none")


# --------------------------------------------------------------------------- detection, real outputs


def test_query_csv_real_output_with_its_own_field_list():
    text = _real("nvidia-smi_query_gpu_csv_noheader_nounits__gpu-utils-issue-83.txt")
    command, output = text.split("\n", 1)
    fields = command.split("--query-gpu=")[1].split()[0].split(",")
    info = gpu_info.parse_query_csv(output, fields)
    assert info.driver_version == "440.64"
    assert info.devices == (GpuDevice("GeForce RTX 2080", None, 7979 * 1024 * 1024),)


def test_table_header_gives_driver_and_cuda_version():
    info = gpu_info.parse_nvidia_smi_table(_real("nvidia-smi_header_driver470_cuda11.4_partial__Fooocus-issue-1313.txt"))
    assert (info.driver_version, info.cuda_version, info.devices) == ("470.86", "11.4", ())


def test_old_table_without_cuda_version_lists_the_gpus_and_memory():
    info = gpu_info.parse_nvidia_smi_table(_real("nvidia-smi_table_driver331_2014_TRUNCATED__cbio-cluster-issue-38.txt"))
    assert info.driver_version == "331.62" and info.cuda_version is None
    assert [d.name for d in info.devices] == ["GeForce GTX 680"] * 3
    assert info.devices[0].memory_bytes == 4095 * 1024 * 1024


def test_nvidia_smi_q_windows():
    info = gpu_info.parse_nvidia_smi_q(_real("nvidia-smi_q_windows_driver442_TRUNCATED__gputil-issue-38.txt"))
    assert (info.driver_version, info.cuda_version) == ("442.92", "10.2")
    assert info.devices[0].name == "GeForce GTX 1080 Ti"


def test_read_nvidia_smi_through_the_adapter_adds_the_cuda_version_of_the_header():
    calls = []
    header = _real("nvidia-smi_header_driver470_cuda11.4_partial__Fooocus-issue-1313.txt")

    def run(argv):
        calls.append(list(argv))
        if argv[1:2] == ["--query-gpu=driver_version,compute_cap,memory.total,name"]:
            return "470.86, 8.6, 24576, NVIDIA GeForce RTX 3090\n"
        return header if len(argv) == 1 else None

    info = gpu_info.read_nvidia_smi(run=run)
    assert info == GpuInfo("470.86", (GpuDevice("NVIDIA GeForce RTX 3090", "8.6", 24576 * 1024 * 1024),),
                           "nvidia-smi", "11.4")
    assert calls[0] == ["nvidia-smi", "--query-gpu=driver_version,compute_cap,memory.total,name",
                        "--format=csv,noheader,nounits"]


def test_old_driver_refusing_compute_cap_falls_back_to_the_old_query():
    def run(argv):
        if "compute_cap" in " ".join(argv):
            return None  # exit code != 0: "Field "compute_cap" is not a valid field to query."
        if argv[1:2] == ["--query-gpu=driver_version,memory.total,name"]:
            return "470.86, 8192, NVIDIA GeForce GTX 1080\n"
        return None

    info = gpu_info.read_nvidia_smi(run=run)
    assert info.devices == (GpuDevice("NVIDIA GeForce GTX 1080", None, 8192 * 1024 * 1024),)


class FakeNvml:
    """The functions of nvidia-ml-py's pynvml that read_nvml calls, answering as an RTX 4090 with driver 550."""

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        pass

    def nvmlSystemGetDriverVersion(self):
        return b"550.54.14"

    def nvmlSystemGetCudaDriverVersion_v2(self):
        return 12040

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, h):
        return "NVIDIA GeForce RTX 4090"

    def nvmlDeviceGetCudaComputeCapability(self, h):
        return 8, 9

    def nvmlDeviceGetMemoryInfo(self, h):
        class M:
            total = 24 * 1024 ** 3
        return M()


def test_nvml_gives_name_driver_cuda_memory_and_capability():
    hw = gpu_info.detect_hardware(run=lambda argv: None, nvml=FakeNvml())
    assert hw.kind == "nvidia"
    assert hw.describe() == ("an NVIDIA GeForce RTX 4090 (24.0 GiB, compute capability 8.9) with driver 550.54.14 "
                             "(CUDA 12.4)")
    assert hw.to_dict()["devices"] == [{"name": "NVIDIA GeForce RTX 4090", "compute_capability": "8.9",
                                        "memory_bytes": 24 * 1024 ** 3}]


def test_nvml_without_a_driver_falls_back_to_nvidia_smi_then_rocm():
    class NoDriver(FakeNvml):
        def nvmlInit(self):
            raise OSError("NVML Shared Library Not Found")

    concise = _real("rocm-smi_concise_rocm3.3__ROC-smi-issue-86.txt")
    hw = gpu_info.detect_hardware(run=lambda argv: concise if argv == ["rocm-smi"] else None, nvml=NoDriver(),
                                  system="Linux", machine="x86_64")
    assert hw.kind == "amd" and hw.amd == (gpu_info.AmdDevice("AMD GPU 1"),)


def test_rocm_smi_json_names_the_gpu():
    text = _real("rocm-smi_json_780M_TRUNCATED__systeminformation-pr-960.txt")
    hw = gpu_info.detect_hardware(run=lambda argv: text if "--json" in argv else None, nvml=None)
    assert hw.kind == "amd" and hw.describe() == "an AMD Phoenix3 (ROCm)"


def test_apple_silicon_and_no_gpu():
    hw = gpu_info.detect_hardware(run=lambda argv: "Apple M2 Pro\n" if argv[0] == "sysctl" else None,
                                  system="Darwin", machine="arm64")
    assert hw.kind == "apple" and hw.describe() == "an Apple M2 Pro (MPS)"
    hw = gpu_info.detect_hardware(run=lambda argv: None, system="Darwin", machine="x86_64")
    assert hw == NONE and hw.describe() == "no GPU"
    assert gpu_info.detect_hardware(run=lambda argv: None, system="Linux", machine="x86_64").kind == "none"


# --------------------------------------------------------------------------- the table, real messages

CASES = [
    ("error_torch_not_compiled_with_cuda__PreSumm-issue-159.txt", "cpu_build", "cpu_only"),
    ("error_driver_too_old_RuntimeError_one_line__Fooocus-issue-1313.txt", "driver_too_old", "broken"),
    ("error_driver_too_old_traceback_torch1.0__FastFCN-issue-37.txt", "driver_too_old", "broken"),
    ("error_cuda_driver_insufficient_for_runtime__torch-cutorch-issue-809.txt", "driver_insufficient", "broken"),
    ("error_sm120_no_kernel_image_windows__ai-toolkit-issue-530.txt", "no_kernel_image", "broken"),
    ("error_sm80_not_compatible_plus_no_kernel_image__TorchAL-issue-4.txt", "no_kernel_image", "broken"),
    ("error_cuda_unknown_after_suspend__pytorch-issue-88639.txt", "cuda_unknown_error", "broken"),
    ("error_802_system_not_yet_initialized__microsoft-lisa-issue-2823.txt", "system_not_ready", "broken"),
    ("error_804_forward_compatibility__TensorRT-LLM-issue-1806.txt", "forward_compat", "broken"),
    ("error_conda_nothing_provides_cuda__escape2020-school2022-issue-37.txt", "conda_cuda_virtual_package", "cpu_only"),
    ("error_mps_out_of_memory__pytorch-issue-96814.txt", "mps_out_of_memory", "broken"),
    ("error_mps_op_not_implemented__InvokeAI-pr-232.txt", "mps_op_not_implemented", "broken"),
    ("error_cuda_out_of_memory__pytorch-issue-16417.txt", "cuda_out_of_memory", "broken"),
    ("error_mps_unavailable_macos26__pytorch-issue-177819.txt", "mps_unavailable", "cpu_only"),
]


@pytest.mark.parametrize(("name", "kind", "status"), CASES)
def test_every_kind_is_recognised_in_its_real_message(name, kind, status):
    d = diagnose(_real(name), Context(platform=LINUX))
    assert (d.kind, d.status) == (kind, status)
    assert d.message and d.fix


def test_every_rule_has_a_real_message():
    assert {r.kind for r in gpu_diagnosis.RULES} - {k for _, k, _ in CASES} <= {
        "no_torch", "no_driver", "mps_not_built", "loss_not_finite"}  # tested in test_gpu_check.py / by the probe


def test_cpu_build_with_an_nvidia_gpu_names_the_variant_from_the_table():
    d = diagnose(_real("error_torch_not_compiled_with_cuda__PreSumm-issue-159.txt"),
                 Context(env_name="llm", hardware=nvidia("NVIDIA GeForce RTX 4090", "8.9"), platform=LINUX))
    assert d.message.startswith("An NVIDIA GeForce RTX 4090 (24.0 GiB, compute capability 8.9) with driver 550.54.14")
    assert "is present, but the env's PyTorch is a CPU build" in d.message
    # driver 550 is too old for cu130 (580+), so the table's cu126 row is the one that fits
    assert "cu126 build (CUDA 12.6)" in d.fix and "--index-url https://download.pytorch.org/whl/cu126" in d.fix


def test_cpu_build_without_any_gpu_says_so_and_never_suggests_pytorch_gpu():
    d = diagnose(_real("error_torch_not_compiled_with_cuda__PreSumm-issue-159.txt"), Context(hardware=NONE))
    assert "no NVIDIA GPU or driver was found" in d.message and "pytorch-gpu" not in d.fix


def test_driver_too_old_gives_the_minimum_driver_of_the_build():
    d = diagnose(_real("error_driver_too_old_RuntimeError_one_line__Fooocus-issue-1313.txt"),
                 Context(hardware=nvidia("NVIDIA GeForce RTX 3090", "8.6", driver="470.86", cuda="11.4"),
                         torch_cuda="12.6", platform=LINUX))
    assert "supports CUDA 11.4 at most" in d.message and "This machine has driver 470.86" in d.message
    assert "Update the NVIDIA driver to 525.60.13 or newer" in d.fix


def test_pascal_without_kernels_names_the_variant_that_still_covers_it():
    d = diagnose("RuntimeError: CUDA error: no kernel image is available for execution on the device",
                 Context(hardware=nvidia("NVIDIA GeForce GTX 1080", "6.1", driver="580.95.05"), platform=LINUX))
    assert "GTX 1080 (sm_61)" in d.message
    assert "cu126 build (CUDA 12.6), which still includes sm_61" in d.fix
    assert "dropped GPUs older than sm_75" in d.fix


def test_unknown_error_is_not_called_a_missing_driver():
    d = diagnose(_real("error_cuda_unknown_after_suspend__pytorch-issue-88639.txt"),
                 Context(hardware=nvidia("NVIDIA GeForce RTX 4090", "8.9")))
    assert "suspended and resumed" in d.message and "not a missing or old driver" in d.message
    assert "sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm" in d.fix and "restart" in d.fix
    assert "RTX 4090" in d.message


def test_802_and_804_name_their_fixes():
    d = diagnose(_real("error_802_system_not_yet_initialized__microsoft-lisa-issue-2823.txt"))
    assert "Fabric Manager" in d.message and "systemctl enable --now nvidia-fabricmanager" in d.fix
    d = diagnose(_real("error_804_forward_compatibility__TensorRT-LLM-issue-1806.txt"))
    assert "forward-compatibility" in d.message and "Match the driver to the installed CUDA compat package" in d.fix


def test_conda_cuda_without_a_driver_never_suggests_pytorch_gpu():
    text = _real("error_conda_nothing_provides_cuda__escape2020-school2022-issue-37.txt")
    d = diagnose(text, Context(env_name="llm", hardware=NONE))
    assert "no NVIDIA driver" in d.message
    assert "conda install -n llm -c conda-forge pytorch " in d.fix and "install pytorch-gpu" not in d.fix
    d = diagnose(text, Context(hardware=nvidia("NVIDIA GeForce RTX 4090", "8.9")))
    assert "CONDA_OVERRIDE_CUDA" in d.fix


def test_mps_fixes_are_mac_fixes():
    d = diagnose(_real("error_mps_out_of_memory__pytorch-issue-96814.txt"))
    assert "PYTORCH_MPS_HIGH_WATERMARK_RATIO" in d.fix and "smaller batch" in d.fix and "nvidia-smi" not in d.fix
    d = diagnose(_real("error_mps_op_not_implemented__InvokeAI-pr-232.txt"))
    assert "PYTORCH_ENABLE_MPS_FALLBACK=1" in d.fix and "aten::_index_put_impl_" in d.message


def test_cuda_out_of_memory_shows_what_holds_memory():
    d = diagnose(_real("error_cuda_out_of_memory__pytorch-issue-16417.txt"))
    assert "23.65 GiB, of which 11.06 MiB was free" in d.message
    assert "Lower the batch size" in d.fix and "--query-compute-apps" in d.fix


# ---- issue 9 finding: the no-torch fix for a python outside any conda env, and for base ----------------------

def test_no_torch_fix_for_python_outside_conda_uses_pip_with_the_variant_index(tmp_path):
    from app.core import gpu_diagnosis as gd
    from app.core.gpu_info import Hardware
    from app.core.platform_info import PlatformInfo

    py = tmp_path / "usr" / "bin" / "python3"  # /usr/bin/python3: no conda-meta beside it
    py.parent.mkdir(parents=True)
    py.write_text("")
    ctx = gd.Context(py, "llm", Hardware("none"), platform=PlatformInfo("Linux", "x86_64"))
    d = gd.diagnose("ModuleNotFoundError: No module named 'torch'", ctx)
    assert d.kind == "no_torch"
    assert "conda install" not in d.fix and "-n llm" not in d.fix
    assert f"{py} -m pip install torch --index-url https://download.pytorch.org/whl/cpu" in d.fix


def test_no_torch_fix_for_base_says_create_an_env(tmp_path):
    from app.core import gpu_diagnosis as gd
    from app.core.gpu_info import Hardware
    from app.core.platform_info import PlatformInfo

    prefix = tmp_path / "miniconda3"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "condabin").mkdir()
    (prefix / "bin").mkdir()
    ctx = gd.Context(prefix / "bin" / "python", "base", Hardware("none"), platform=PlatformInfo("Linux", "x86_64"))
    d = gd.diagnose("ModuleNotFoundError: No module named 'torch'", ctx)
    assert "conda install" not in d.fix and d.fix.startswith("Do not install PyTorch into base")
    assert "miniconda-wizard --if-exists reuse" in d.fix and "conda create -n llm" in d.fix
