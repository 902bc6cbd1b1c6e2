"""Ground floor: the one way keraslab opens an SQLite file (the result store and the search journals).

WAL mode lets readers (``keraslab runs``, a progress monitor, a test) look while one
process writes; ``synchronous=NORMAL`` in WAL mode survives a killed process (not a
power loss). The folder is created when missing.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["connect"]


def connect(path: str | os.PathLike[str], *, timeout: float = 30.0, autocommit: bool = False,
            rows: bool = False, foreign_keys: bool = False) -> sqlite3.Connection:
    """Open (creating folder and file if needed) an SQLite database in WAL mode.

    Parameters
    ----------
    path : path-like
        The database file.
    timeout : float, default=30.0
        Seconds to wait for another writer's lock.
    autocommit : bool, default=False
        ``isolation_level=None``: every statement commits at once (the journal's one-row writes).
    rows : bool, default=False
        Rows as :class:`sqlite3.Row` (by column name) instead of tuples.
    foreign_keys : bool, default=False
        Enforce foreign keys.

    Returns
    -------
    sqlite3.Connection

    Raises
    ------
    sqlite3.DatabaseError
        ``path`` is not an SQLite database (the connection is closed first).
    """
    Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, **({"isolation_level": None} if autocommit else {}))
    if rows:
        conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if foreign_keys:
            conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn
