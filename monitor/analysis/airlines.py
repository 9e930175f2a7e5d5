"""Airlines: the ICAO designator in a callsign, and the names of the region's carriers.

Place in the flow: ``flights`` tags each flight with its designator; charts and reports label the
airline mix with the names below. Designators are facts published by ICAO (Doc 8585), as listed in
../shared/reference/geo.md section 6 (checked against VRS standing data, CC0). Designators get
reassigned over the years; this table is as of 2025-2026.
"""

from __future__ import annotations

import re

__all__ = ["REGION_AIRLINES", "airline_name", "airline_of"]

# designator: (name, country ISO 3166-1 alpha-2)
REGION_AIRLINES: dict[str, tuple[str, str]] = {
    "VCV": ("Conviasa", "VE"),
    "ROI": ("Avior Airlines", "VE"),
    "LER": ("LASER Airlines", "VE"),
    "ETR": ("Estelar", "VE"),
    "VTU": ("Turpial Airlines", "VE"),
    "RUC": ("Rutaca", "VE"),
    "VNE": ("Venezolana", "VE"),
    "ALV": ("Aeropostal", "VE"),
    "SSU": ("SASCA", "VE"),
    "AOB": ("Aerocaribe Coro", "VE"),
    "VEN": ("Transaven", "VE"),
    "RGR": ("Avior Regional", "VE"),
    "OCA": ("Aserca", "VE"),
    "BBR": ("Santa Barbara Airlines", "VE"),
    "IBE": ("Iberia", "ES"),
    "AEA": ("Air Europa", "ES"),
    "PUE": ("Plus Ultra", "ES"),
    "TAP": ("TAP Air Portugal", "PT"),
    "AVA": ("Avianca", "CO"),
    "ARE": ("LATAM Colombia", "CO"),
    "GLO": ("GOL", "BR"),
    "THY": ("Turkish Airlines", "TR"),
    "CMP": ("Copa Airlines", "PA"),
    "RPB": ("Wingo", "CO"),
    "NSE": ("SATENA", "CO"),
    "BOV": ("Boliviana de Aviación", "BO"),
    "BWA": ("Caribbean Airlines", "TT"),
    "ARG": ("Aerolíneas Argentinas", "AR"),
    "CUB": ("Cubana", "CU"),
    "AAL": ("American Airlines", "US"),
    "DAL": ("Delta Air Lines", "US"),
    "UAL": ("United Airlines", "US"),
    "JBU": ("JetBlue", "US"),
    "NKS": ("Spirit Airlines", "US"),
    "TAM": ("LATAM Brasil", "BR"),
    "LAN": ("LATAM Airlines", "CL"),
    "AZU": ("Azul", "BR"),
    "KLM": ("KLM", "NL"),
    "AFR": ("Air France", "FR"),
    "ACA": ("Air Canada", "CA"),
    "LIA": ("LIAT", "AG"),
    "INC": ("Insel Air", "CW"),
    "DVR": ("Divi Divi Air", "CW"),
    "TGY": ("Trans Guyana Airways", "GY"),
}

_DESIGNATOR = re.compile(r"^([A-Z]{3})\d[0-9A-Z]{0,4}$")


def airline_of(callsign: str | None) -> str | None:
    """The ICAO airline designator of an airline-style callsign (``VCV2210`` -> ``VCV``), else None.

    Registrations (``YV3016``, ``N123AB``) and other callsigns have no designator.
    """
    if not callsign:
        return None
    m = _DESIGNATOR.match(callsign.strip().upper())
    return m.group(1) if m else None


def airline_name(designator: str) -> str:
    return REGION_AIRLINES.get(designator, (designator, ""))[0]
