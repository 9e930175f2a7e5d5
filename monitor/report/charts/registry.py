"""The report's charts, in the order the report shows them: one line per chart.

A new chart is one module in ``monitor/report/charts/`` exposing ``CHART`` (a
:class:`~monitor.report.charts.base.Chart`: stem, title, draw function over ``ChartInputs``), plus
one line here. A chart whose ``shown`` says the report lacks what it draws (the military chart
outside archive data) is left out of that report.
"""

from __future__ import annotations

from monitor.report.charts import airlines, changes, coverage, heatmap, maps, military, sources, timeseries
from monitor.report.charts.base import Chart

__all__ = ["CHARTS"]

CHARTS: tuple[Chart, ...] = (
    timeseries.CHART,
    sources.CHART,
    military.CHART,
    changes.CHART,
    maps.CHART,
    coverage.CHART,
    heatmap.CHART,
    airlines.CHART,
)
