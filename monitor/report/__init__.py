"""Report: what a journalist publishes. ``build`` (report.md, report.html, metrics.csv from one model),
``charts`` (one module per chart, one registry), ``basemap`` (the zones over the countries, shared by the
zones map and the report's density maps).
"""

__all__: list[str] = []
