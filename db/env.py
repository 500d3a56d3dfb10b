"""Alembic environment for the desk database (SQLite, batch mode for ALTER TABLE)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from desktop.models import Base

config = context.config
target_metadata = Base.metadata


def _virtual_tables(connection: Connection) -> set[str]:
    """FTS tables (made by migrations, not models), for autogenerate to leave alone."""
    sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
    return {str(name) for name in connection.exec_driver_sql(sql).scalars()}


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url") or "sqlite:///:memory:"
        engine = create_engine(url)
    with engine.connect() as connection:
        virtual = _virtual_tables(connection)

        def include_name(name: str | None, type_: str, _parents: object) -> bool:
            # A virtual table, its shadow tables (name_data, name_idx, ...) and tables named after
            # it (attendee_search_pending) belong to the index, which the models do not describe.
            if type_ != "table" or name is None:
                return True
            return not any(name == v or name.startswith(f"{v}_") for v in virtual)

        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
