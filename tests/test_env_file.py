"""environment.yml (--env-file): parsing with PyYAML, every problem named with its line and fix, before anything runs.

The real files in tests/data/environment_yml/ are copies of public projects' files (see tests/data/README.md);
h2oai_h2ogpt__environment.yml is the malformed one (pip-style lines straight under dependencies).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from app.core import env_file
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

DATA = Path(__file__).parent / "data" / "environment_yml"
LINUX = PlatformInfo("Linux", "x86_64")
VALID = ["NVlabs_stylegan3__environment.yml", "Vision-CAIR_MiniGPT-4__environment.yml",
         "facebookresearch_dinov2__conda.yaml", "young-geng_EasyLM__scripts_gpu_environment.yml"]
EDITABLE = ["CompVis_stable-diffusion__environment.yaml", "Stability-AI_stablediffusion__environment.yaml"]


def write(tmp_path: Path, text: str, name: str = "environment.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", VALID)
def test_real_files_are_accepted(name):
    env = env_file.load(DATA / name)
    assert env.problems == []
    assert env.name and "python" in env.conda_names()


def test_real_file_details_are_read():
    dinov2 = env_file.load(DATA / "facebookresearch_dinov2__conda.yaml")
    assert dinov2.channels == ["defaults", "pytorch", "nvidia", "xformers", "conda-forge"]
    assert "pytorch-cuda" in dinov2.conda_names() and "xformers" in dinov2.conda_names()  # channel::name specs
    assert dinov2.pip_names() == ["cuml-cu11"]  # a git+ URL and --extra-index-url name no package
    assert any("pytorch-cuda" in w for w in dinov2.warnings)
    assert any("'pytorch' conda channel" in w for w in dinov2.warnings)
    easylm = env_file.load(DATA / "young-geng_EasyLM__scripts_gpu_environment.yml")  # 4-space indent, build glob
    assert "jaxlib" in easylm.conda_names() and "transformers" in easylm.pip_names()
    assert env_file.load(DATA / "NVlabs_stylegan3__environment.yml").conda_specs[0] == "python >= 3.8"


@pytest.mark.parametrize("name", EDITABLE)
def test_editable_install_needs_the_project_folder(tmp_path, name):
    copy = tmp_path / name
    shutil.copy(DATA / name, copy)
    problems = env_file.load(copy).problems
    assert len(problems) == 1 and "'-e .' installs the project in" in problems[0]
    assert "no setup.py or pyproject.toml" in problems[0] and ", line " in problems[0]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert env_file.load(copy).problems == []  # inside its project's checkout it is fine


def test_the_malformed_real_file_is_refused_with_lines_and_fixes():
    path = DATA / "h2oai_h2ogpt__environment.yml"
    problems = env_file.load(path).problems
    assert [p.split(", line ")[1].split(",")[0] for p in problems] == ["13", "26", "43", "44"]
    assert "environment marker (';')" in problems[0] and "move it under '- pip:'" in problems[0]
    assert "URL or file of a pip package" in problems[1] and "move it under '- pip:'" in problems[1]
    assert all(str(path) in p for p in problems)


def test_the_malformed_file_fails_plan_validation_with_exit_2(tmp_path):
    path = DATA / "h2oai_h2ogpt__environment.yml"
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc", env_file=path)
    assert sum("h2oai_h2ogpt__environment.yml" in p for p in plan.problems()) == 4
    proc = subprocess.run([sys.executable, "-m", "app", "--silent", "--dry-run", "--env-file", str(path),
                           "--prefix", str(tmp_path / "mc")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "line 13" in proc.stderr and "line 44" in proc.stderr and "move it under '- pip:'" in proc.stderr
    assert not (tmp_path / "mc").exists()


@pytest.mark.parametrize("text, expected", [
    ("name: x\ndependencies:\n\t- python=3.11\n", "line 3, column 1, is not valid YAML"),
    ("name: x\ndependencies:\n\t- python=3.11\n", "YAML does not allow tabs for indentation"),
    ("name: x\ndependencies:\n  - python=3.11\n   - pip\n", "line 3, 'python=3.11 - pip' is not a conda package spec"),
    ("", "is empty"),
    ("- python=3.11\n- numpy\n", "is not a mapping of keys"),
    ("name: x\ndependecies:\n  - python=3.11\n", "line 2, has the key 'dependecies'; did you mean 'dependencies'?"),
    ("name: x\nchannels: conda-forge\ndependencies: [python=3.11]\n", "line 2, 'channels:' must be a list"),
    ("channels:\n  - 'conda forge'\ndependencies: [python=3.11]\n", "line 2, the channel 'conda forge' is not"),
    ("dependencies: python=3.11\n", "line 1, 'dependencies:' must be a list"),
    ("dependencies:\n  - python\n  - 3.8\n", "line 3, the dependency 3.8 is not a package spec (YAML read it as a number"),
    ("dependencies:\n  - python\n  - numpy >>= 1\n", "line 3, 'numpy >>= 1' is not a conda package spec"),
    ("dependencies:\n  - python\n  - -e .\n", "line 3, '-e .' is a pip option; move it under '- pip:'"),
    ("dependencies:\n  - python\n  - conda:\n    - numpy\n", "line 3, has a section 'conda' in dependencies"),
    ("dependencies:\n  - python\n  - pip\n  - pip: transformers\n", "line 4, 'pip:' must be a list"),
    ("dependencies:\n  - python\n  - pip\n  - pip:\n    - transformers>>4\n", "line 5, 'transformers>>4' is not a pip requirement"),
    ("dependencies:\n  - python\n  - pip\n  - pip:\n    - --frobnicate\n", "line 5, '--frobnicate' is not a pip option"),
    ("dependencies:\n  - python\n  - pip\n  - pip:\n    - --extra-index-url\n", "line 5, --extra-index-url needs a value"),
    ("dependencies:\n  - python\n  - pip\n  - pip:\n    - --index-url pypi.org/simple\n", "is not an http(s) URL"),
    ("dependencies:\n  - python\n  - pip\n  - pip:\n    - -r missing.txt\n", "line 5, '-r missing.txt' reads"),
    ("dependencies:\n  - python\n  - pip\n  - pip:\n    - ./wheels/x.whl\n", "line 5, './wheels/x.whl' is a local path"),
    ("name: x\ndependencies:\n  - numpy\n", "lists no python (and no pip"),
    ("name: my env\ndependencies: [python=3.11]\n", "line 1, names the env 'my env', which cannot be used"),
    ("name: x\nvariables: [A, B]\ndependencies: [python=3.11]\n", "line 2, 'variables:' must be a mapping"),
    ("name: x\n", "has no 'dependencies:' list"),
])
def test_each_kind_of_problem_names_line_and_fix(tmp_path, text, expected):
    problems = env_file.load(write(tmp_path, text)).problems
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("data, expected", [
    (None, "does not exist"),
    ("folder", "is a folder, not a file"),
    (b"name: caf\xe9\ndependencies: [python]\n", "is not UTF-8: byte 0xE9"),
])
def test_unreadable_files(tmp_path, data, expected):
    path = tmp_path / "environment.yml"
    if data == "folder":
        path.mkdir()
    elif data is not None:
        path.write_bytes(data)
    assert expected in env_file.load(path).problems[0]


def test_utf16_with_bom_and_utf8_bom_are_read(tmp_path):
    text = "name: demo\ndependencies:\n  - python=3.11\n"
    (tmp_path / "a.yml").write_bytes(text.encode("utf-16"))
    (tmp_path / "b.yml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    for name in ("a.yml", "b.yml"):
        env = env_file.load(tmp_path / name)
        assert env.problems == [] and env.name == "demo"


def test_warnings_for_what_conda_ignores(tmp_path):
    path = write(tmp_path, "name: ldm\nprefix: /home/someone/miniconda3/envs/ldm\nextras: 1\n"
                           "dependencies:\n  - python=3.11\n  - pip:\n    - transformers\n")
    env = env_file.load(path, env_name="llm")
    assert env.problems == []
    text = "\n".join(env.warnings)
    assert "line 2, has 'prefix: /home/someone/miniconda3/envs/ldm'" in text and "ignored" in text
    assert "line 3, has the key 'extras', which conda ignores" in text
    assert "does not list pip itself" in text
    assert "names the env 'ldm'; it is created as 'llm'" in text


def test_env_name_comes_from_the_file_unless_given(tmp_path):
    path = write(tmp_path, "name: ldm\ndependencies: [python=3.11]\n")
    assert cli.plan_from_values({"env_file": str(path)}).env_name == "ldm"
    assert cli.plan_from_values({"env_file": str(path), "env_name": "mine"}).env_name == "mine"
    args = cli.build_parser().parse_args(["--env-file", str(path), "--env-name", "other"])
    assert cli.plan_from_args(args).env_name == "other"
    nameless = write(tmp_path, "dependencies: [python=3.11]\n", "nameless.yml")
    assert cli.plan_from_values({"env_file": str(nameless)}).env_name == "llm"  # the default


def test_conda_args_use_the_absolute_file_and_the_plan_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "name: ldm\ndependencies: [python=3.11]\n")
    plan = InstallPlan(platform=LINUX, prefix=tmp_path / "mc", env_file=Path("environment.yml"), env_name="ldm")
    assert env_file.conda_args(plan) == ["env", "create", "--yes", "--json", "-f",
                                         str(tmp_path / "environment.yml"), "-n", "ldm"]
    assert "from " + str(tmp_path / "environment.yml") in plan.summary()


@pytest.mark.parametrize("flag", [["--packages", "numpy"], ["--env-python", "3.10"], ["--channels", "conda-forge"]])
def test_env_file_conflicts_with_the_flags_it_replaces(tmp_path, flag):
    path = write(tmp_path, "dependencies: [python=3.11]\n")
    args = cli.build_parser().parse_args(["--env-file", str(path), *flag])
    with pytest.raises(cli.UsageError, match="--env-file and " + flag[0]):
        cli.explicit_values(args)


def test_a_bad_name_from_the_file_is_reported_once_with_its_line(tmp_path):
    path = write(tmp_path, "name: my env\ndependencies: [python=3.11]\n")
    plan = cli.plan_from_values({"env_file": str(path), "prefix": str(tmp_path / "mc"), "platform": "Linux-x86_64"})
    named = [p for p in plan.problems() if "my env" in p]
    assert len(named) == 1 and "line 1, names the env 'my env'" in named[0] and "--env-name" in named[0]


# ---- encodings, as the answer-file check reports them -------------------------------------------------------------

YML = "name: x\ndependencies:\n  - python=3.11\n  - pip\n"


@pytest.mark.parametrize("data, words", [
    (YML.encode("utf-16-le"), "looks like UTF-16 without a byte-order mark (every other byte is 0); it must be UTF-8"),
    ("name: café\ndependencies: [python]\n".encode("cp1252"), "it is probably Latin-1/Windows-1252"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "is not a text file: it looks like a PNG image; an environment file is a "
                                          "YAML text file"),
])
def test_an_environment_file_in_another_encoding_is_named_by_its_encoding(tmp_path, data, words):
    path = tmp_path / "environment.yml"
    path.write_bytes(data)
    problems = env_file.load(path).problems
    assert len(problems) == 1 and words in problems[0] and "not a mapping" not in problems[0]
    assert "Save the environment.yml as UTF-8" in problems[0]


def test_utf16_with_a_byte_order_mark_is_read_as_conda_reads_it_and_says_so(tmp_path):
    path = tmp_path / "environment.yml"
    path.write_bytes(YML.encode("utf-16"))
    assert env_file.load(path).problems == []
    path.write_bytes("na".encode("utf-16"))
    assert env_file.load(path).problems[0].startswith(f"The environment file {path} (read as UTF-16) (--env-file / "
                                                      "env_file), line 1, is not a mapping")


def test_dry_run_of_pytorch_cuda_without_a_driver_warns_that_it_will_fail(tmp_path, capsys, monkeypatch):
    from app.core import gpu_info

    if gpu_info.detect() is not None:
        pytest.skip("this machine has an NVIDIA driver")
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    path = tmp_path / "environment.yml"
    path.write_text("name: x\nchannels: [pytorch, nvidia]\ndependencies:\n  - python=3.11\n  - pytorch\n"
                    "  - pytorch-cuda=12.1\n", encoding="utf-8")
    from app.core.platform_info import detect

    installer = tmp_path / f"Miniconda3-latest-{detect().tag}.sh"
    installer.write_bytes(b"#!/bin/sh\n")
    code = cli.main(["--dry-run", "--env-file", str(path), "--accept-tos", "--prefix", str(tmp_path / "mc"),
                     "--installer-file", str(installer)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert ("pytorch-cuda needs an NVIDIA GPU driver, and this machine has none (nvidia-ml-py and nvidia-smi found "
            "no driver): conda will fail with \"nothing provides __cuda\"") in out
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.1")  # conda then assumes a driver: no warning
    cli.main(["--dry-run", "--env-file", str(path), "--accept-tos", "--prefix", str(tmp_path / "mc"),
              "--installer-file", str(installer)])
    assert "nothing provides __cuda" not in capsys.readouterr().out
