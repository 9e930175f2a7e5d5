"""User zone files: any GeoJSON FeatureCollection, features selected by a property; bad files explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.zones import ZoneFileError, ZoneSource, load_zone_file
from geo.zoneset import load_zone_set
from tests.conftest import shared_file

SQUARE = [[[-70.0, 10.0], [-69.0, 10.0], [-69.0, 11.0], [-70.0, 11.0], [-70.0, 10.0]]]
BOWTIE = [[[-70.0, 10.0], [-69.0, 11.0], [-69.0, 10.0], [-70.0, 11.0], [-70.0, 10.0]]]


def _write(tmp_path: Path, doc: object, name: str = "zones.geojson") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _fc(*features: tuple[str, dict], crs: dict | None = None) -> dict:
    doc: dict = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"id": fid}, "geometry": geom} for fid, geom in features],
    }
    if crs is not None:
        doc["crs"] = crs
    return doc


def _poly(coords=SQUARE) -> dict:
    return {"type": "Polygon", "coordinates": coords}


def test_selected_features_become_zones_in_the_order_asked(tmp_path):
    path = _write(tmp_path, _fc(("A", _poly()), ("B", _poly()), ("C", _poly())))
    zones = load_zone_file(ZoneSource(path, "id", ("C", "A")))
    assert [z.code for z in zones] == ["C", "A"]
    assert zones[0].kind == "extra"


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        {"type": "name", "properties": {"name": "epsg:4326"}},
        {"type": "name", "properties": {"name": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "EPSG:4326",
    ],
)
def test_wgs84_crs_member_is_accepted(tmp_path, crs):
    path = _write(tmp_path, _fc(("A", _poly()), crs=crs))
    assert load_zone_file(ZoneSource(path, "id", ("A",)))[0].code == "A"


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.geojson"
    path.write_text(json.dumps(_fc(("A", _poly()))), encoding="utf-8-sig")
    assert load_zone_file(ZoneSource(path, "id", ("A",)))[0].code == "A"


@pytest.mark.parametrize(
    ("doc", "values", "message"),
    [
        ("{not json", ("A",), "not JSON"),
        ({"type": "Feature"}, ("A",), "not a GeoJSON FeatureCollection"),
        (_fc(("A", _poly())), ("Z",), "no feature selected for id=Z"),
        (_fc(("A", _poly())), (), "no values given"),
        (_fc(("A", _poly(BOWTIE))), ("A",), "invalid geometry (Self-intersection"),
        (_fc(("A", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]})), ("A",), "a zone needs a Polygon"),
        (_fc(("A", _poly()), ("A", _poly())), ("A",), "2 features have id=A"),
        (
            _fc(("A", _poly()), crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32619"}}),
            ("A",),
            "CRS is urn:ogc:def:crs:EPSG::32619, not WGS 84",
        ),
        (_fc(("A", _poly([[[10, -95], [11, -95], [11, -94], [10, -94], [10, -95]]]))), ("A",), "lat/lon swapped"),
        (
            _fc(("A", _poly([[[500000, 1100000], [600000, 1100000], [600000, 1200000], [500000, 1100000]]]))),
            ("A",),
            "looks projected",
        ),
        (_fc(("A", {"type": "Polygon", "coordinates": "nonsense"})), ("A",), "unreadable geometry"),
        (_fc(("A", _poly()), crs={"type": "name", "properties": None}), ("A",), "not WGS 84"),
        (_fc(("A", _poly()), crs={"type": "name", "properties": "EPSG:4326"}), ("A",), "not WGS 84"),
        (_fc(("A", {"type": "Polygonx", "coordinates": SQUARE})), ("A",), "geometry is 'Polygonx'"),
        (_fc(("A", {"type": "MultiPolygon", "coordinates": [SQUARE, []]})), ("A",), "unreadable geometry"),
        (_fc(("A", {"type": "Polygon", "coordinates": None})), ("A",), "unreadable geometry"),
        (_fc(("outside", _poly())), ("outside",), "outside is reserved"),
        (_fc(("A", _poly())), ("A", "A"), "id=A is selected more than once"),
    ],
    ids=[
        "not-json", "not-featurecollection", "nothing-selected", "no-values", "invalid-geometry", "not-polygon",
        "ambiguous", "other-crs", "swapped", "projected", "unreadable", "crs-properties-null", "crs-properties-text",
        "unknown-geometry-type", "multipolygon-empty-part", "coordinates-null", "reserved-code", "selected-twice",
    ],
)  # fmt: skip
def test_bad_zone_file_gives_one_line_naming_file_and_problem(tmp_path, doc, values, message):
    path = _write(tmp_path, doc)
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(ZoneSource(path, "id", values))
    text = str(info.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text


def test_missing_zone_file_names_the_path(tmp_path):
    with pytest.raises(ZoneFileError, match="file not found"):
        load_zone_file(ZoneSource(tmp_path / "nope.geojson", "id", ("A",)))


def test_nothing_selected_lists_values_present(tmp_path):
    path = _write(tmp_path, _fc(("TTZP", _poly()), ("TNCF", _poly())))
    with pytest.raises(ZoneFileError, match="values present include TNCF, TTZP"):
        load_zone_file(ZoneSource(path, "id", ("SVZX",)))


def test_user_fir_gets_an_unsplit_ring_and_extra_zones_follow(tmp_path):
    fir = _write(tmp_path, _fc(("XFIR", _poly())), "fir.geojson")
    extra = _write(tmp_path, _fc(("BOX", _poly([[[-66, 10], [-65, 10], [-65, 11], [-66, 11], [-66, 10]]]))), "x.json")
    zs = load_zone_set(60.0, ZoneSource(fir, "id", ("XFIR",)), (ZoneSource(extra, "id", ("BOX",)),))
    assert zs.codes == ("XFIR", "ring", "BOX", "outside", "unknown")


def test_extra_zone_near_the_fir_only_when_swapped_is_rejected(tmp_path):
    """Curaçao written as [lat, lon] lands in Antarctica, valid degrees but far from everything."""
    swapped = [[[12.0, -69.2], [12.4, -69.2], [12.4, -68.7], [12.0, -68.7], [12.0, -69.2]]]
    extra = _write(tmp_path, _fc(("CUR", _poly(swapped))))
    with pytest.raises(ZoneFileError, match="look like lat/lon swapped") as info:
        load_zone_set(120.0, None, (ZoneSource(extra, "id", ("CUR",)),))
    assert str(extra) in str(info.value)


def test_distant_extra_zone_that_is_not_swapped_is_accepted(tmp_path):
    far = [[[100.0, 10.0], [101.0, 10.0], [101.0, 11.0], [100.0, 11.0], [100.0, 10.0]]]
    extra = _write(tmp_path, _fc(("FAR", _poly(far))))
    assert load_zone_set(120.0, None, (ZoneSource(extra, "id", ("FAR",)),)).codes[-3] == "FAR"


def test_extra_zone_reusing_a_code_is_rejected(tmp_path):
    extra = _write(tmp_path, _fc(("SVZM", _poly())))
    with pytest.raises(ZoneFileError, match="SVZM is already in use"):
        load_zone_set(120.0, None, (ZoneSource(extra, "id", ("SVZM",)),))


def test_user_fir_must_select_exactly_one_feature(tmp_path):
    fir = _write(tmp_path, _fc(("A", _poly()), ("B", _poly())))
    with pytest.raises(ZoneFileError, match="exactly one FIR"):
        load_zone_set(60.0, ZoneSource(fir, "id", ("A", "B")))


def test_community_boundaries_file_can_supply_another_fir_and_neighbours():
    path = shared_file("data", "firs", "caribbean_firs.geojson")
    zs = load_zone_set(60.0, ZoneSource(path, "icao", ("TTZP",)), (ZoneSource(path, "icao", ("TNCF", "SYGC")),))
    assert zs.codes[:4] == ("TTZP", "ring", "TNCF", "SYGC")
    assert zs.fir.area_km2 > 100_000


def test_a_feature_whose_properties_are_not_an_object_is_skipped_not_a_crash(tmp_path):
    doc = _fc(("A", _poly()))
    doc["features"].append({"type": "Feature", "properties": ["id", "B"], "geometry": _poly()})
    path = _write(tmp_path, doc)
    assert [z.code for z in load_zone_file(ZoneSource(path, "id", ("A",)))] == ["A"]
    with pytest.raises(ZoneFileError, match="no feature selected for id=B"):
        load_zone_file(ZoneSource(path, "id", ("B",)))


@pytest.mark.parametrize("width", [-1.0, float("nan"), 301.0])
def test_a_ring_width_outside_0_to_300_nm_is_refused(width):
    with pytest.raises(ValueError, match="ring width"):
        load_zone_set(width)


def test_the_credit_warning_names_an_extra_zone_when_it_is_the_cause(tmp_path):
    far = [[[10.0, 50.0], [11.0, 50.0], [11.0, 51.0], [10.0, 51.0], [10.0, 50.0]]]
    path = _write(tmp_path, _fc(("EU", _poly(far))))
    zone_set = load_zone_set(120.0, None, (ZoneSource(path, "id", ("EU",)),))
    warning = zone_set.credit_step_warning()
    assert warning is not None and "extra zone(s) EU" in warning and "ring_nm" not in warning


def _swap(coords):
    return [[[lat, lon] for lon, lat in ring] for ring in coords]


def test_a_fir_file_with_lat_lon_swapped_is_refused(tmp_path):
    """SVZM written as [lat, lon] lies in the South Atlantic, still valid degrees; refused by the same
    check as extra zones, before a polling box there could cost 4 credits a poll."""
    from geo.zones import builtin_fir

    svzm = builtin_fir().geometry.__geo_interface__["coordinates"]
    fir = _write(tmp_path, _fc(("SVZM", _poly(_swap(svzm)))))
    with pytest.raises(ZoneFileError, match="look like lat/lon swapped") as info:
        load_zone_set(120.0, ZoneSource(fir, "id", ("SVZM",)))
    assert str(fir) in str(info.value) and "SVZM, the FIR vzmon watches" in str(info.value)


def test_a_fir_far_away_that_is_not_swapped_is_accepted(tmp_path):
    far = [[[-10.0, 50.0], [2.0, 50.0], [2.0, 60.0], [-10.0, 60.0], [-10.0, 50.0]]]  # around EGTT
    fir = _write(tmp_path, _fc(("EGTT", _poly(far))))
    assert load_zone_set(60.0, ZoneSource(fir, "id", ("EGTT",))).fir.code == "EGTT"


def test_community_fir_swapped_is_refused_and_as_published_accepted(tmp_path):
    path = shared_file("data", "firs", "caribbean_firs.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for feature in doc["features"]:
        geom = feature["geometry"]
        if geom["type"] == "Polygon":
            geom["coordinates"] = _swap(geom["coordinates"])
        else:
            geom["coordinates"] = [_swap(p) for p in geom["coordinates"]]
    swapped = _write(tmp_path, doc)
    assert load_zone_set(60.0, ZoneSource(path, "icao", ("SVZM",))).fir.code == "SVZM"
    with pytest.raises(ZoneFileError, match="look like lat/lon swapped"):
        load_zone_set(60.0, ZoneSource(swapped, "icao", ("SVZM",)))
