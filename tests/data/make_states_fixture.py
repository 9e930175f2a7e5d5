"""Write tests/data/opensky_states_region.json: an OpenSky /states/all reply (extended=1) for tests.

Written by the project, not captured: 44 aircraft around Venezuela at 2025-11-29T14:00:00Z, in the
exact OpenSky format (18 fields per row, callsigns padded to 8 characters, nulls where the real
API gives them). ``tests/test_opensky.py`` checks the format against a real capture when
../shared is present. Run: python tests/data/make_states_fixture.py
"""

from __future__ import annotations

import json
from pathlib import Path

T = 1764424800  # 2025-11-29T14:00:00Z

# icao24, callsign, country, lat, lon, baro_alt_m, on_ground, speed m/s, track, vrate, squawk, category, where
AIRCRAFT = [
    # SVZM: domestic, international and overflights, some on the ground at Maiquetía
    ("0d80a1", "VCV2210", "Venezuela", 10.2, -66.1, 7620.0, False, 215.3, 95.0, 0.0, "2341", 4, "SVZM"),
    ("0d80b2", "ROI1102", "Venezuela", 9.4, -64.9, 10363.2, False, 228.1, 112.4, -3.9, "2215", 4, "SVZM"),
    ("0d80c3", "LER341", "Venezuela", 10.1, -68.3, 5486.4, False, 180.0, 280.1, 9.1, "2366", 3, "SVZM"),
    ("0d80d4", "ETR502", "Venezuela", 8.9, -63.7, 11277.6, False, 236.4, 97.3, 0.0, "2101", 4, "SVZM"),
    ("0d80e5", "VCV1830", "Venezuela", 10.6014, -66.9911, None, True, 0.0, 45.0, None, "2000", 4, "SVZM"),
    ("0d80f6", "ROI240", "Venezuela", 10.6041, -66.9863, None, True, 6.2, 90.0, None, None, 4, "SVZM"),
    ("0d8107", "RUC322", "Venezuela", 7.1, -66.4, 3962.4, False, 140.2, 185.0, -5.2, "2450", 3, "SVZM"),
    ("0d8118", "VNE1021", "Venezuela", 10.9, -63.9, 1524.0, False, 95.5, 60.0, -4.5, "2477", 3, "SVZM"),
    ("0d8129", "LER2214", "Venezuela", 8.3, -62.7, 9144.0, False, 210.8, 70.4, 0.0, "2303", 4, "SVZM"),
    ("0d812a", "VCV3000", "Venezuela", 5.2, -67.6, 7010.4, False, 200.0, 355.0, 2.3, "2314", 4, "SVZM"),
    ("0d813b", "TVU501", "Venezuela", 10.4, -71.5, 3048.0, False, 150.1, 260.0, -6.0, "2511", 3, "SVZM"),
    ("0d814c", "SVA11", "Venezuela", 3.4, -65.1, 2438.4, False, 80.0, 140.0, 0.5, "7000", 2, "SVZM"),
    ("e48a01", "CMP222", "Panama", 11.2, -68.6, 10668.0, False, 231.5, 110.2, 0.0, "1762", 4, "SVZM"),
    ("e48a02", "CMP9021", "Panama", 9.1, -70.6, 11582.4, False, 240.0, 128.0, 0.0, "1733", 4, "SVZM"),
    ("0c2057", "RPB7420", "Colombia", 9.7, -69.5, 11887.2, False, 225.8, 75.6, 0.0, "3011", 4, "SVZM"),
    ("e80451", "LAN530", "Chile", 6.1, -64.9, 11887.2, False, 248.1, 350.2, 0.0, "4517", 6, "SVZM"),
    ("a0b1c2", "AAL930", "United States", 5.2, -62.8, 11277.6, False, 251.3, 160.5, 0.0, "5423", 6, "SVZM"),
    ("c05f31", "ACA96", "Canada", 13.2, -66.5, 10972.8, False, 246.0, 165.0, 0.0, "6101", 6, "SVZM"),
    ("e49406", "TAM8064", "Brazil", 14.4, -65.9, 11582.4, False, 252.4, 335.7, 0.0, "3645", 6, "SVZM"),
    ("4ca7b3", "IBE6501", "Spain", 12.4, -64.2, 11887.2, False, 260.1, 240.0, -0.3, "1235", 6, "SVZM"),
    ("e03a71", "ARG1302", "Argentina", 2.2, -63.6, 11582.4, False, 243.6, 345.2, 0.0, "2745", 6, "SVZM"),
    # ring sectors
    (
        "480c3e",
        "KLM785",
        "Kingdom of the Netherlands",
        12.19,
        -68.8,
        2133.6,
        False,
        130.5,
        110.0,
        -6.5,
        "4422",
        4,
        "ring:TNCF",
    ),
    (
        "4801aa",
        "KLM759",
        "Kingdom of the Netherlands",
        12.4,
        -70.2,
        4572.0,
        False,
        170.2,
        20.0,
        8.1,
        "4412",
        6,
        "ring:TNCF",
    ),
    ("0a0011", "DVR505", "Curaçao", 12.1888, -68.9601, None, True, 0.0, 270.0, None, None, 2, "ring:TNCF"),
    ("0a0012", "INC7110", "Curaçao", 13.9, -69.7, 7924.8, False, 190.0, 330.0, 3.2, "2601", 3, "ring:TNCF"),
    ("0a2001", "BWA431", "Trinidad and Tobago", 10.7, -61.0, 3352.8, False, 160.3, 200.0, -7.4, "2642", 4, "ring:TTZP"),
    ("0a2002", "LIA318", "Antigua and Barbuda", 12.6, -61.9, 6705.6, False, 185.0, 20.0, 4.0, "2716", 3, "ring:TTZP"),
    (
        "0a2003",
        "BWA2201",
        "Trinidad and Tobago",
        10.5953,
        -61.3371,
        None,
        True,
        7.0,
        100.0,
        None,
        "2000",
        4,
        "ring:TTZP",
    ),
    ("0c2011", "AVA205", "Colombia", 10.8, -73.2, 10058.4, False, 230.0, 45.0, 0.0, "3133", 4, "ring:SKED"),
    ("0c2012", "RPB5123", "Colombia", 7.9, -72.6, 914.4, False, 80.1, 190.0, -3.3, "3254", 4, "ring:SKED"),
    ("0c2013", "NSE8471", "Colombia", 6.0, -69.9, 5791.2, False, 165.0, 90.0, 0.0, "3321", 3, "ring:SKED"),
    ("0c2014", "ARE4031", "Colombia", 5.0, -69.9, 10363.2, False, 221.0, 200.0, 0.0, "3402", 4, "ring:SKED"),
    ("0b0a01", "TGY100", "Guyana", 6.4, -58.6, 3657.6, False, 140.0, 150.0, 5.5, "1401", 3, "ring:SYGC"),
    ("0b0a02", None, "Guyana", 7.2, -59.4, 1828.8, False, 70.0, 300.0, 0.0, None, 2, "ring:SYGC"),
    ("e48f01", "AZU4520", "Brazil", 2.6, -60.8, 6400.8, False, 190.5, 10.0, -8.2, "5022", 4, "ring:SBAZ"),
    ("e48f02", "GLO1772", "Brazil", 0.5, -63.5, 11277.6, False, 240.0, 180.0, 0.0, "5077", 4, "ring:SBAZ"),
    ("a0c0c0", "JBU1621", "United States", 16.6, -66.4, 11277.6, False, 250.0, 170.0, 0.0, "2051", 4, "ring:TJZS"),
    ("a0c0c1", "NKS721", "United States", 16.5, -65.4, 10668.0, False, 247.0, 150.0, 0.0, "2033", 4, "ring:TJZS"),
    # outside every zone but inside the polling box
    ("0c2015", "AVA9363", "Colombia", 4.70, -74.14, None, True, 0.0, 0.0, None, None, 4, "outside"),
    ("e48f03", "AZU2841", "Brazil", -1.2, -59.0, 10972.8, False, 235.0, 200.0, 0.0, "5134", 4, "outside"),
    # outside the polling box (the server's box filter removes them)
    ("0d4d01", "CMP310", "Panama", 9.07, -79.38, 2743.2, False, 150.0, 250.0, -5.0, "1702", 4, "box-outside"),
    ("a11111", "AAL1701", "United States", 18.44, -66.0, 3048.0, False, 160.0, 80.0, -4.0, "4605", 4, "box-outside"),
]


def _row(a: tuple, i: int) -> list:
    icao, cs, country, lat, lon, alt, ground, vel, trk, vr, sq, cat, _where = a
    tpos = T - (i % 3)
    return [
        icao,
        None if cs is None else f"{cs:<8}",
        country,
        tpos,
        T - (i % 2),
        lon,
        lat,
        alt,
        ground,
        vel,
        trk,
        vr,
        None,
        None if alt is None else round(alt + 152.4, 2),
        sq,
        False,
        0 if i % 7 else 2,
        cat,
    ]


def build() -> dict:
    states = [_row(a, i) for i, a in enumerate(AIRCRAFT)]
    # Edge cases the real API produces: no position yet, a stale position, an empty origin country.
    states.append(
        [
            "0d8150",
            "VCV1501 ",
            "Venezuela",
            None,
            T - 2,
            None,
            None,
            None,
            False,
            210.0,
            88.0,
            0.0,
            None,
            None,
            "2356",
            False,
            0,
            4,
        ]
    )
    states.append(
        [
            "0d8151",
            "ROI333  ",
            "Venezuela",
            T - 40,
            T - 1,
            -66.8,
            9.9,
            9448.8,
            False,
            220.0,
            95.0,
            0.0,
            None,
            9601.2,
            "2217",
            False,
            0,
            4,
        ]
    )
    states.append(
        ["50047e", "UNKN01  ", "", T, T, -67.5, 8.5, 6096.0, False, 190.0, 10.0, 0.0, None, 6248.4, None, False, 0, 0]
    )
    return {"time": T, "states": states}


def main() -> None:
    out = Path(__file__).with_name("opensky_states_region.json")
    out.write_text(json.dumps(build(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(build()['states'])} states)")


if __name__ == "__main__":
    main()
