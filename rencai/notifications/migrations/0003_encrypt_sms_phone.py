"""Personal data encrypted at rest with a keyed hash for lookups (issue 8); existing rows
are encrypted in place."""

import rencai.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_message'),
    ]

    operations = [
        migrations.AddField(
            model_name='smsmessage',
            name='phone_index',
            field=models.CharField(db_index=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='smsmessage',
            name='phone',
            field=rencai.fields.EncryptedCharField(index_field='phone_index', max_length=20, verbose_name='手机号'),
        ),
        migrations.RunPython(*rencai.fields.encrypt_existing("notifications.SmsMessage", "phone")),
    ]
