"""CHAIN's rules on imported outside data (F21–F24), through the engine: each passes and
fails; the pension check refuses before the form opens; the payout account comes from
the social-security card, read-only (F22); an unreachable registry is never a pass."""

import datetime

import pytest
from django.urls import reverse

from rencai.applications import transitions as t
from rencai.applications.rules import precheck
from rencai.integrations.models import InsuredPerson
from rencai.profiles.models import Education, Material, WorkHistory
from rencai.programs.models import Program
from tests.conftest import import_outside_data
from tests.test_applications import TODAY


def draft(applicant, start="2024-01", end="2024-06", deducted=0, explanation="无"):
    materials = {
        mt: list(
            Material.objects.filter(owner=applicant, material_type=mt).values_list("pk", flat=True)
        )
        for mt in ("diploma", "degree", "labour_contract")
    }
    return t.draft_save(
        actor=applicant,
        program=Program.objects.get(code="chain_living"),
        data={
            "start_month": start,
            "end_month": end,
            "deducted_months": deducted,
            "explanation": explanation,
        },
        materials=materials,
    )


def result(app, code):
    return next(r for r in precheck(app, today=TODAY) if r.code == code)


def open_form(client, applicant):
    client.force_login(applicant)
    client.get(reverse("applications:notice", args=["chain_living"]))
    return client.get(reverse("applications:new", args=["chain_living"])).content.decode()


def test_everything_passes_on_good_data_and_the_bank_account_is_shown(
    city, ready_applicant, tmp_path, client
):
    import_outside_data(tmp_path, ready_applicant)
    app = draft(ready_applicant)
    failed = [(r.name, r.reason) for r in precheck(app, today=TODAY) if not r.ok]
    assert failed == []
    page = open_form(client, ready_applicant)
    assert "6217000012345678901" in page and "发放账户取自社保卡，不能修改" in page
    assert 'name="bank_account"' not in page  # shown, not editable


@pytest.mark.parametrize(
    "level, first_month, ok",
    [
        ("bachelor", "2019-05", False),
        ("bachelor", "2019-06", True),
        ("master", "2016-12", False),
        ("master", "2017-01", True),
    ],
)
def test_pension_start_by_education_level(
    city, ready_applicant, tmp_path, client, level, first_month, ok
):
    Education.objects.filter(owner=ready_applicant).update(level=level)
    import_outside_data(tmp_path, ready_applicant, months=(first_month, "2026-10"))
    page = open_form(client, ready_applicant)
    if ok:
        assert "申请须知" in page and "暂不能申报" not in page
    else:
        assert "暂不能申报" in page and "不能申报。如缴费记录有误" in page
        assert 'name="start_month"' not in page  # refused before the form opens


def test_not_insured_or_suspended_is_refused_with_what_to_do(
    city, ready_applicant, tmp_path, client
):
    page = open_form(client, ready_applicant)  # no record at all
    assert "暂不能申报" in page and 'name="start_month"' not in page
    import_outside_data(tmp_path, ready_applicant, status="suspended")
    page = open_form(client, ready_applicant)
    assert "暂不能申报" in page and "暂停" in page


def test_deducted_months_must_match_the_months_without_contributions(
    city, ready_applicant, tmp_path
):
    import_outside_data(tmp_path, ready_applicant, gaps=("2024-03", "2024-04"))
    app = draft(ready_applicant)
    r = result(app, "deducted_matches_contributions")
    assert not r.ok and "2024-03" in r.reason and "2024-04" in r.reason and "按2填写" in r.reason
    app = t.draft_save(
        actor=ready_applicant,
        application=app,
        data={**app.data, "deducted_months": 2, "explanation": "2024年3-4月单位未缴纳社保"},
    )
    assert result(app, "deducted_matches_contributions").ok
    assert (app.months, str(app.amount)) == (4, "2000.00")  # (6 − 2) × 500 for a bachelor


def test_a_certificate_not_in_the_registry_says_what_to_do(city, ready_applicant, tmp_path):
    import_outside_data(tmp_path, ready_applicant)
    Education.objects.filter(owner=ready_applicant).update(diploma_number="999999999999")
    r = result(draft(ready_applicant), "certificates_verified")
    assert not r.ok and "请核对证书编号" in r.reason


def test_an_unreachable_registry_is_never_a_pass(city, ready_applicant, tmp_path, settings):
    import_outside_data(tmp_path, ready_applicant)
    settings.RENCAI_EDUCATION_REGISTRY_BACKEND = (
        "rencai.integrations.adapters.HttpEducationRegistry"
    )
    settings.RENCAI_EDUCATION_REGISTRY_URL = "http://127.0.0.1:9/registry"  # nothing listens
    settings.RENCAI_EDUCATION_REGISTRY_TIMEOUT = 1
    app = draft(ready_applicant)
    r = result(app, "certificates_verified")
    assert not r.ok and "暂时无法访问" in r.reason
    with pytest.raises(Exception, match="暂时无法访问"):
        t.submit(actor=ready_applicant, application=app, commitment_accepted=True, today=TODAY)


def test_labour_contract_with_the_declaring_employer_must_cover_three_years(
    city, ready_applicant, tmp_path
):
    import_outside_data(tmp_path, ready_applicant)
    WorkHistory.objects.filter(owner=ready_applicant).update(
        contract_start=datetime.date(2023, 7, 1), contract_end=datetime.date(2026, 6, 29)
    )
    r = result(draft(ready_applicant), "contract_years_at_least")
    assert not r.ok and "不满3年" in r.reason
    WorkHistory.objects.filter(owner=ready_applicant).update(contract_end=datetime.date(2026, 7, 1))
    assert result(draft(ready_applicant, "2025-01", "2025-02"), "contract_years_at_least").ok


def test_import_rejects_bad_rows_and_keeps_the_good(city, ready_applicant, tmp_path):
    from rencai.integrations.services import import_file

    path = tmp_path / "insured.csv"
    path.write_text(
        "id_number,name,status\n"
        f"{ready_applicant.id_number},张晓明,normal\n"
        "110101199003078888,错号码,normal\n",
        encoding="utf-8",
    )
    batch = import_file("insured", path)
    assert (batch.accepted_count, batch.rejected_count) == (1, 1)
    assert batch.rejected_rows[0]["line"] == 3
    assert InsuredPerson.objects.count() == 1


# --- F26: a bachelor who changed county -------------------------------------------------


def job(applicant, district, name, employer=None):
    return WorkHistory.objects.create(
        owner=applicant,
        kind="work",
        organisation_name=name,
        employer=employer,
        district=district,
        start_date=datetime.date(2020, 7, 1),
        end_date=datetime.date(2023, 12, 31),
        contract_start=datetime.date(2020, 7, 1),
        contract_end=datetime.date(2023, 12, 31),
    )


def declare_through(applicant, work):
    app = draft(applicant)
    return t.draft_save(
        actor=applicant, application=app, data={**app.data, "declaring_work": work.pk}
    )


def test_a_job_in_another_county_declares_through_that_countys_virtual_employer(
    city, ready_applicant, tmp_path
):
    from rencai.orgs.models import Employer

    import_outside_data(tmp_path, ready_applicant)
    west = job(ready_applicant, city.xicheng, "西城区某科技公司")
    app = declare_through(ready_applicant, west)
    virtual = Employer.objects.get(kind="virtual", district=city.xicheng)
    assert app.employer == virtual
    assert result(app, "contract_years_at_least").ok  # the contract of the chosen job
    app = t.submit(actor=ready_applicant, application=app, commitment_accepted=True, today=TODAY)
    # The virtual employer is run by that county's HR bureau: the 西城 reviewer acts.
    assert app.stage_authority.region == city.xicheng
    app = t.approve(actor=city.outsider_reviewer, application=app)
    assert app.current_stage["code"] == "county_hr" and app.stage_authority.region == city.xicheng


def test_a_job_in_the_same_county_declares_through_the_current_employer(
    city, ready_applicant, tmp_path
):
    import_outside_data(tmp_path, ready_applicant)
    east = job(ready_applicant, city.dongcheng, "东城区原单位")
    assert declare_through(ready_applicant, east).employer == city.tech


def test_masters_and_doctors_declare_through_their_current_employer_only(
    city, ready_applicant, tmp_path
):
    from rencai.errors import ServiceError

    Education.objects.filter(owner=ready_applicant).update(level="master")
    import_outside_data(tmp_path, ready_applicant)
    west = job(ready_applicant, city.xicheng, "西城区某科技公司")
    app = draft(ready_applicant)
    with pytest.raises(ServiceError, match="硕士、博士研究生的申报单位固定为现任职单位"):
        t.draft_save(
            actor=ready_applicant, application=app, data={**app.data, "declaring_work": west.pk}
        )
    app.refresh_from_db()
    assert app.employer == city.tech and "declaring_work" not in app.data
