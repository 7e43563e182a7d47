"""A real, minimal wheel in a PEP 503 simple index, for tests that run a real `pip install` offline."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def tiny_wheel(index: Path, name: str, version: str = "1.0") -> None:
    """A real, minimal wheel ``name`` in a PEP 503 simple index under ``index``."""
    files = {f"{name}/__init__.py": f"__version__ = {version!r}\n".encode(),
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
                     for p, d in files.items()) + f"{name}-{version}.dist-info/RECORD,,\n"
    files[f"{name}-{version}.dist-info/RECORD"] = record.encode()
    pkg = index / "simple" / name
    pkg.mkdir(parents=True)
    whl = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(pkg / whl, "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    (pkg / "index.html").write_text(f'<html><body><a href="{whl}">{whl}</a></body></html>\n', encoding="utf-8")
