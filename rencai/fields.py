"""``EncryptedCharField``: a CharField whose column holds ciphertext (rencai.crypto).

Python code sees the plain value; the database sees ``enc1:<key id>:<base64>``. With
``index_field`` the field also keeps a blind index (a keyed hash) in that sibling column,
filled on every save, and the lookups ``exact`` and ``in`` — also across joins, e.g.
``applicant__id_number=`` — compare that index instead of the ciphertext. ``icontains`` and
``iexact`` (the admin's search box) match the whole value only. Other lookups are refused.

Write through ``save()`` (``update_fields`` takes the index along when the model uses
``EncryptedFieldsMixin``) or ``insert_many``; a ``QuerySet.update()`` must set the index
column too (only ``None`` is simple: both columns NULL)."""

from django.core.exceptions import FieldError
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Col

from rencai import crypto


class EncryptedCharField(models.CharField):
    def __init__(self, *args, index_field: str | None = None, **kwargs):
        self.index_field = index_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.index_field:
            kwargs["index_field"] = self.index_field
        return name, path, args, kwargs

    def get_internal_type(self):
        return "TextField"  # ciphertext is longer than the plain value's max_length

    def from_db_value(self, value, expression, connection):
        return None if value is None else crypto.decrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and crypto.is_encrypted(value):
            return crypto.decrypt(value)
        return super().to_python(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or crypto.is_encrypted(value):
            return value
        return crypto.encrypt(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if self.index_field:
            setattr(model_instance, self.index_field, self.index_of(value))
        return value

    def index_of(self, value) -> str | None:
        if value is None or value == "":
            return None
        return crypto.blind_index(str(value), f"{self.model._meta.label_lower}.{self.name}")


class _BlindLookup(Lookup):
    prepare_rhs = False
    can_use_none_as_rhs = False

    def _index_col(self):
        field = self.lhs.output_field
        if not isinstance(self.lhs, Col) or not field.index_field:
            raise FieldError(f"{field.name} is encrypted: only whole-value lookups are possible")
        return field, Col(self.lhs.alias, field.model._meta.get_field(field.index_field))


@EncryptedCharField.register_lookup
class BlindExact(_BlindLookup):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        if self.rhs == "":  # stored as is: compare the column itself
            lhs_sql, lhs_params = compiler.compile(self.lhs)
            return f"{lhs_sql} = %s", [*lhs_params, ""]
        field, col = self._index_col()
        lhs_sql, lhs_params = compiler.compile(col)
        return f"{lhs_sql} = %s", [*lhs_params, field.index_of(self.rhs)]


@EncryptedCharField.register_lookup
class BlindIn(_BlindLookup):
    lookup_name = "in"

    def as_sql(self, compiler, connection):
        field, col = self._index_col()
        values = [field.index_of(v) for v in self.rhs if v not in (None, "")]
        if not values:
            return "1 = 0", []
        lhs_sql, lhs_params = compiler.compile(col)
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs_sql} IN ({marks})", [*lhs_params, *values]


@EncryptedCharField.register_lookup
class BlindWholeValue(BlindExact):
    """The admin's search box asks ``icontains``: only the whole value (upper-cased for ID
    numbers, as they are stored) can match an encrypted column."""

    lookup_name = "icontains"

    def as_sql(self, compiler, connection):
        self.rhs = str(self.rhs).strip().upper() if self.rhs else self.rhs
        return super().as_sql(compiler, connection)


@EncryptedCharField.register_lookup
class BlindWholeValueExact(BlindWholeValue):
    """The admin's ``=field`` search (``iexact``)."""

    lookup_name = "iexact"


class EncryptedFieldsMixin:
    """``save(update_fields=[...])`` naming an encrypted field saves its index too."""

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            update_fields = set(update_fields)
            for field in self._meta.concrete_fields:
                if isinstance(field, EncryptedCharField) and field.index_field:
                    if field.name in update_fields or field.attname in update_fields:
                        update_fields.add(field.index_field)
        super().save(*args, update_fields=update_fields, **kwargs)


def encrypt_existing(label: str, *names: str):
    """A migration step (``RunPython(*encrypt_existing("app.Model", "field"))``): store
    every row's plain values encrypted, with their indexes; backwards, plain again."""

    def forwards(apps, schema_editor):
        model = apps.get_model(label)
        fields = [model._meta.get_field(n) for n in names]
        save = [*names, *(f.index_field for f in fields if f.index_field)]
        for obj in model._default_manager.all().iterator(chunk_size=2000):
            obj.save(update_fields=save)

    def backwards(apps, schema_editor):
        model = apps.get_model(label)
        table = schema_editor.quote_name(model._meta.db_table)
        with schema_editor.connection.cursor() as cursor:
            for obj in model._default_manager.all().iterator(chunk_size=2000):
                for name in names:
                    column = schema_editor.quote_name(model._meta.get_field(name).column)
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                        [getattr(obj, name), obj.pk],
                    )

    return forwards, backwards
