"""Settings: every knob, its default, environment variable and meaning; the only reader of the
environment and of settings files.

Precedence, highest first: command-line flag > environment variable > settings file > default.
The settings file is ``--config``, else ``$VZMON_CONFIG``, else ``config/settings.toml`` of the
source checkout when the package runs from one.

- ``table``: every setting declared once, as a field of the frozen ``Settings`` (``SPECS``).
- ``values``: the parsers that turn raw values into typed ones, and the fixed choices.
- ``load``: ``load_settings``, which resolves each setting from flags, environment, file, default.
- ``secret``: ``Secret`` (never shown) and the redaction of secrets from any text.
- ``readme``: README's settings table, generated from ``SPECS``.
"""

__all__: list[str] = []
