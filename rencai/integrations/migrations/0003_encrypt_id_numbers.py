"""Personal data encrypted at rest with a keyed hash for lookups (issue 8); existing rows
are encrypted in place."""

import rencai.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0002_encrypt_insured_bank_account'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='insuredperson',
            options={'ordering': ['id'], 'verbose_name': '参保人员', 'verbose_name_plural': '参保人员'},
        ),
        migrations.AlterModelOptions(
            name='pensioncontribution',
            options={'ordering': ['id'], 'verbose_name': '养老保险缴费记录', 'verbose_name_plural': '养老保险缴费记录'},
        ),
        migrations.RemoveConstraint(
            model_name='pensioncontribution',
            name='pension_contribution_one_per_month',
        ),
        migrations.AddField(
            model_name='insuredperson',
            name='id_number_index',
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='pensioncontribution',
            name='id_number_index',
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='educationcertificate',
            name='holder_id_number',
            field=rencai.fields.EncryptedCharField(blank=True, max_length=18, verbose_name='持证人身份证号码'),
        ),
        migrations.AlterField(
            model_name='insuredperson',
            name='id_number',
            field=rencai.fields.EncryptedCharField(index_field='id_number_index', max_length=18, verbose_name='身份证号码'),
        ),
        migrations.AlterField(
            model_name='pensioncontribution',
            name='id_number',
            field=rencai.fields.EncryptedCharField(index_field='id_number_index', max_length=18, verbose_name='身份证号码'),
        ),
        migrations.AddConstraint(
            model_name='pensioncontribution',
            constraint=models.UniqueConstraint(fields=('id_number_index', 'month'), name='pension_contribution_one_per_month'),
        ),
        migrations.RunPython(*rencai.fields.encrypt_existing("integrations.InsuredPerson", "id_number")),
        migrations.RunPython(*rencai.fields.encrypt_existing("integrations.PensionContribution", "id_number")),
        migrations.RunPython(*rencai.fields.encrypt_existing("integrations.EducationCertificate", "holder_id_number")),
    ]
