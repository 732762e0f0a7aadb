"""Fast loading of many rows of one model, for seeding load-test networks.

Django's bulk_create spends most of its time preparing each value of each row; a
network of 400,000 villagers needs the database's own bulk path instead: COPY on
PostgreSQL, executemany on SQLite. Ids are reserved first, so rows that point at
each other (villager -> household) can be linked before they are written.
"""

from collections.abc import Sequence

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Return `count` unused primary keys for model.

    Must run inside the seeding transaction. On SQLite that transaction holds the
    database's only write lock, so max(id) cannot move under it; on PostgreSQL the
    ids come from the table's own sequence.
    """
    if count == 0:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [model._meta.db_table, count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
    """Write rows (values in the order of fields, already in database form) in one go."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
