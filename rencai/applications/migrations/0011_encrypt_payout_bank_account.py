"""Bank accounts encrypted at rest (issue 8); existing rows are encrypted in place."""

import rencai.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0010_application_client_token'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payoutitem',
            name='bank_account',
            field=rencai.fields.EncryptedCharField(max_length=32, verbose_name='银行账号'),
        ),
        migrations.RunPython(*rencai.fields.encrypt_existing("applications.PayoutItem", "bank_account")),
    ]
