"""ID numbers and phones encrypted at rest with a blind index for lookups and the
uniqueness of open accounts (issue 8); existing rows are encrypted in place."""

import secrets

import rencai.fields
from django.db import migrations, models


def login_names_without_id_numbers(apps, schema_editor):
    """A person who chose no login name had their ID number as login name: give them a
    random one (they still log in by ID number or phone)."""
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(kind="person").only("pk", "username", "id_number"):
        if user.id_number and user.username.upper() == user.id_number.upper():
            User.objects.filter(pk=user.pk).update(username="p" + secrets.token_hex(6))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_user_session_epoch_ratecounter_stafftotp'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('orgs', '0004_registrationchange'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='user',
            name='user_unique_open_id_number',
        ),
        migrations.RemoveConstraint(
            model_name='user',
            name='user_unique_open_phone',
        ),
        migrations.AddField(
            model_name='user',
            name='id_number_index',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='user',
            name='phone_index',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='user',
            name='id_number',
            field=rencai.fields.EncryptedCharField(blank=True, index_field='id_number_index', max_length=30, null=True, verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='user',
            name='phone',
            field=rencai.fields.EncryptedCharField(blank=True, index_field='phone_index', max_length=20, null=True, verbose_name='手机号码'),
        ),
        migrations.RunPython(login_names_without_id_numbers, migrations.RunPython.noop),
        migrations.RunPython(*rencai.fields.encrypt_existing("accounts.User", "id_number", "phone")),
        migrations.AddIndex(
            model_name='user',
            index=models.Index(fields=['id_number_index'], name='user_id_number_index'),
        ),
        migrations.AddIndex(
            model_name='user',
            index=models.Index(fields=['phone_index'], name='user_phone_index'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('closed_at__isnull', True), ('id_number_index__isnull', False)), fields=('id_type', 'id_number_index'), name='user_unique_open_id_number'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('closed_at__isnull', True), ('phone_index__isnull', False)), fields=('phone_index',), name='user_unique_open_phone'),
        ),
    ]
