"""OpenSky Network ``/states/all``: ``client`` (HTTP, OAuth2, retries, rate limits), ``parse`` (the
state vectors into canonical columns), ``credits`` (daily budgets and sustainable cadence) and
``source`` (the three as one :class:`~monitor.sources.base.Source`). ``NAME`` is how its polls are
stored (``snapshots.source``); importing this package loads nothing else."""

__all__ = ["NAME"]

NAME = "opensky"
