"""Personal data encrypted at rest with a keyed hash for lookups (issue 8); existing rows
are encrypted in place."""

import rencai.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrity', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='exceptionentry',
            name='id_number_index',
            field=models.CharField(db_index=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='exceptionentry',
            name='id_number',
            field=rencai.fields.EncryptedCharField(blank=True, index_field='id_number_index', max_length=30, verbose_name='证件号码'),
        ),
        migrations.RunPython(*rencai.fields.encrypt_existing("integrity.ExceptionEntry", "id_number")),
    ]
