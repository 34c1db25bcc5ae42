"""Issue 8, part 6: ID numbers, phones and bank accounts are encrypted at rest (AES-GCM,
rencai/crypto.py) with a keyed hash for lookups (rencai/fields.py); keys rotate with
``manage.py rotate_data_keys``."""

import base64
import io

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from rencai.accounts.models import User
from rencai.accounts.services import find_user_by_identifier
from rencai.applications.models import Application
from rencai.integrations.models import InsuredPerson
from tests.conftest import import_outside_data

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def stored_user(user):
    return raw(
        "SELECT username, id_number, phone, id_number_index, phone_index FROM accounts_user "
        "WHERE id = %s",
        [user.pk],
    )[0]


def test_the_database_holds_no_plain_id_number_phone_or_bank_account(
    city, ready_applicant, tmp_path, security_counts
):
    user = ready_applicant
    import_outside_data(tmp_path, user)  # the insured record carries a bank account
    insured = InsuredPerson.objects.get(id_number=user.id_number)
    assert insured.bank_account == "6217000012345678901"  # the code sees the plain value

    row = stored_user(user)
    for plain in (user.id_number, user.phone):
        assert all(plain not in (column or "") for column in row), row
    assert row[1].startswith("enc1:") and row[2].startswith("enc1:")
    (bank,) = raw(
        "SELECT bank_account FROM integrations_insuredperson WHERE id = %s", [insured.pk]
    )[0]
    assert bank.startswith("enc1:") and "6217000012345678901" not in bank
    # A new random nonce each time: equal values do not give equal ciphertexts.
    user.save()
    assert stored_user(user)[1] != row[1] and stored_user(user)[3] == row[3]
    security_counts("personal data").add("encrypted columns checked", 3)


def test_every_encrypted_column_holds_only_ciphertext_and_the_lookups_still_find_rows(
    city, ready_applicant, tmp_path, send_code, security_counts
):
    from django.apps import apps

    from rencai.fields import EncryptedCharField
    from rencai.integrations.models import EducationCertificate, PensionContribution
    from rencai.notifications.models import SmsMessage

    user = ready_applicant
    import_outside_data(tmp_path, user)  # insured, contributions, certificates
    send_code(user.phone, "login")  # an SMS code and an outbox message
    checked = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedCharField):
                continue
            table, column = model._meta.db_table, field.column
            values = [v for (v,) in raw(f"SELECT {column} FROM {table}") if v]
            assert all(v.startswith("enc1:") for v in values), (table, column)
            checked += len(values)
    assert PensionContribution.objects.filter(id_number=user.id_number).count() > 12
    assert EducationCertificate.objects.get().holder_id_number == user.id_number
    assert SmsMessage.objects.filter(phone=user.phone).exists()
    assert checked > 20
    security_counts("personal data").add("encrypted values checked", checked)


def test_lookups_go_through_the_keyed_hash(city, ready_applicant):
    user = ready_applicant
    assert User.objects.get(id_number=user.id_number) == user
    assert User.objects.filter(phone__in=["13900000000", user.phone]).get() == user
    assert find_user_by_identifier(user.id_number.lower()) == user  # login by ID number
    assert not User.objects.filter(id_number=user.id_number[:-1] + "0").exists()
    Application.objects.all().delete()
    assert not Application.objects.filter(applicant__id_number=user.id_number).exists()
    # The admin's search box finds the whole number only.
    assert list(User.objects.filter(id_number__icontains=user.id_number.lower())) == [user]
    assert not User.objects.filter(id_number__icontains=user.id_number[:6]).exists()
    # The login name is never the ID number (it would sit there in plain text).
    assert user.username != user.id_number


def test_two_open_accounts_cannot_share_an_id_number_or_a_phone(city, ready_applicant):
    user = ready_applicant
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            username="copycat", kind="person", id_type=user.id_type, id_number=user.id_number
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="copycat2", kind="person", phone=user.phone)


def test_keys_rotate_and_a_missing_or_wrong_key_is_an_error_not_a_wrong_value(
    city, ready_applicant, settings
):
    user = ready_applicant
    settings.RENCAI_DATA_KEYS = f"a1:{KEY_A}"
    call_command("rotate_data_keys", stdout=io.StringIO())
    assert stored_user(user)[1].startswith("enc1:a1:")

    settings.RENCAI_DATA_KEYS = f"b2:{KEY_B},a1:{KEY_A}"  # the new key first, the old kept
    assert User.objects.get(pk=user.pk).id_number == user.id_number  # old rows still read
    out = io.StringIO()
    call_command("rotate_data_keys", stdout=out)
    assert "under key b2" in out.getvalue()
    assert not raw("SELECT id FROM accounts_user WHERE id_number LIKE 'enc1:a1:%%'")

    settings.RENCAI_DATA_KEYS = f"b2:{KEY_B}"  # the old key dropped
    assert User.objects.get(id_number=user.id_number).phone == user.phone

    settings.RENCAI_DATA_KEYS = f"a1:{KEY_A}"  # the key in use is missing
    with pytest.raises(ImproperlyConfigured, match="b2"):
        User.objects.get(pk=user.pk)
    settings.RENCAI_DATA_KEYS = f"b2:{KEY_A}"  # right id, wrong key: refused, not garbage
    with pytest.raises(InvalidTag):
        User.objects.get(pk=user.pk)
    settings.RENCAI_DATA_KEYS = "b2:short"
    with pytest.raises(ImproperlyConfigured, match=r"base64|32 bytes"):
        User.objects.get(pk=user.pk)
