"""The exit codes vzmon returns, and which error gets which: the one place they are decided.

    0   success
    1   the run failed: the store or an output cannot be written (full disk, permissions), a bug
    2   usage or configuration error: bad flag, settings file, zone file, credentials, a path of
        the wrong kind, no store (or not a vzmon store) where a command reads one
    73  another vzmon run holds the store's lock; this run did nothing
    75  temporary failure (EX_TEMPFAIL): network down, OpenSky 5xx or rate-limited; cron retries

README's "Exit codes" table says the same, and tests check each one.
"""

from __future__ import annotations

from monitor.errors import AuthError, ConfigError, LockHeld, MonitorError, NotAStore, SourceError

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_TEMPFAIL", "EXIT_USAGE", "exit_code"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 73
EXIT_TEMPFAIL = 75


def exit_code(exc: MonitorError) -> int:
    """The exit code of a run that ended with ``exc``."""
    if isinstance(exc, ConfigError | AuthError | NotAStore):
        return EXIT_USAGE
    if isinstance(exc, LockHeld):
        return EXIT_LOCKED
    if isinstance(exc, SourceError):
        return EXIT_TEMPFAIL
    return EXIT_FAILED
