"""Issue 8, part 6 (PIPL): closing an account erases what the law does not require us to
keep — contact data, the profile, messages, loose materials — and keeps the name, the ID
number and the applications with their attached materials (public-money records)."""

from django.core.files.storage import default_storage

from rencai.accounts.models import User
from rencai.applications.models import Application
from rencai.audit.models import AuditEntry
from rencai.audit.services import audit_verify_chain
from rencai.notifications.models import Message, SmsMessage
from rencai.notifications.services import notify
from rencai.profiles.models import Education, Material, Profile
from tests.conftest import PASSWORD
from tests.test_applications import living


def test_closing_erases_the_profile_contacts_and_loose_files_but_keeps_the_records(
    city, ready_applicant, client, security_counts, django_capture_on_commit_callbacks
):
    user = ready_applicant
    phone, id_number = user.phone, user.id_number
    draft = living(user)  # holds the diploma and the labour contract
    kept = set(draft.attachments.values_list("material_id", flat=True))
    materials = {m.pk: m.file.name for m in Material.objects.filter(owner=user)}
    loose = {pk: name for pk, name in materials.items() if pk not in kept}
    assert kept and loose
    notify(user=user, title="测试消息", body="您的申报已保存。")
    assert Message.objects.filter(user=user).exists()
    assert SmsMessage.objects.filter(phone=phone).exists()

    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):  # files go once the change commits
        closing = client.post("/accounts/me/close/", {"password": PASSWORD, "confirm": "on"})
    assert closing.status_code == 302

    closed = User.objects.get(pk=user.pk)
    assert closed.closed_at is not None and closed.phone is None and closed.email == ""
    assert (closed.real_name, closed.id_number) == (user.real_name, id_number)
    assert not Profile.objects.filter(user=user).exists()
    assert not Education.objects.filter(owner=user).exists()
    assert not Message.objects.filter(user=user).exists()
    assert not SmsMessage.objects.filter(phone=phone).exists()
    assert SmsMessage.objects.filter(phone=phone[:3] + "****" + phone[-4:]).exists()
    # Loose materials are gone, rows and files; the application's stay, readable.
    assert set(Material.objects.filter(owner=user).values_list("pk", flat=True)) == kept
    assert not any(default_storage.exists(name) for name in loose.values())
    for pk in kept:
        with default_storage.open(materials[pk], "rb") as handle:
            assert handle.read().startswith(b"%PDF")
    assert Application.objects.filter(pk=draft.pk, applicant=user).exists()
    row = AuditEntry.objects.get(action="account.close", object_id=str(user.pk))
    assert row.summary["erased"]["materials"] == len(loose)
    assert row.summary["erased"]["profile"] == 1 and row.summary["erased"]["messages"] >= 1
    assert audit_verify_chain().ok
    security_counts("personal data").add("closed-account fields erased", len(loose) + 4)


def test_a_refused_close_erases_nothing(city, ready_applicant, client):
    client.force_login(ready_applicant)
    before = Material.objects.filter(owner=ready_applicant).count()
    page = client.post("/accounts/me/close/", {"password": "wrong", "confirm": "on"})
    assert "密码不正确" in page.content.decode()
    assert Material.objects.filter(owner=ready_applicant).count() == before
    assert Profile.objects.filter(user=ready_applicant).exists()
    assert User.objects.get(pk=ready_applicant.pk).phone == ready_applicant.phone
