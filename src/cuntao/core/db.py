"""A write transaction that, on SQLite, first waits its turn in a queue of the server's writers.

SQLite has one writer at a time. A second writer's BEGIN IMMEDIATE does not queue: it
sleeps and retries, with sleeps growing to 100 ms, so in a burst the database sits idle
while writers sleep and the latency of each request grows with the crowd. Writers of
the API therefore take an exclusive lock on a file beside the database (flock: the
kernel wakes the next one the moment it is released; a thread lock does the same
between the threads of one process) before they begin. PostgreSQL needs none of this:
its row locks let writers of different rows run at once.

Only an outermost transaction queues: one already open may hold SQLite's lock, and
waiting for the queue while holding it could stall a writer that holds the queue.
Writers that do not queue (pages, commands) still meet the others at SQLite's own lock.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models, transaction
from django.db.models import Model, QuerySet

_thread_turn = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}  # by process: a descriptor shared over fork shares its lock


def _sqlite_file() -> str | None:
    """The SQLite database file, or None (another database, or SQLite in memory as in tests)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return name


@contextmanager
def _writer_turn(path: str) -> Iterator[None]:
    with _thread_turn:
        fd = _lock_files.get((os.getpid(), path))
        if fd is None:
            fd = _lock_files[os.getpid(), path] = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def write_transaction() -> Iterator[None]:
    """transaction.atomic(), after this SQLite database's writer turn when it is the outermost."""
    path = _sqlite_file()
    if path is None or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _writer_turn(path), transaction.atomic():
        yield


def only_row(qs: QuerySet) -> Model | None:
    """The row of qs filtered by a unique key, or None.

    Unlike first(), adds no ORDER BY: with one row there is nothing to sort, and on a
    hot path compiling the ordering is a measurable part of the query's cost.
    """
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None


# INSERT statements by (model, number of rows, database vendor): built once per shape.
_insert_statements: dict[tuple[type[Model], int, str], tuple[str, list]] = {}

# Fields whose value of a plain Python type goes to the driver as it is: their
# pre_save and get_db_prep_save would return it unchanged.
_PLAIN_FIELDS = (models.IntegerField, models.CharField, models.TextField, models.BooleanField, models.ForeignKey)
_PLAIN_VALUES = (int, str, type(None))  # not bool: an int field would get True, not 1


def _insert_statement(model: type[Model], rows: int) -> tuple[str, list]:
    key = (model, rows, connection.vendor)
    found = _insert_statements.get(key)
    if found is None:
        meta, quote = model._meta, connection.ops.quote_name
        fields = [f for f in meta.concrete_fields if not f.primary_key and not f.generated]
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES {', '.join([row] * rows)} RETURNING {quote(meta.pk.column)}")
        plain = [(field, field.attname, isinstance(field, _PLAIN_FIELDS)) for field in fields]
        found = _insert_statements[key] = (sql, plain)
    return found


def _db_value(obj: Model, field, attname: str, plain: bool):
    if plain:
        value = getattr(obj, attname)
        if type(value) in _PLAIN_VALUES:
            return value
    return field.get_db_prep_save(field.pre_save(obj, True), connection)


def insert_new(objs: list[Model]) -> list[Model]:
    """bulk_create for a hot path: one INSERT … RETURNING id, its text built once per shape.

    The ORM compiles every statement anew, about 0.2 ms of Python each; an order's
    placing writes six kinds of rows. The objects are new rows of one model whose
    related objects are saved already. Values go through the fields' own pre_save and
    get_db_prep_save, as in bulk_create (a plain int or str of a plain field passes
    as it is: those would return it unchanged), so the rows are exactly the ORM's;
    like bulk_create, no signals are sent. Sets each object's pk.
    """
    if not objs:
        return objs
    sql, fields = _insert_statement(type(objs[0]), len(objs))
    params = [_db_value(obj, *field) for obj in objs for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def pk_where(model: type[Model], **equal) -> int | None:
    """The primary key of the one row of model whose columns equal these values, or None.

    For hot-path look-ups that nearly always find nothing (has this Idempotency-Key been
    seen?): a narrow hand-written SELECT, with no model to build. Name columns by
    attname (station_id, not station).
    """
    quote = connection.ops.quote_name
    where = " AND ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in equal)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(model._meta.pk.column)} FROM {quote(model._meta.db_table)} WHERE {where}",
                       list(equal.values()))
        row = cursor.fetchone()
    return row[0] if row else None


class Columns:
    """A model's columns in a hand-written SELECT, and the model built back from them.

    `Columns(Villager, "v").sql` is "v.id, v.county_id, …" (with only=, those fields,
    the others deferred as by .only()); `build(values)` applies
    the converters the ORM applies (SQLite's datetimes and booleans, JSON) and returns
    the model as a queryset would. For hot-path reads whose ORM compiling costs more
    than the database's work; the query text stays plain SQL next to its caller.
    """

    def __init__(self, model: type[Model], alias: str, only: tuple[str, ...] = ()):
        self.model = model
        self.fields = ([model._meta.get_field(name) for name in only] if only
                       else [f for f in model._meta.concrete_fields if not f.generated])
        quote = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{quote(f.column)}" for f in self.fields)
        self.attnames = [f.attname for f in self.fields]
        self._converters: dict[str, list] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def _converters_now(self) -> list:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = self._converters[connection.vendor] = [
                (field.get_col(self.model._meta.db_table),
                 connection.ops.get_db_converters(field.get_col(self.model._meta.db_table))
                 + field.get_db_converters(connection)) for field in self.fields]
        return found

    def build(self, values) -> Model:
        converted = []
        for (col, converters), value in zip(self._converters_now(), values, strict=True):
            for convert in converters:
                value = convert(value, col, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)
