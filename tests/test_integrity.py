"""The exception list (异常名单, F55): a person found to have declared falsely is barred
for a year (365 days: the day before ``ends_on`` is barred, ``ends_on`` itself is not);
an administrator adds and lifts entries in the admin, through the services, each change
audited; entries are never deleted."""

import datetime

import pytest
from django.utils import timezone

from rencai.accounts.models import User
from rencai.audit.models import AuditEntry
from rencai.audit.services import audit_verify_chain
from rencai.errors import ServiceError
from rencai.integrity.models import ExceptionEntry
from rencai.integrity.services import barred, entry_add, entry_lift

LEAP_DAY = datetime.date(2024, 2, 29)


def add(city, **kwargs):
    return entry_add(
        actor=city.admin,
        person=kwargs.pop("person", city.applicant),
        reason=kwargs.pop("reason", "申报时提交的劳动合同系伪造"),
        **kwargs,
    )


def test_barred_for_365_days_from_a_leap_day_and_not_after(city):
    entry = add(city, starts_on=LEAP_DAY)
    assert entry.ends_on == datetime.date(2025, 2, 28)
    person = city.applicant
    assert barred(person, today=LEAP_DAY - datetime.timedelta(days=1)) is None
    assert barred(person, today=LEAP_DAY) == entry
    assert barred(person, today=entry.ends_on - datetime.timedelta(days=1)) == entry
    assert barred(person, today=entry.ends_on) is None
    assert barred(city.employer_admin, today=LEAP_DAY) is None


def test_barred_defaults_to_today(city):
    entry = add(city)
    assert entry.starts_on == timezone.localdate()
    assert entry.ends_on == entry.starts_on + datetime.timedelta(days=365)
    assert barred(city.applicant) == entry


def test_a_lifted_entry_no_longer_bars_and_both_changes_are_audited(city):
    entry = add(city, starts_on=LEAP_DAY)
    lifted = entry_lift(actor=city.admin, entry_id=entry.pk, reason="经复核，材料系单位误传")
    assert barred(city.applicant, today=LEAP_DAY) is None
    entry.refresh_from_db()
    assert entry.lifted_by == city.admin and entry.lifted_at == lifted.lifted_at
    assert entry.lift_reason == "经复核，材料系单位误传"
    rows = AuditEntry.objects.filter(object_type="integrity.exceptionentry").order_by("id")
    assert [r.action for r in rows] == ["integrity.add", "integrity.lift"]
    assert all(r.actor == city.admin and r.object_id == str(entry.pk) for r in rows)
    assert rows[0].summary["after"]["ends_on"] == "2025-02-28"
    assert city.applicant.id_number not in str(rows[0].summary)  # masked
    assert audit_verify_chain().ok
    with pytest.raises(ServiceError, match="已经解除"):
        entry_lift(actor=city.admin, entry_id=entry.pk, reason="再解除一次")


def test_the_same_id_number_registered_again_is_still_barred(city):
    entry = add(city)
    old = city.applicant
    id_number = old.id_number
    User.objects.filter(pk=old.pk).update(closed_at=timezone.now(), id_number=id_number)
    again = User.objects.create_user(
        username="reregistered",
        password="x",
        kind=User.Kind.PERSON,
        id_type=old.id_type,
        id_number=id_number,
        real_name=old.real_name,
    )
    assert barred(again) == entry


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_empty_reason_is_refused_and_nothing_is_written(city, reason):
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError, match="请填写原因") as caught:
        add(city, reason=reason)
    assert caught.value.field == "reason"
    assert ExceptionEntry.objects.count() == 0 and AuditEntry.objects.count() == before


def test_end_not_after_start_is_refused_and_nothing_is_written(city):
    before = AuditEntry.objects.count()
    for ends_on in (LEAP_DAY, LEAP_DAY - datetime.timedelta(days=1)):
        with pytest.raises(ServiceError, match="截止日期必须晚于开始日期"):
            add(city, starts_on=LEAP_DAY, ends_on=ends_on)
    assert ExceptionEntry.objects.count() == 0 and AuditEntry.objects.count() == before


def test_lift_without_a_reason_is_refused_and_the_entry_still_bars(city):
    entry = add(city)
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError, match="请填写原因"):
        entry_lift(actor=city.admin, entry_id=entry.pk, reason=" ")
    assert barred(city.applicant) == entry and AuditEntry.objects.count() == before


def _admin_add(client, person, reason="虚假申报学历", **extra):
    return client.post(
        "/admin/integrity/exceptionentry/add/",
        {
            "person": person.pk,
            "source": "false_declaration",
            "reason": reason,
            "starts_on": "",
            "ends_on": "",
            **extra,
        },
    )


def test_admin_adds_and_lifts_through_the_services_and_cannot_delete(client, city):
    client.force_login(city.admin)
    assert client.get("/admin/integrity/exceptionentry/add/").status_code == 200
    response = _admin_add(client, city.applicant)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = ExceptionEntry.objects.get()
    assert entry.created_by == city.admin and entry.id_number == city.applicant.id_number
    assert entry.ends_on == timezone.localdate() + datetime.timedelta(days=365)
    assert AuditEntry.objects.filter(action="integrity.add", object_id=str(entry.pk)).count() == 1
    page = client.get("/admin/integrity/exceptionentry/").content.decode()
    assert "限制中" in page and city.applicant.id_number not in page

    assert client.post(f"/admin/integrity/exceptionentry/{entry.pk}/delete/").status_code == 403
    response = client.post(f"/admin/integrity/exceptionentry/{entry.pk}/change/", {})
    assert response.status_code == 200 and "id_lift_reason_error" in response.content.decode()
    response = client.post(
        f"/admin/integrity/exceptionentry/{entry.pk}/change/", {"lift_reason": "复核后撤销"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.lifted_by == city.admin and entry.lift_reason == "复核后撤销"
    assert barred(city.applicant) is None
    assert AuditEntry.objects.filter(action="integrity.lift", object_id=str(entry.pk)).count() == 1
    # A lifted entry is read-only.
    response = client.post(
        f"/admin/integrity/exceptionentry/{entry.pk}/change/", {"lift_reason": "改一下"}
    )
    assert response.status_code == 403
    assert ExceptionEntry.objects.count() == 1


def test_admin_form_refuses_empty_reason_and_bad_period_without_writing(client, city):
    client.force_login(city.admin)
    before = AuditEntry.objects.count()
    response = _admin_add(client, city.applicant, reason="  ")
    assert response.status_code == 200 and "请填写原因" in response.content.decode()
    response = _admin_add(client, city.applicant, starts_on="2025-03-01", ends_on="2025-03-01")
    assert "截止日期必须晚于开始日期" in response.content.decode()
    assert ExceptionEntry.objects.count() == 0 and AuditEntry.objects.count() == before


def test_outsider_cannot_open_the_exception_list(client, city):
    client.force_login(city.district_reviewer)
    response = client.get("/admin/integrity/exceptionentry/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- who may write, and bad input ------------------------------------------------------


def test_only_an_administrator_may_add_or_lift(city):
    entry = add(city)
    before = AuditEntry.objects.count()
    for outsider in (city.district_reviewer, city.applicant, None):
        with pytest.raises(ServiceError, match="没有管理异常名单的权限") as caught:
            entry_add(actor=outsider, person=city.employer_admin, reason="虚假申报")
        assert caught.value.code == "forbidden"
        with pytest.raises(ServiceError, match="没有管理异常名单的权限"):
            entry_lift(actor=outsider, entry_id=entry.pk, reason="撤销")
    entry.refresh_from_db()
    assert entry.lifted_at is None and ExceptionEntry.objects.count() == 1
    assert AuditEntry.objects.count() == before


def test_a_start_too_late_for_a_year_is_refused_not_an_error(client, city):
    with pytest.raises(ServiceError, match="开始日期超出了可以记录的范围") as caught:
        add(city, starts_on=datetime.date(9999, 12, 1))
    assert caught.value.field == "starts_on"
    client.force_login(city.admin)
    before = AuditEntry.objects.count()
    response = _admin_add(client, city.applicant, starts_on="9999-12-01")
    assert response.status_code == 200
    assert "开始日期超出了可以记录的范围" in response.content.decode()
    response = _admin_add(client, city.applicant, starts_on="2025-02-30")
    assert response.status_code == 200 and "id_starts_on_error" in response.content.decode()
    assert ExceptionEntry.objects.count() == 0 and AuditEntry.objects.count() == before


def test_a_nul_in_a_reason_is_dropped(city):
    entry = add(city, reason="伪造\x00材料")
    assert entry.reason == "伪造材料"
    with pytest.raises(ServiceError, match="请填写原因"):
        entry_lift(actor=city.admin, entry_id=entry.pk, reason="\x00")
    lifted = entry_lift(actor=city.admin, entry_id=entry.pk, reason="复核\x00撤销")
    assert lifted.lift_reason == "复核撤销"


def test_lifting_an_unknown_entry_is_a_clear_refusal(city):
    with pytest.raises(ServiceError, match="未找到该记录"):
        entry_lift(actor=city.admin, entry_id=999999, reason="撤销")
