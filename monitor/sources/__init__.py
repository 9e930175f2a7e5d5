"""Sources: where positions come from. Each one returns a :class:`~monitor.sources.base.Reply` in the
canonical schema; only its own module knows its wire format, field names and units.

- ``base``: the :class:`~monitor.sources.base.Source` protocol and the ``Reply`` every source returns.
- ``opensky``: OpenSky's ``/states/all`` (client, parser, credit budget).
- ``simulated``: the demo's simulated OpenSky replies.

A new source is one module (or package) here implementing ``Source``, plus one line where the
pipeline picks sources.
"""

__all__: list[str] = []
