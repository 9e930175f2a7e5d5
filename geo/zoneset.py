"""The zones the monitor counts: the FIR, its ring and any user zones, assembled once per process.

Place in the flow: ``monitor.settings`` holds the zone settings; ``monitor.pipeline`` calls
:func:`load_zone_set` with them and hands the result to ``geo.fence`` and to the OpenSky client
(its polling box). ``geo`` imports nothing from ``monitor``.

Priority: zones are closed sets, so a position on a shared boundary could belong to two zones;
the first zone in ``ZoneSet.zones`` wins. Order: the FIR, then its ring sectors, then user zones.
A position exactly on the FIR border therefore counts as inside the FIR.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

from geo.bounds import BBox
from geo.zones import (
    DEFAULT_RING_NM,
    MAX_RING_NM,
    OUTSIDE,
    UNKNOWN,
    Zone,
    ZoneFileError,
    ZoneSource,
    builtin_fir,
    builtin_ring,
    check_not_swapped,
    load_zone_file,
)

__all__ = ["ZoneSet", "load_zone_set"]

_BOX_DECIMALS = 2  # the polling box is rounded outwards to 0.01 degree
_NEAR_DEG = 10.0  # a zone this far from where it should be, but next to it when swapped, is suspect


@dataclass(frozen=True)
class ZoneSet:
    """Zones in priority order (the FIR first) and the ring width they were built with (NM)."""

    zones: tuple[Zone, ...]
    ring_nm: float

    @property
    def fir(self) -> Zone:
        return self.zones[0]

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code a position can get: the zones in priority order, then outside, unknown."""
        return (*(z.code for z in self.zones), OUTSIDE, UNKNOWN)

    @property
    def ring(self) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind == "ring")

    @property
    def bbox(self) -> BBox:
        """Smallest lon/lat box covering every zone."""
        return BBox.union(z.bbox for z in self.zones)

    @property
    def polling_box(self) -> BBox:
        """The box to request from OpenSky: :attr:`bbox` rounded outwards to 0.01 degree."""
        return self.bbox.rounded_out(_BOX_DECIMALS)

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 over the zone codes and geometries (WKB): identifies these exact zones."""
        h = hashlib.sha256()
        for zone in self.zones:
            h.update(zone.code.encode())
            h.update(shapely.to_wkb(zone.geometry, output_dimension=2))
        return h.hexdigest()

    def zone(self, code: str) -> Zone:
        for z in self.zones:
            if z.code == code:
                return z
        raise KeyError(code)

    def credit_step_warning(self) -> str | None:
        """A sentence when the ring (or an extra zone) pushes the polling box over a credit step, else None."""
        fir_box = self.fir.bbox.rounded_out(_BOX_DECIMALS)
        box = self.polling_box
        extras = [z for z in self.zones if z.kind == "extra"]
        if extras:
            without = BBox.union([self.fir.bbox, *(z.bbox for z in self.ring)]).rounded_out(_BOX_DECIMALS)
            if box.credits > without.credits:
                return (
                    f"the extra zone(s) {', '.join(z.code for z in extras)} make the polling box "
                    f"{box.area_sq_deg:.0f} sq° and each poll cost {box.credits} credits instead of "
                    f"{without.credits}; drop or shrink them to lower the cost"
                )
            box = without
        if not self.ring or box.credits <= fir_box.credits:
            return None
        return (
            f"the {self.ring_nm:g} NM ring makes the polling box {box.area_sq_deg:.0f} sq° and each poll cost "
            f"{box.credits} credits instead of {fir_box.credits} for the FIR alone ({fir_box.area_sq_deg:.0f} sq°); "
            "a narrower zones.ring_nm lowers the cost"
        )


def _ring_sectors(fir: Zone, ring_nm: float) -> list[Zone]:
    """The SVZM ring at a width other than the shipped one, built now (this loads pyproj)."""
    from geo.ring import ring_sectors

    return ring_sectors(fir.geometry, ring_nm)


@functools.cache
def load_zone_set(
    ring_nm: float = DEFAULT_RING_NM,
    fir_source: ZoneSource | None = None,
    extra_sources: tuple[ZoneSource, ...] = (),
) -> ZoneSet:
    """Build the zones for these arguments, once per process (the result is cached).

    ``fir_source`` None means the built-in SVZM, whose ring is split into sectors ``ring:<ICAO>``
    (see ``geo.ring``). A FIR from a user file gets one unsplit ``ring`` zone. ``ring_nm`` 0 means
    no ring. Extra zones follow in the order given. Raises :class:`ZoneFileError` for bad files
    and ``ValueError`` for a ring width outside [0, 300] NM (or NaN).
    """
    if not 0 <= ring_nm <= MAX_RING_NM:  # NaN fails too
        raise ValueError(f"ring width {ring_nm!r} NM is outside [0, {MAX_RING_NM:g}]")
    ring: Sequence[Zone] = ()
    if fir_source is None:
        fir = builtin_fir()
        if ring_nm > 0:
            ring = builtin_ring(ring_nm) or _ring_sectors(fir, ring_nm)
    else:
        if len(fir_source.values) != 1:
            raise ZoneFileError(fir_source.path, f"select exactly one FIR feature, got {len(fir_source.values)} values")
        fir = load_zone_file(fir_source, kind="fir")[0]
        # the one check for swapped coordinates, against the region vzmon was built for
        home = builtin_fir()
        check_not_swapped(fir_source.path, fir, home.bbox.buffered(_NEAR_DEG), f"{home.code}, the FIR vzmon watches")
        if ring_nm > 0:
            from geo.ring import whole_ring

            ring = [whole_ring(fir.geometry, ring_nm)]
    zones = [fir, *ring]
    near = ZoneSet(tuple(zones), ring_nm).bbox.buffered(_NEAR_DEG)
    for source in extra_sources:
        for zone in load_zone_file(source, kind="extra"):
            if zone.code in {z.code for z in zones}:
                raise ZoneFileError(source.path, f"zone code {zone.code} is already in use; select another feature")
            check_not_swapped(source.path, zone, near, f"the FIR {fir.code} and its ring")
            zones.append(zone)
    return ZoneSet(zones=tuple(zones), ring_nm=ring_nm)
