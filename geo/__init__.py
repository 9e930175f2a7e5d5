"""Zones for the Venezuela airspace monitor: the Maiquetía FIR, the ring around it, classification.

Modules: ``zones`` (Zone, shipped SVZM data, user GeoJSON), ``ring`` (ring sectors in metres),
``zoneset`` (the zones counted, once per process), ``fence`` (vectorised classification),
``bounds`` (boxes, OpenSky credit cost), ``basemap`` (Natural Earth countries for maps).
``geo`` imports nothing from ``monitor``.
"""

__all__: list[str] = []
