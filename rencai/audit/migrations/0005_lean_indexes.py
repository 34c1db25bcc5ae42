"""Issue 7: plain indexes for the action and the hash, which are matched whole, instead of
db_index / unique=True, which on PostgreSQL add a varchar_pattern_ops copy of each that
every appended row also had to update.

On SQLite altering a column rebuilds the table, which drops its triggers: the append-only
trigger of 0002 is put back after the rebuild, either way."""

import importlib

from django.conf import settings
from django.db import migrations, models

append_only = importlib.import_module("rencai.audit.migrations.0002_append_only_trigger")


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in append_only.SQLITE_DROP + append_only.SQLITE_CREATE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_append_one_function"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # (backwards: after the rebuilds, which run in reverse order)
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_trigger),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(max_length=60, verbose_name="操作"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action"], name="audit_action"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(fields=("hash",), name="audit_unique_hash"),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
