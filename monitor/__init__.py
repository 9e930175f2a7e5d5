"""vzmon: monitor civil air traffic in and around the Maiquetía FIR (SVZM) from public ADS-B snapshots.

Packages: ``geo`` knows shapes (zones, ring, classification); ``monitor`` knows everything else.
The flow is drawn in ``monitor.pipeline``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)
