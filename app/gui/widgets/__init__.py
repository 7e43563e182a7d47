"""Small widgets shared by the wizard pages (log view, loss curve, progress and status lines)."""
