"""Miniconda Setup Wizard: from a bare machine to a GPU-checked conda env.

The package is split in two: :mod:`app.core` is a Qt-free engine that does all
the work, and :mod:`app.gui` (the QWizard) and :mod:`app.silent` (the unattended
driver) are thin shells over it.
"""

__version__ = "0.1.0"
APP_NAME = "miniconda-wizard"
