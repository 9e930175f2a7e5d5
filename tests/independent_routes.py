"""The routes of ``tests/independent_traffic.py``: which airports are joined, how often, by whom.

Real airports (ICAO codes of ``geo.airports``) and real airline designators; the frequencies are
this model's, not a timetable: about 125 domestic legs a day, 25 international departures and as
many arrivals at Maiquetia, Valencia and Maracaibo, 160 overflights of the FIR (a third of them
across the coverage hole in its south) and some traffic that stays in the ring.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AIRLINES", "ROUTES", "Route"]


@dataclass(frozen=True)
class Route:
    """Legs between two airports (ICAO codes): ``per_day`` legs a day each way on average.

    ``rotation``: an airframe based at ``origin`` flies out and back (the return after a
    turnaround); otherwise each leg is flown on its own by an airframe of the airline's pool.
    """

    origin: str
    destination: str
    per_day: float
    airlines: tuple[str, ...]
    rotation: bool = True


ROUTES: tuple[Route, ...] = (
    # domestic (Conviasa, Avior, Laser, Estelar, Rutaca, Venezolana): rotations from their bases
    Route("SVMI", "SVMC", 11, ("VCV", "ROI", "LER", "ETR")),
    Route("SVMI", "SVMG", 11, ("VCV", "LER", "ETR", "RUC")),
    Route("SVMI", "SVPR", 5, ("VCV", "ROI", "RUC")),
    Route("SVMI", "SVBC", 3.5, ("ROI", "VCV")),
    Route("SVMI", "SVVA", 1, ("VCV",)),
    Route("SVMI", "SVPA", 1, ("VCV",)),
    Route("SVMI", "SVSE", 1, ("VCV",)),
    Route("SVMI", "SVBM", 2.5, ("VCV", "ETR")),
    Route("SVMI", "SVSO", 2.5, ("VCV", "LER")),
    Route("SVMI", "SVJC", 2.5, ("VCV", "VNE")),
    Route("SVMI", "SVCB", 1, ("RUC",)),
    Route("SVMI", "SVSA", 1, ("VCV",)),
    Route("SVMC", "SVVA", 2.5, ("ROI", "VNE")),
    Route("SVMC", "SVMG", 2.5, ("ROI", "VNE")),
    Route("SVMC", "SVPR", 1, ("VCV",)),
    Route("SVVA", "SVMG", 3.5, ("ROI", "LER")),
    Route("SVPR", "SVMG", 2.5, ("RUC", "VCV")),
    Route("SVPR", "SVPA", 0.5, ("RUC",)),
    Route("SVBC", "SVMC", 2.5, ("ROI",)),
    Route("SVMG", "SVSE", 1, ("RUC",)),
    # international departures and arrivals at Maiquetia, Valencia and Maracaibo
    Route("MPTO", "SVMI", 4, ("CMP",)),
    Route("MPTO", "SVVA", 1, ("CMP",)),
    Route("MPTO", "SVMC", 1, ("CMP",)),
    Route("SKBO", "SVMI", 3, ("AVA", "RPB")),
    Route("SKBO", "SVMC", 1, ("AVA",)),
    Route("TNCC", "SVMI", 1, ("INC",)),
    Route("TNCC", "SVVA", 1, ("INC",)),
    Route("TNCA", "SVMC", 1, ("ARU",)),
    Route("TNCA", "SVMI", 1, ("ARU",)),
    Route("TTPP", "SVMI", 1, ("BWA",)),
    Route("SVMI", "KMIA", 2, ("LER", "ROI")),
    Route("SVVA", "KMIA", 1, ("LER",)),
    Route("SVMI", "SYCJ", 0.5, ("VCV",)),
    Route("SVMI", "MUHA", 1, ("VCV",)),
    Route("SVMI", "MMMX", 0.5, ("VCV",)),
    Route("SVMI", "LEMD", 2, ("IBE", "AEA", "PUE"), rotation=False),
    Route("SVMI", "LTFM", 0.5, ("THY",), rotation=False),
    # overflights across the south of the FIR (its coverage hole): Brazil to the US and the Caribbean
    Route("SBGR", "KMIA", 7, ("AAL", "TAM"), rotation=False),
    Route("SBEG", "KMIA", 3.5, ("AAL", "GLO"), rotation=False),
    Route("SBKP", "KMIA", 2.5, ("AZU",), rotation=False),
    Route("SBGL", "KMIA", 2.5, ("AAL", "TAM"), rotation=False),
    Route("SBBR", "KMIA", 2, ("TAM",), rotation=False),
    Route("SBSV", "KMIA", 1, ("AAL",), rotation=False),
    Route("SBCF", "KMIA", 1, ("AZU",), rotation=False),
    Route("SBGR", "KMCO", 2, ("AZU", "TAM"), rotation=False),
    Route("SBGR", "KATL", 2, ("DAL",), rotation=False),
    Route("SBGR", "KORD", 1, ("UAL",), rotation=False),
    Route("SAEZ", "KJFK", 1, ("ARG",), rotation=False),
    Route("TNCC", "SBGR", 2.5, ("GLO", "AZU"), rotation=False),
    Route("TNCA", "SBGR", 2, ("GLO",), rotation=False),
    Route("SBEG", "TNCA", 1, ("AZU",), rotation=False),
    Route("SBBV", "TNCC", 1, ("GLO",), rotation=False),
    Route("SBEG", "TJSJ", 1, ("GLO",), rotation=False),
    Route("SYCJ", "MPTO", 1, ("CMP",), rotation=False),
    Route("TTPP", "SPJC", 1, ("BWA",), rotation=False),
    # overflights across the north and the middle: Europe to the Andes, the Caribbean to Panama and Colombia
    Route("LEMD", "SKBO", 7, ("IBE", "AVA", "AEA"), rotation=False),
    Route("LEBL", "SKBO", 2, ("AVA",), rotation=False),
    Route("LPPT", "SKBO", 2, ("TAP",), rotation=False),
    Route("LFPG", "SKBO", 2, ("AFR",), rotation=False),
    Route("EDDF", "SKBO", 1, ("DLH",), rotation=False),
    Route("LEMD", "SEQM", 2, ("IBE",), rotation=False),
    Route("LEMD", "SKCL", 2, ("AVA",), rotation=False),
    Route("TTPP", "SKBO", 3.5, ("BWA", "AVA"), rotation=False),
    Route("TTPP", "MPTO", 3.5, ("CMP", "BWA"), rotation=False),
    Route("TBPB", "MPTO", 3.5, ("CMP",), rotation=False),
    Route("TBPB", "SKBO", 2, ("AVA",), rotation=False),
    Route("TGPY", "SKBO", 1, ("AVA",), rotation=False),
    Route("TTPP", "TNCC", 2.5, ("BWA",), rotation=False),
    Route("TTPP", "SKRG", 2, ("AVA",), rotation=False),
    Route("TBPB", "SKRG", 2, ("AVA",), rotation=False),
    Route("SBGR", "MUHA", 2, ("CUB", "GLO"), rotation=False),
    Route("SBGR", "MKJP", 1, ("CMP",), rotation=False),
    Route("SBEG", "MMUN", 1, ("AZU",), rotation=False),
    Route("TTPP", "SEQM", 1, ("BWA",), rotation=False),
    # in the polling box but never in the FIR (no class for SVZM)
    Route("TNCC", "KMIA", 2, ("AAL", "INC"), rotation=False),
    Route("TNCA", "KMIA", 2, ("AAL", "JBU"), rotation=False),
    Route("TTPP", "KJFK", 2, ("BWA", "JBU"), rotation=False),
    Route("TNCA", "TNCC", 2, ("DAL",), rotation=False),
    Route("SKBQ", "KMIA", 1, ("AVA",), rotation=False),
    Route("SBBV", "SBEG", 1, ("AZU",), rotation=False),
    Route("TTPP", "TGPY", 2, ("BWA",), rotation=False),
    Route("SBGR", "MPTO", 3, ("CMP",), rotation=False),
    Route("SBGL", "MPTO", 1.5, ("CMP",), rotation=False),
)

# Where each airline's airframes get their icao24 (the start of the state's 24-bit block) and the
# origin_country OpenSky derives from it.
AIRLINES: dict[str, tuple[int, str]] = {
    "VCV": (0x0D8000, "Venezuela"), "ROI": (0x0D8000, "Venezuela"), "LER": (0x0D8000, "Venezuela"),
    "ETR": (0x0D8000, "Venezuela"), "RUC": (0x0D8000, "Venezuela"), "VNE": (0x0D8000, "Venezuela"),
    "CMP": (0x0C2000, "Panama"), "AVA": (0x0AC000, "Colombia"), "RPB": (0x0AC000, "Colombia"),
    "INC": (0x480000, "Kingdom of the Netherlands"), "ARU": (0x480000, "Kingdom of the Netherlands"),
    "BWA": (0x0C6000, "Trinidad and Tobago"), "AAL": (0xA00000, "United States"),
    "JBU": (0xA00000, "United States"), "DAL": (0xA00000, "United States"), "GLO": (0xE40000, "Brazil"),
    "AZU": (0xE40000, "Brazil"), "TAM": (0xE40000, "Brazil"), "IBE": (0x340000, "Spain"),
    "AEA": (0x340000, "Spain"), "PUE": (0x340000, "Spain"), "AFR": (0x380000, "France"),
    "TAP": (0x490000, "Portugal"), "THY": (0x4B8000, "Turkey"), "UAL": (0xA00000, "United States"),
    "ARG": (0xE00000, "Argentina"), "DLH": (0x3C0000, "Germany"), "CUB": (0x0B0000, "Cuba"),
}  # fmt: skip
