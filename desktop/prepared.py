"""Core statements compiled once and run straight on the SQLite driver, for the scan path.

A scan runs a dozen small statements, each an index seek of a few microseconds in SQLite;
through ``Session.execute`` each also pays some 40 µs of SQLAlchemy's statement handling,
which made a scan several times slower than the database work it does. A :class:`Prepared`
is an ordinary Core statement (so the SQL is still written once, in SQLAlchemy), compiled
for the session's dialect the first time it runs, with its bind and result conversions
looked up then. Each later run converts the parameters, executes on the session's own
driver connection, inside the session's transaction, and converts the rows back: the same
values, in the same storage format, that ``Session.execute`` would give and take.

Only where a statement runs per scan, and only on the desk's SQLite store (the hub never
applies operations; it keeps them).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any] | None


class _Compiled:
    """One statement compiled for one dialect: its SQL, parameter slots and row builder."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None
    ) -> None:
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
        )
        assert isinstance(compiled, SQLCompiler)
        binds: dict[str, BindParameter[Any]] = dict(compiled.binds)
        required = {name for name, bind in binds.items() if bind.required}
        # IN lists of constants are expanded here, once; the caller's parameters are not.
        expanded = compiled.construct_expanded_state(dict.fromkeys(required))
        self.sql = expanded.statement
        # Per positional slot: (name the caller gives, processor) or (None, constant value).
        self.slots: list[tuple[str | None, Any]] = []
        for name in expanded.positiontup or ():
            bind = binds.get(name)
            if bind is None:  # one value of an expanded IN list: its list's parameter
                bind = binds.get(name.rsplit("_", 1)[0])
            if bind is None:
                raise ValueError(f"cannot place the parameter {name!r} of {self.sql!r}")
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in required:
                self.slots.append((name, process))
            else:
                value = expanded.parameters[name]
                self.slots.append((None, process(value) if process else value))
        self.columns: list[str] = []
        self.processors: list[Processor] = []
        returned = getattr(statement, "selected_columns", None)
        if returned is not None:
            for column in returned:
                self.columns.append(str(column.key))
                self.processors.append(
                    column.type.dialect_impl(dialect).result_processor(dialect, None)
                )
        self.row: Any = None
        if self.columns:
            self.row = namedtuple("Row", self.columns, rename=True)  # type: ignore[misc]
        self.converts = any(p is not None for p in self.processors)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values: list[Any] = []
        for name, slot in self.slots:
            if name is None:
                values.append(slot)
            else:
                value = params[name]
                values.append(slot(value) if slot is not None else value)
        return values

    def make_rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        build = self.row
        if build is None:
            return raw
        if not self.converts:
            return [build._make(r) for r in raw]
        processors = self.processors
        return [
            build._make([p(v) if p is not None else v for p, v in zip(processors, r, strict=True)])
            for r in raw
        ]


# The session's driver connection and dialect while a transaction is open: asking the session
# for its connection costs more than the statements a scan runs on it.
_DRIVER = "eventdesk.prepared.driver"


@event.listens_for(Session, "after_begin")
def _remember_driver(session: Session, _transaction: Any, connection: Connection) -> None:
    session.info[_DRIVER] = (connection.connection.driver_connection, connection.dialect)


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_DRIVER, None)


class Prepared:
    """A Core statement run on the driver connection of a session's own transaction.

    ``column_keys`` names the columns of an ``INSERT`` built with no values (as
    ``Session.execute(insert(table), {...})`` would take them).
    """

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = column_keys
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def _driver(self, session: Session) -> tuple[Any, _Compiled]:
        # Pending ORM changes go first, as Session.execute's autoflush would send them (and,
        # as there, not inside a ``no_autoflush`` block).
        if session.autoflush:
            session.flush()
        found = session.info.get(_DRIVER)
        if found is None:
            session.connection()  # begins the transaction, which puts its connection in info
            found = session.info[_DRIVER]
        driver, dialect = found
        try:
            compiled = self._by_dialect[dialect]
        except KeyError:
            if dialect.name != "sqlite":
                raise ValueError(f"prepared statements run on SQLite, not {dialect.name}") from None
            compiled = self._by_dialect[dialect] = _Compiled(
                self.statement, dialect, self.column_keys
            )
        return driver, compiled

    def all(self, session: Session, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row, as named tuples of converted values."""
        driver, compiled = self._driver(session)
        raw = _execute(driver, compiled, params).fetchall()
        return compiled.make_rows(raw)

    def first(self, session: Session, params: Mapping[str, Any] | None = None) -> Any | None:
        """The first row, or None."""
        driver, compiled = self._driver(session)
        raw = _execute(driver, compiled, params).fetchone()
        return None if raw is None else compiled.make_rows([raw])[0]

    def scalar(self, session: Session, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(session, params)
        return None if row is None else row[0]

    def run(self, session: Session, params: Mapping[str, Any]) -> None:
        """Execute a write with one set of parameters."""
        driver, compiled = self._driver(session)
        _execute(driver, compiled, params)


def _execute(driver: Any, compiled: _Compiled, params: Mapping[str, Any] | None) -> Any:
    return driver_execute(driver, compiled.sql, compiled.arguments(params or {}))


def driver_execute(driver: sqlite3.Connection, sql: str, arguments: Sequence[Any] = ()) -> Any:
    """``driver.execute``, its errors raised as SQLAlchemy raises them.

    IntegrityError, OperationalError (a full disk, "database is locked"), …: callers that
    tell a bad operation from a full disk by those classes still can.
    """
    try:
        return driver.execute(sql, arguments)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, arguments, exc, sqlite3.Error) from exc
