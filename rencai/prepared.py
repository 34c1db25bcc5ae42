"""A read by primary key compiled once per process (issue 7).

Every action on an application starts by reading and locking it with its programme,
version, employer and applicant: one statement whose building by the ORM (five tables,
over a hundred columns) cost more Python than the rest of a submission's reads together.
``PreparedGet`` asks Django's compiler once per database for that statement and for what
turns its rows into model instances (the columns of each model, the converters, the
populators of the related objects), then runs the same statement with each new key. The
instances are built by Django's own code (``Model.from_db``, ``RelatedPopulator``), as
``QuerySet.get`` builds them; ``tests/test_prepared.py`` compares the two."""

from dataclasses import dataclass

from django.db import connections
from django.db.models.query import get_related_populators

_PLACEHOLDER = -7_305_126  # a key no row has: it marks the one parameter in the statement


@dataclass(frozen=True)
class _Statement:
    sql: str
    model: type
    init_list: list[str]
    start: int
    end: int
    converters: list
    populators: list


class PreparedGet:
    """``PreparedGet(lambda: Model.objects.select_related(...))(pk)`` answers what
    ``….get(pk=pk)`` answers, or None when there is no such row. The queryset's filters
    must be the primary key's alone; it may lock (``select_for_update``) and follow
    foreign keys (``select_related``). Call it inside a transaction when it locks."""

    def __init__(self, build):
        self.build = build
        self._statements: dict[str, _Statement] = {}

    def _prepare(self, db: str) -> _Statement:
        queryset = self.build().using(db).filter(pk=_PLACEHOLDER)
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        if list(params) != [self._key(queryset.model, _PLACEHOLDER, connections[db])]:
            raise ValueError(f"PreparedGet: the statement takes {params!r}, not only the key")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        return _Statement(
            sql=sql,
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[start:end]],
            start=start,
            end=end,
            converters=list(converters.items()),
            populators=get_related_populators(klass_info, select, db),
        )

    @staticmethod
    def _key(model, pk, connection):
        """The key as the statement takes it (a number for a numbered key, text for a
        session key), as the ORM converts it."""
        return model._meta.pk.get_db_prep_value(pk, connection)

    def __call__(self, pk, *, using: str = "default"):
        statement = self._statements.get(using)
        if statement is None:
            statement = self._statements[using] = self._prepare(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, [self._key(statement.model, pk, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (converters, expression) in statement.converters:
            value = row[position]
            for converter in converters:
                value = converter(value, expression, connection)
            row[position] = value
        obj = statement.model.from_db(
            using, statement.init_list, row[statement.start : statement.end]
        )
        for populator in statement.populators:
            populator.populate(row, obj)
        return obj
