"""The store: one SQLite file holding every poll attempt, its zone counts, its positions and the
alert outbox.

- ``db``: :class:`~monitor.store.db.Store` (opening safely, migrations, guarded transactions).
- ``snapshots``: poll attempts and their counts; what ``status`` asks (SQLite only).
- ``positions``: the position block codec and reading positions in batches (pyarrow).
- ``outbox``: alerts and their deliveries (SQLite only).
- ``frames``: the tables as pandas DataFrames for analysis.
- ``export``: typed chunks for ``vzmon export``.
"""

__all__: list[str] = []
