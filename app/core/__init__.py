"""The Qt-free engine.

Nothing under ``app.core`` imports PySide6 (a test enforces it). Drivers build an
:class:`~app.core.plan.InstallPlan`, then call :func:`app.core.pipeline.run` (or
one step of it) with a :class:`~app.core.events.Reporter` and a
:class:`~app.core.events.CancelToken`.
"""
