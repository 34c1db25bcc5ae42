"""Bank accounts encrypted at rest (issue 8); existing rows are encrypted in place."""

import rencai.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='insuredperson',
            name='bank_account',
            field=rencai.fields.EncryptedCharField(blank=True, max_length=32, verbose_name='社保卡金融账号'),
        ),
        migrations.RunPython(*rencai.fields.encrypt_existing("integrations.InsuredPerson", "bank_account")),
    ]
