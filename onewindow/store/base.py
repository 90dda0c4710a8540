"""What every part of the hall's store shares: the one connection, its transactions (nested
ones as savepoints) and plain rows. Store (db.py) is made of this and the parts' mixins."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any, Iterable, Iterator


def _json(value: Any) -> str:
    # default=str: TOML dates in the hall file become ISO strings
    return json.dumps(value, ensure_ascii=False, default=str)


class StoreBase:
    db: sqlite3.Connection
    _depth: int = 0

    # -- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; nested calls become savepoints that roll back alone."""
        if self._depth:
            name = f"sp{self._depth}"
            self.db.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self.db.execute(f"ROLLBACK TO {name}")
                self.db.execute(f"RELEASE {name}")
                raise
            else:
                self.db.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    # -- appointments and ratings (plain rows: their rules live in the controller) -------------

    def insert(self, table: str, row: dict[str, Any]) -> None:
        cols = ", ".join(row)
        marks = ", ".join(f":{c}" for c in row)
        self.db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", row)

    def update(self, table: str, key: str, row: dict[str, Any]) -> None:
        sets = ", ".join(f"{c} = :{c}" for c in row if c != key)
        self.db.execute(f"UPDATE {table} SET {sets} WHERE {key} = :{key}", row)

    def rows(
        self, table: str, where: str = "1", params: Iterable[Any] = ()
    ) -> list[dict[str, Any]]:
        return [
            dict(r) for r in self.db.execute(f"SELECT * FROM {table} WHERE {where}", tuple(params))
        ]
