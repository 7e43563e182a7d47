"""The About dialog: version, the licences of the third-party parts the wizard ships with, and Anaconda's terms.

:func:`third_party` reads each part's version and licence from its installed distribution's metadata
(:mod:`importlib.metadata`: ``License-Expression``, else a one-line ``License``, else the ``License ::``
classifier) and falls back to the licence written here when the metadata is missing (a frozen build keeps the
metadata of few packages). The fallbacks were read from the same metadata of the versions in pyproject.toml
(PySide6-Essentials 6.11, requests 2.34, urllib3 2.8, truststore 0.10, psutil 7.2, platformdirs 4.14,
packaging 26, tomli-w 1.2, nvidia-ml-py 13, PyYAML 6, certifi 2026, charset-normalizer 3.5, idna 3.20) and,
for PyInstaller's bootloader, from PyInstaller's COPYING.txt (GPL-2.0-or-later with the bootloader exception).

PySide6 and the Qt libraries it contains are used under the LGPL-3.0: the dialog says so, that they are
separate shared libraries the user may replace, and where their source code is (:data:`LGPL_NOTE`).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

# Anaconda's Terms of Service (they govern Miniconda and the defaults channels) and its legal page, which
# holds the End User License Agreement that Miniconda's installer shows.
TOS_URL = "https://www.anaconda.com/legal/terms/terms-of-service"
MINICONDA_LICENSE_URL = "https://www.anaconda.com/legal"
PYSIDE_SOURCE_URL = "https://code.qt.io/cgit/pyside/pyside-setup.git/"
QT_SOURCE_URL = "https://download.qt.io/official_releases/qt/"
LGPL_URL = "https://www.gnu.org/licenses/lgpl-3.0.html"
PYINSTALLER_URL = "https://github.com/pyinstaller/pyinstaller/blob/develop/COPYING.txt"


@dataclass(frozen=True)
class Part:
    """One third-party part: PyPI distribution name, what it does here, licence (SPDX where known), version
    (``""`` when not installed), and a link for its licence or source."""

    name: str
    role: str
    license: str
    version: str
    url: str


# (distribution, what it does in the wizard, licence when the metadata does not say, link)
PARTS: tuple[tuple[str, str, str, str], ...] = (
    ("PySide6-Essentials", QT_TRANSLATE_NOOP("AboutDialog", "Qt for Python: the window (includes the Qt 6 libraries)"),
     "LGPL-3.0-only",
     PYSIDE_SOURCE_URL),
    ("shiboken6", QT_TRANSLATE_NOOP("AboutDialog", "PySide6's binding runtime"), "LGPL-3.0-only", PYSIDE_SOURCE_URL),
    ("requests", QT_TRANSLATE_NOOP("AboutDialog", "HTTP downloads"), "Apache-2.0", "https://github.com/psf/requests"),
    ("urllib3", QT_TRANSLATE_NOOP("AboutDialog", "HTTP connections and retries"),
     "MIT", "https://github.com/urllib3/urllib3"),
    ("truststore", QT_TRANSLATE_NOOP("AboutDialog", "the system's certificate store for HTTPS"),
     "MIT", "https://github.com/sethmlarson/truststore"),
    ("certifi", QT_TRANSLATE_NOOP("AboutDialog", "certificates when the system has none"),
     "MPL-2.0", "https://github.com/certifi/python-certifi"),
    ("charset-normalizer", QT_TRANSLATE_NOOP("AboutDialog", "text encodings (for requests)"),
     "MIT", "https://github.com/jawah/charset_normalizer"),
    ("idna", QT_TRANSLATE_NOOP("AboutDialog", "international host names (for requests)"),
     "BSD-3-Clause", "https://github.com/kjd/idna"),
    ("psutil", QT_TRANSLATE_NOOP("AboutDialog", "processes, disks and memory"),
     "BSD-3-Clause", "https://github.com/giampaolo/psutil"),
    ("platformdirs", QT_TRANSLATE_NOOP("AboutDialog", "where logs and caches go"),
     "MIT", "https://github.com/tox-dev/platformdirs"),
    ("packaging", QT_TRANSLATE_NOOP("AboutDialog", "versions and requirements"),
     "Apache-2.0 OR BSD-2-Clause", "https://github.com/pypa/packaging"),
    ("tomli-w", QT_TRANSLATE_NOOP("AboutDialog", "writing TOML answer files"),
     "MIT", "https://github.com/hukkin/tomli-w"),
    ("PyYAML", QT_TRANSLATE_NOOP("AboutDialog", "reading environment.yml files"),
     "MIT", "https://github.com/yaml/pyyaml"),
    ("nvidia-ml-py", QT_TRANSLATE_NOOP("AboutDialog", "asking the NVIDIA driver about the GPU"),
     "BSD-3-Clause", "https://pypi.org/project/nvidia-ml-py/"),
    ("pyinstaller", QT_TRANSLATE_NOOP("AboutDialog", "the bootloader that starts the packaged builds"),
     "GPL-2.0-or-later WITH Bootloader-exception",
     PYINSTALLER_URL),
)

# The licence table's column headings (translated at use).
HEADERS = (QT_TRANSLATE_NOOP("AboutDialog", "Part"), QT_TRANSLATE_NOOP("AboutDialog", "Version"),
           QT_TRANSLATE_NOOP("AboutDialog", "Licence"), QT_TRANSLATE_NOOP("AboutDialog", "Used for"))

_CLASSIFIERS = {
    "MIT License": "MIT", "Apache Software License": "Apache-2.0", "BSD License": "BSD",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("AboutDialog", text)


def license_of(meta, fallback: str) -> str:
    """The licence a distribution's metadata (``email.message.Message``-like) states, or ``fallback``."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60:  # a name, not the whole licence text
        return text
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License :: OSI Approved :: "):
            name = classifier.rsplit(" :: ", 1)[1]
            return _CLASSIFIERS.get(name, name)
    return fallback


def third_party() -> list[Part]:
    """The parts of :data:`PARTS`, each with the version and licence its installed metadata gives."""
    parts = []
    for name, role, fallback, url in PARTS:
        try:
            meta = metadata.metadata(name)
        except metadata.PackageNotFoundError:
            parts.append(Part(name, role, fallback, "", url))
            continue
        parts.append(Part(name, role, license_of(meta, fallback), meta.get("Version") or "", url))
    return parts


def open_url(url: str) -> bool:
    """Open ``url`` in the user's browser (:func:`app.gui.open_url.open_url`: the user's own environment, also
    from the frozen build); returns whether it was handed over."""
    from app.gui.open_url import open_url as _open

    return _open(url)


def about_html() -> str:
    """The dialog's text (HTML): licences table, the LGPL note and Anaconda's terms (in the language in force)."""
    import html

    translate = QCoreApplication.translate
    frozen = bool(getattr(sys, "frozen", False))
    rows = []
    for p in third_party():
        if p.name == "pyinstaller" and not frozen:
            version = translate("AboutDialog", "packaged builds only")
        else:
            version = p.version or translate("AboutDialog", "not installed")
        rows.append(f"<tr><td><a href=\"{html.escape(p.url)}\">{html.escape(p.name)}</a></td>"
                    f"<td>{html.escape(version)}</td><td>{html.escape(p.license)}</td>"
                    f"<td>{html.escape(_tr(p.role))}</td></tr>")
    lgpl = translate("AboutDialog", "PySide6 and the Qt 6 libraries it contains are used under the GNU Lesser General "
                     "Public License version 3 ({lgpl}). They are separate shared libraries: you may replace them with "
                     "your own build of the same version. Their source code: PySide6 at {pyside}, Qt at {qt}.").format(
        lgpl=f'<a href="{LGPL_URL}">LGPL-3.0</a>', pyside=f'<a href="{PYSIDE_SOURCE_URL}">{PYSIDE_SOURCE_URL}</a>',
        qt=f'<a href="{QT_SOURCE_URL}">{QT_SOURCE_URL}</a>')
    eula = translate("AboutDialog", "Anaconda legal: End User License Agreement")
    tos = translate("AboutDialog", "Anaconda Terms of Service")
    anaconda = translate("AboutDialog", "Miniconda, which this wizard downloads and installs, is Anaconda's software, "
                         "under its licence ({license}); using it and Anaconda's default channels is governed by the "
                         "{tos}.").format(license=f'<a href="{MINICONDA_LICENSE_URL}">{eula}</a>',
                                          tos=f'<a href="{TOS_URL}">{tos}</a>')
    head = "".join(f"<th align=left>{_tr(h)}</th>" for h in HEADERS)
    title_anaconda = translate("AboutDialog", "Miniconda and Anaconda")
    title_parts = translate("AboutDialog", "Third-party parts")
    title_qt = translate("AboutDialog", "Qt and PySide6 (LGPL-3.0)")
    return (f"<h3>{title_anaconda}</h3><p>{anaconda}</p>"
            f"<h3>{title_parts}</h3><table cellspacing=0 cellpadding=3><tr>{head}</tr>{''.join(rows)}"
            f"</table><h3>{title_qt}</h3><p>{lgpl}</p>")


class AboutDialog(QDialog):
    """Version, licences of the third-party parts, and links to Anaconda's terms; links open in the browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from app import __version__

        self.setObjectName("about_dialog")
        self.setWindowTitle(self.tr("About Miniconda Setup Wizard"))
        self.header = QLabel(self.tr("<b>Miniconda Setup Wizard</b> {version}<br>Python {python}, PySide6 {pyside}, "
                                     "Qt {qt}").format(version=__version__, python=platform.python_version(),
                                                       pyside=pyside_version, qt=qVersion()))
        self.header.setObjectName("about_version")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QTextBrowser()
        self.text.setObjectName("about_text")
        self.text.setAccessibleName(self.tr("Licences and terms"))
        self.text.setOpenLinks(False)
        self.text.anchorClicked.connect(lambda url: open_url(url.toString()))
        self.text.setHtml(about_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 125, self.fontMetrics().height() * 36)
