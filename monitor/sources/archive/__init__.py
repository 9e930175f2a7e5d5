"""adsb.lol's daily archive (globe_history releases): the formats of a day's tar, read into the canonical
schema. Only this package knows them."""

__all__: list[str] = []
