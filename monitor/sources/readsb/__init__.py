"""The readsb-family live sources, adsb.lol and adsb.fi, which answer in readsb's "jv2" JSON (the
ADSBx v2 format): ``parse`` (a reply body into canonical columns). Importing this package loads
nothing else."""

__all__: list[str] = []
