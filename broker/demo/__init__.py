"""The demo: a simulated school-district VMS with real H.264 cameras, for ``make demo`` and tests."""
