"""Personal data encrypted at rest with a keyed hash for lookups (issue 8); existing rows
are encrypted in place."""

import rencai.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_encrypt_id_number_and_phone'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='smscode',
            name='accounts_sm_phone_1a0f51_idx',
        ),
        migrations.AddField(
            model_name='legacyrecord',
            name='id_number_index',
            field=models.CharField(db_index=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='smscode',
            name='phone_index',
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='legacyrecord',
            name='id_number',
            field=rencai.fields.EncryptedCharField(index_field='id_number_index', max_length=30, verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='smscode',
            name='phone',
            field=rencai.fields.EncryptedCharField(index_field='phone_index', max_length=20),
        ),
        migrations.AddIndex(
            model_name='smscode',
            index=models.Index(fields=['phone_index', 'created_at'], name='accounts_sm_phone_i_879518_idx'),
        ),
        migrations.RunPython(*rencai.fields.encrypt_existing("accounts.SmsCode", "phone")),
        migrations.RunPython(*rencai.fields.encrypt_existing("accounts.LegacyRecord", "id_number")),
    ]
