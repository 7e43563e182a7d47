# PyInstaller runtime hook, listed first in build_scripts/miniconda-wizard.spec: custom runtime hooks run
# before PyInstaller's own (PyInstaller 6 depend/analysis.py, analyze_runtime_hooks), so this sees the
# environment before pyi_rth_pyside6 sets QT_PLUGIN_PATH / QML2_IMPORT_PATH. Child processes and opened links
# get that environment back (app.core.child_env).
def _remember_user_environ():
    from app.core import child_env

    child_env.remember()


_remember_user_environ()
del _remember_user_environ
