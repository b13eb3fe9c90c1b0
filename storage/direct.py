"""The statements of every turn, run on SQLite's own connection instead of through SQLAlchemy's execution.

A turn is a handful of small statements by index.  SQLite needs a few microseconds for each; SQLAlchemy's
execution path around it (execution context, parameter construction, result objects, the async adapter's
greenlet switches) needed ≈ 0.1 ms, half of a Slack turn's CPU time (bench/NOTES.md, "Fourth round").
So the statements a turn runs are `Prepared`: still written as SQLAlchemy Core against storage/tables.py,
compiled by SQLAlchemy once per dialect and parameter set, their values converted by the columns' own
SQLAlchemy types (JSON, UTC datetimes, booleans) — and then handed to ``sqlite3`` directly, inside the
transaction `storage.db.Database` began.  Errors come out as SQLAlchemy's exceptions, as before.

PostgreSQL (and a connection not opened by `storage.db.Database`) runs the same statement through
SQLAlchemy: there a statement is a network round trip and SQLAlchemy's share is small.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

RAW_SQLITE = "regbot_sqlite3"
"""Key in a connection's ``info``: the `sqlite3.Connection` under it (set by `storage.db.Database`)."""

Processor = Callable[[Any], Any] | None
Params = Mapping[str, Any]


@dataclass(frozen=True)
class _Form:
    """One compiled form of a statement: the SQL, where each value comes from, how it is converted."""

    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    fixed: Mapping[str, Any]  # values the statement itself carries (literals, LIMIT, column defaults)
    results: tuple[Processor, ...]

    def values(self, params: Params) -> tuple[Any, ...]:
        fixed = self.fixed
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else fixed[name]
            out.append(value if process is None else process(value))  # None too: JSON stores 'null'
        return tuple(out)

    def row(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(raw, self.results, strict=True)
        )


@dataclass(frozen=True)
class Executed:
    """What a statement returned: its rows (tuples, in the statement's column order) and rowcount."""

    rows: list[tuple[Any, ...]]
    rowcount: int
    columns: tuple[str, ...]

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def mappings(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Prepared:
    """A Core statement run the quick way on SQLite (see the module's docstring), as SQLAlchemy would
    run it elsewhere.  Parameters SQLAlchemy renders at execution (``IN`` lists) are not supported: keep
    such statements on ``conn.execute``.  Connection events and execution options do not apply."""

    def __init__(self, statement: Executable) -> None:
        assert isinstance(statement, ClauseElement)
        self.statement = statement
        self.columns: tuple[str, ...] = tuple(
            str(column.key) for column in getattr(statement, "exported_columns", ())
        )
        # Per dialect object (its engine's options, e.g. a JSON serialiser, go into the processors).
        self._forms: WeakKeyDictionary[Dialect, dict[tuple[tuple[str, ...], bool], _Form]] = (
            WeakKeyDictionary()
        )

    async def execute(self, conn: AsyncConnection, params: Params | Sequence[Params]) -> Executed:
        """Run with one set of values, or with several (executemany; then no rows are returned)."""
        batch: list[Params] = [params] if isinstance(params, Mapping) else list(params)
        many = not isinstance(params, Mapping)
        if not batch:  # (SQLAlchemy would run the statement once, without values)
            return Executed([], 0, self.columns)
        raw = conn.info.get(RAW_SQLITE)
        if raw is None:
            result = await conn.execute(self.statement, batch if many else batch[0])
            rows = [tuple(row) for row in result.all()] if result.returns_rows else []
            return Executed(rows, result.rowcount, self.columns)
        form = self._form(conn.dialect, batch[0], many)
        try:
            values = [form.values(p) for p in batch]
        except (ValueError, TypeError, KeyError) as error:  # a value its column refuses: as SQLAlchemy
            raise StatementError(str(error), form.sql, None, error) from error
        with driver_errors(conn, form.sql):
            if many:
                cursor = raw.executemany(form.sql, values)
                return Executed([], cursor.rowcount, self.columns)
            cursor = raw.execute(form.sql, values[0])
            rows = [form.row(row) for row in cursor.fetchall()] if cursor.description else []
            return Executed(rows, cursor.rowcount, self.columns)

    def _form(self, dialect: Dialect, params: Params, many: bool) -> _Form:
        forms = self._forms.get(dialect)
        if forms is None:
            forms = self._forms[dialect] = {}
        key = (tuple(sorted(params)), many)
        form = forms.get(key)
        if form is None:
            form = forms[key] = _compile(self.statement, dialect, key[0], many)
        return form


@contextlib.contextmanager
def driver_errors(conn: AsyncConnection, sql: str) -> Iterator[None]:
    """sqlite3's errors as SQLAlchemy's, as if SQLAlchemy had run ``sql`` (so that callers, and the
    `Conflict` mapping of `storage.db`, see no difference)."""
    try:
        yield
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, None, error, sqlite3.Error, dialect=conn.dialect) from error


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...], many: bool) -> _Form:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
    assert isinstance(compiled, SQLCompiler)
    if compiled.positiontup is None:
        raise ValueError(f"{dialect.name}: not a positional parameter style")
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError(
            "parameters SQLAlchemy renders at execution (expanding IN lists, literal_execute) are not "
            "supported: run such a statement with conn.execute"
        )
    fixed: dict[str, Any] = {}
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is None or not getattr(default, "is_scalar", False):
            raise ValueError(f"column {column.key}: only scalar Python defaults are supported")
        fixed[column.key] = default.arg  # type: ignore[attr-defined]
    binds: list[Processor] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if name not in keys and name not in fixed:
            if bind.required:
                raise ValueError(f"parameter {name} is required")
            fixed[name] = bind.effective_value
        binds.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in getattr(statement, "exported_columns", ())
    )
    return _Form(compiled.string, tuple(compiled.positiontup), tuple(binds), fixed, results)
