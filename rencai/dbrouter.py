"""Read replica routing (issue 7): reads go to the PostgreSQL replica only inside an
explicit ``use_replica()`` scope, used for read-only lists and exports that tolerate a
little replication lag. Everything else goes to "default": every write, every read outside
the scope, and every read while a transaction is open on default (it must see its own
writes). Without a "replica" entry in ``settings.DATABASES`` everything goes to default,
so the router is always installed (settings.DATABASE_ROUTERS) and costs nothing.

The scope lives in a context variable: each thread and each asyncio task has its own, so
one request's scope never leaks into another's."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
T = TypeVar("T")

_in_scope: ContextVar[bool] = ContextVar("rencai_use_replica", default=False)


@contextmanager
def use_replica():
    """``with use_replica(): ...`` or ``@use_replica()`` on a plain function: reads in the
    block may go to the replica. Nesting is fine; the previous state comes back on exit,
    an exception included. In async code use the ``with`` form inside the coroutine (as a
    decorator the scope would end before the coroutine runs)."""
    token = _in_scope.set(True)
    try:
        yield
    finally:
        _in_scope.reset(token)


def on_replica(rows: Iterable[T]) -> Iterator[T]:
    """Iterate ``rows`` with each step inside ``use_replica()``: for a generator or a lazy
    queryset consumed later (e.g. while a response is written), when a ``with`` block in
    the view would already have ended. The consumer's code between steps stays outside the
    scope, and no scope is left open if the consumer stops early."""
    with use_replica():
        iterator = iter(rows)  # a queryset runs its query here
    try:
        while True:
            with use_replica():
                try:
                    row = next(iterator)
                except StopIteration:
                    return
            yield row
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class ReplicaRouter:
    """settings.DATABASE_ROUTERS = ["rencai.dbrouter.ReplicaRouter"]."""

    def db_for_read(self, model, **hints):
        # Always name the database: returning None would let Django follow the hinted
        # instance's database, and an object read on the replica would keep reading there.
        if (
            _in_scope.get()
            and REPLICA in settings.DATABASES
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both hold the same rows: an object read on the replica may be linked to one
        # from default (and is saved to default, see db_for_write).
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is a mirror of default: PostgreSQL replication copies the schema.
        return db == DEFAULT_DB_ALIAS
