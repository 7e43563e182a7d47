"""Output of native tools in the console's code page (GBK on a Chinese Windows) is decoded, never a crash."""

from __future__ import annotations

import sys

import pytest

from app.core import codepage
from app.core.system import child_env, run_streaming

#: "The system cannot find the path specified." as cmd.exe prints it on a Chinese Windows (code page 936).
ZH_TEXT = "系统找不到指定的路径。"
GBK_BYTES = ZH_TEXT.encode("gbk")


class FakeCodePages:
    def __init__(self, console: int, oem: int) -> None:
        self.console, self.oem = console, oem

    def console_output_cp(self) -> int:
        return self.console

    def oem_cp(self) -> int:
        return self.oem


def _printer(data: bytes, stream: str = "stdout") -> list[str]:
    # a real child that writes raw bytes, as cmd.exe or NSIS would
    code = f"import sys; sys.{stream}.buffer.write({data!r}); sys.{stream}.buffer.flush()"
    return [sys.executable, "-c", code]


@pytest.fixture
def chinese_console(monkeypatch):
    monkeypatch.setattr(codepage, "adapter", FakeCodePages(936, 936))
    codepage._cached.clear()
    yield
    codepage._cached.clear()


def test_the_gbk_bytes_are_not_utf8():
    with pytest.raises(UnicodeDecodeError):
        GBK_BYTES.decode("utf-8")


@pytest.mark.parametrize(("console", "oem", "codec"), [
    (936, 936, "cp936"),       # a Chinese console
    (0, 936, "cp936"),         # the GUI has no console: GetConsoleOutputCP is 0, the OEM code page counts
    (65001, 936, "cp936"),     # chcp 65001: UTF-8 is tried first anyway; children get a new console (OEM)
    (437, 936, "cp437"),       # the console's own code page wins over the OEM one
    (0, 0, "utf-8"),           # nothing known
    (12345, 0, "utf-8"),       # a code page Python has no codec for
])
def test_choose_codec_from_the_windows_code_pages(console, oem, codec):
    assert codepage.choose_codec(FakeCodePages(console, oem)) == codec


def test_codec_for_known_code_pages():
    assert codepage.codec_for(936) == "cp936"
    assert codepage.codec_for(65001) == "utf-8"
    assert codepage.codec_for(0) is None
    assert codepage.codec_for(99999) is None


def test_decode_output_reads_gbk_with_the_console_code_page():
    assert codepage.decode_output(GBK_BYTES + b"\r\n", "cp936") == ZH_TEXT + "\r\n"
    # UTF-8 output (Python children with PYTHONUTF8=1) stays UTF-8
    assert codepage.decode_output(ZH_TEXT.encode("utf-8"), "cp936") == ZH_TEXT


def test_decode_output_never_raises_on_bytes_no_codec_can_read():
    text = codepage.decode_output(b"ok \x81\xff\x80 end", "cp936")
    assert text.startswith("ok ") and text.endswith(" end") and "\ufffd" in text
    assert codepage.decode_output(b"\xff", "no-such-codec") == "\ufffd"


def test_run_streaming_decodes_gbk_output_of_a_real_child(chinese_console):
    lines: list[str] = []
    errs: list[str] = []
    res = run_streaming(_printer(GBK_BYTES + b"\r\n"), on_stdout=lines.append)
    assert res.returncode == 0
    assert lines == [ZH_TEXT]
    assert res.stdout == ZH_TEXT + "\r\n"
    res = run_streaming(_printer(GBK_BYTES + b"\n", "stderr"), on_stderr=errs.append)
    assert errs == [ZH_TEXT] and res.stderr == ZH_TEXT + "\n"


def test_run_streaming_takes_an_explicit_encoding():
    lines: list[str] = []
    run_streaming(_printer(GBK_BYTES + b"\n"), on_stdout=lines.append, encoding="gbk")
    assert lines == [ZH_TEXT]


def test_run_streaming_mixed_utf8_and_gbk_lines(chinese_console):
    lines: list[str] = []
    data = "张三 UTF-8\n".encode() + GBK_BYTES + b"\n" + b"\xff\xfe broken\n"
    run_streaming(_printer(data), on_stdout=lines.append)
    assert lines[0] == "张三 UTF-8" and lines[1] == ZH_TEXT
    assert lines[2].endswith(" broken") and "\ufffd" in lines[2]


def test_python_children_are_told_to_write_utf8():
    env = child_env(base={"PYTHONIOENCODING": "gbk", "PYTHONUTF8": "0"})
    assert env["PYTHONUTF8"] == "1" and env["PYTHONIOENCODING"] == "utf-8"
    lines: list[str] = []
    code = "import sys; print(sys.stdout.encoding, sys.flags.utf8_mode, '张三')"
    run_streaming([sys.executable, "-c", code], on_stdout=lines.append,
                  env=child_env(base={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "gbk", "LANG": "C"}))
    assert lines == ["utf-8 1 张三"]
