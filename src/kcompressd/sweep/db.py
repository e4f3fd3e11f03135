"""The results database: SQLite, one row per run, each written in its own transaction.

WAL mode with synchronous=FULL: a row is on disk when its INSERT returns, and a process killed
at any moment leaves every committed row whole and no half row. The run key is UNIQUE, and a
row that finished ("ok") is never replaced; a failed row is replaced when its run is retried.
`PRAGMA user_version` marks the file as a kcompressd sweep database.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.sweep.metrics import COLUMNS, key_metrics

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
BASE_COLUMNS = ("key", "kind", "measured", "scenario", "design", "seed", "params", "status",
                "error", "result", "version", "created")


def _create_sql() -> str:
    metrics = ",\n  ".join(f"{c} REAL" for c in COLUMNS)
    return f"""
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,        -- hash of (kind, scenario, params, seed)
  kind TEXT NOT NULL,              -- simulate | bench
  measured INTEGER NOT NULL,       -- 1: a real kernel's run, 0: simulated
  scenario TEXT NOT NULL,
  design TEXT,
  seed INTEGER NOT NULL,
  params TEXT NOT NULL,            -- JSON object: the point's parameters
  status TEXT NOT NULL,            -- ok | failed
  error TEXT,
  {metrics},
  result TEXT,                     -- the full result JSON
  version TEXT,
  created TEXT NOT NULL
)"""


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


class ResultsDB:
    """The sweep's database; every method's write is one committed transaction."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if path.is_dir():
            raise KcompressdError(f"{path}: is a directory")
        exists = path.exists() and path.stat().st_size > 0
        if exists and not is_sqlite(path):
            raise KcompressdError(f"{path}: exists and is not an SQLite database")
        if not exists and not create:
            raise KcompressdError(f"{path}: no such results database")
        if not path.parent.is_dir():
            raise KcompressdError(f"{path}: directory {path.parent} does not exist")
        try:
            self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as e:
            raise KcompressdError(f"{path}: cannot open results database ({e})") from None
        if tables and (version != SCHEMA_VERSION or "runs" not in tables):
            self.conn.close()
            raise KcompressdError(f"{path}: not a kcompressd sweep database "
                                  f"(tables {', '.join(sorted(tables))})")
        if not tables:
            if not create:
                raise KcompressdError(f"{path}: not a kcompressd sweep database (empty)")
            with self.conn:
                self.conn.execute("BEGIN")
                self.conn.execute(_create_sql())
                self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsDB:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def done_keys(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT key FROM runs WHERE status = 'ok'")}

    def record(self, *, key: str, kind: str, measured: bool, scenario: str, design: str | None,
               seed: int, params: dict[str, Any], result: dict[str, Any] | None,
               error: str | None) -> None:
        """Write one finished run (result, or error for a failed one) in one transaction."""
        from kcompressd import __version__

        metrics = key_metrics(result) if result is not None else dict.fromkeys(COLUMNS)
        row: dict[str, Any] = {
            "key": key, "kind": kind, "measured": int(measured), "scenario": scenario,
            "design": design, "seed": seed, "params": json.dumps(params),
            "status": "ok" if result is not None else "failed", "error": error,
            "result": json.dumps(result) if result is not None else None,
            "version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **metrics}
        cols = list(row)
        update = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "key")
        sql = (f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
               f"ON CONFLICT(key) DO UPDATE SET {update} WHERE runs.status != 'ok'")
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(sql, [row[c] for c in cols])

    def rows(self) -> list[dict[str, Any]]:
        """Every row as a dict, params and result parsed."""
        cur = self.conn.execute("SELECT * FROM runs ORDER BY id")
        names = [d[0] for d in cur.description]
        out = []
        for values in cur:
            row = dict(zip(names, values, strict=True))
            row["params"] = json.loads(row["params"])
            row["result"] = json.loads(row["result"]) if row["result"] else None
            out.append(row)
        return out


__all__ = ["BASE_COLUMNS", "SCHEMA_VERSION", "ResultsDB", "is_sqlite"]
