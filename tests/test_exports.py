"""The employer's roster (员工申报花名表, F45) and statistics by region (F63): scoped to
the employer or the authority's region, filtered, exported to XLSX with ID numbers
masked."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.orgs.models import Membership
from tests.conftest import PASSWORD, make_id, prepare_applicant
from tests.test_applications import living, submit


def sheet_rows(response):
    content = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def hospital_person(city):
    person = User.objects.create_user(
        username=make_id("99010319950505002"),
        id_number=make_id("99010319950505002"),
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="赵医生",
        employer=city.hospital,
        registration_status="approved",
    )
    return prepare_applicant(person)


def test_the_roster_lists_the_employers_people_and_exports_masked(city, ready_applicant, client):
    submit(living(ready_applicant))
    living(ready_applicant, "2025-01", "2025-02")  # a draft: not on the roster
    other = hospital_person(city)
    submit(living(other))
    client.force_login(city.employer_admin)
    page = client.get(reverse("applications:roster")).content.decode()
    assert "张晓明" in page and "赵医生" not in page
    assert ready_applicant.id_number not in page
    rows = sheet_rows(client.get(reverse("applications:roster") + "?export=xlsx"))
    assert rows[0][:3] == ("申报编号", "姓名", "证件号码") and len(rows) == 2
    assert (
        rows[1][1] == "张晓明"
        and rows[1][2] == ready_applicant.id_number[:4] + "*" * 10 + ready_applicant.id_number[-4:]
    )
    empty = client.get(reverse("applications:roster") + "?program=grad_rent").content.decode()
    assert "没有符合条件的申报" in empty
    client.force_login(ready_applicant)
    assert client.get(reverse("applications:roster")).status_code == 404


def test_statistics_are_limited_to_the_authoritys_region(city, ready_applicant, client):
    app = submit(living(ready_applicant))
    t.approve(actor=city.employer_admin, application=app)
    other = hospital_person(city)  # 西城区
    hospital_admin = User.objects.create_user(username="hosp", password=PASSWORD, kind="employer")
    Membership.objects.create(
        user=hospital_admin, employer=city.hospital, role=Membership.Role.EMPLOYER_ADMIN
    )
    submit(living(other))
    client.force_login(city.district_reviewer)  # 东城区
    page = client.get(reverse("review:statistics")).content.decode()
    assert "共 1 件" in page and "东城区" in page and "西城区" not in page
    client.force_login(city.city_reviewer)  # the whole city
    page = client.get(reverse("review:statistics")).content.decode()
    assert "共 2 件" in page and "西城区" in page and "bar-chart" in page
    rows = sheet_rows(client.get(reverse("review:statistics") + "?export=xlsx"))
    assert ("高校毕业生生活补助", 2, 12000.0) in rows
    client.force_login(city.employer_admin)
    assert client.get(reverse("review:statistics")).status_code == 404
