"""Analysis: what the stored counts, polls and positions say, as pure functions and frozen results.

- ``windows``: before/after windows around an event, cut at neighbouring events.
- ``cadence``: the polling cadence (numpy only: the alert check uses it after every poll).
- ``hourly``: coverage and the hourly and daily measures per zone.
- ``flights``: positions into flights, classed domestic, departure, arrival or overflight;
  ``flight_table`` joins the buckets' flights into one table.
- ``stats``: before/after changes with 95 % intervals.
- ``verdict``: the plain-language paragraph a report opens with.
- ``airlines``: the airline of a callsign.

Pure pandas/numpy/scipy; no I/O. Windows are half-open ``[start, end)`` in UTC and passed
explicitly; results carry their window and zone.
"""

__all__: list[str] = []
