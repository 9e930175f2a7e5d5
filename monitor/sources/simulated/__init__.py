"""Simulated traffic for the demo and the tests: flights on real routes, turned into OpenSky replies.

- ``scenario``: routes, effects, gaps and the November 2025 scenario.
- ``flights``: the flights flown, as one OpenSky ``/states/all`` reply per poll.
- ``reply``: a simulated reply as a ``Reply`` of source ``demo``, read by OpenSky's parser.
"""

__all__: list[str] = []
