"""A throwaway PostgreSQL server for the demo, the self-test and the tests.

See :mod:`diagnose.pg.server` (lifecycle) and :mod:`diagnose.pg.binaries` (finding binaries,
running as an unprivileged user when root). Importing this package is cheap: psycopg is
imported only when a database is created.
"""

from .binaries import Binaries, PostgresUnavailable, find_binaries
from .server import PostgresStartError, TempPostgres

__all__ = ["Binaries", "PostgresStartError", "PostgresUnavailable", "TempPostgres", "find_binaries"]
