"""Policy packs (B1): the loader's messages name the file and the path; reloading keeps
unchanged versions and versions changed programs, and an application keeps the version
it was filed under. Month arithmetic and the overlap rule (F19, F25) as properties."""

import re
import textwrap

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from rencai.city import city_setting
from rencai.programs import months as m
from rencai.programs.loader import load_pack
from rencai.programs.models import Program
from rencai.programs.schema import PackError

GOOD = """
pack: demo
name: 测试政策包
categories: [{code: graduate, name: 高校毕业生}]
programs:
  - code: demo_living
    name: 生活补助
    category: graduate
    applicant: person
    fields:
      - {code: start_month, label: 开始, type: month, required: true}
      - {code: end_month, label: 结束, type: month, required: true}
    period: {start: start_month, end: end_month}
    amount: {kind: per_month, standard: "100"}
    chains:
      - stages:
          - {code: employer, name: 单位审核, actor: employer}
"""


def write(tmp_path, text, name="pack.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change, path, problem",
    [
        (("applicant: person", "applicant: robot"), "programs[0].applicant", "must be one of"),
        (("category: graduate", "category: nobody"), "programs[0].category", "unknown category"),
        (
            (
                "type: month, required: true}\n      - {code: end_month",
                "type: colour, required: true}\n      - {code: end_month",
            ),
            "programs[0].fields[0].type",
            "must be one of",
        ),
        (
            ("actor: employer}", "actor: {authority: hr, level: district}}"),
            "programs[0].chains[0].stages[0].actor",
            'unknown authority kind "hr"',
        ),
        (('standard: "100"', 'standard: "-5"'), "programs[0].amount.standard", "non-negative"),
        (
            (
                "period: {start: start_month, end: end_month}",
                "period: {start: start_month, end: nowhere}",
            ),
            "programs[0].period.end",
            "must name a month field",
        ),
        (
            ("name: 生活补助", "name: 生活补助\n    colour: red"),
            "programs[0].colour",
            "unknown key",
        ),
        (
            (
                "    chains:",
                "    materials: [{type: form, label: 申请表, formats: [pdf, exe]}]\n    chains:",
            ),
            "programs[0].materials[0].formats[1]",
            "unknown format 'exe'",
        ),
    ],
)
def test_a_pack_with_an_error_names_the_file_and_the_path(db, tmp_path, change, path, problem):
    bad = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(PackError) as exc:
        load_pack(bad)
    assert exc.value.path == path and problem in exc.value.problem
    assert str(bad) in str(exc.value)
    assert not Program.objects.filter(code="demo_living").exists()  # nothing loaded


def test_broken_yaml_and_the_command_report_the_line(db, tmp_path):
    bad = write(tmp_path, "pack: x\nname: [unclosed\n")
    with pytest.raises(CommandError, match=r"pack.yaml: line \d+, column \d+: not valid YAML"):
        call_command("load_policy", str(bad))


def test_reload_keeps_unchanged_versions_and_applications_keep_theirs(db, tmp_path):
    path = write(tmp_path, GOOD)
    report = load_pack(path)
    assert report.created == ["demo_living"]
    program = Program.objects.get(code="demo_living")
    first = program.current_version
    assert load_pack(path).unchanged == ["demo_living"]
    assert Program.objects.get(code="demo_living").current_version == first

    from rencai.accounts.models import User
    from rencai.applications.models import Application

    person = User.objects.create_user(username="p1", kind="person", real_name="测试")
    app = Application.objects.create(program=program, program_version=first, applicant=person)
    write(tmp_path, GOOD.replace('standard: "100"', 'standard: "150"'))
    assert load_pack(path).updated == ["demo_living"]
    program.refresh_from_db()
    assert program.current_version.number == 2
    app.refresh_from_db()
    assert app.program_version == first and app.definition["amount"]["standard"] == "100"

    write(tmp_path, GOOD.replace("code: demo_living", "code: demo_other"))
    report = load_pack(path)
    assert report.deactivated == ["demo_living"] and report.created == ["demo_other"]


def test_city_settings_come_from_the_pack(db, tmp_path):
    path = write(
        tmp_path,
        GOOD.replace("pack: demo", "pack: demo\ncity: {lockout_failures: 4, name: 测试市}"),
    )
    load_pack(path)
    assert city_setting("lockout_failures") == 4 and city_setting("name") == "测试市"
    bad = write(
        tmp_path, GOOD.replace("pack: demo", "pack: demo\ncity: {lockout_failures: 0}"), "b.yaml"
    )
    with pytest.raises(PackError, match=re.escape("city.lockout_failures: must be at least 1")):
        load_pack(bad)


# --- properties of the month arithmetic (F19, F25) ----------------------------------

months = st.integers(min_value=2000 * 12, max_value=2100 * 12)


@given(months, months)
def test_month_labels_round_trip(a, b):
    assert m.parse_month(m.month_label(a)) == a
    assert m.month_start(a).strftime("%Y-%m") == m.month_label(a)


@given(months, st.integers(min_value=0, max_value=240), st.integers(min_value=0, max_value=240))
def test_claimed_months_is_the_span_minus_deductions(start, length, deducted):
    end = start + length
    # Both ends count: January to December is 12 months.
    assert m.claimed_months(start, end, 0) == length + 1
    assert m.claimed_months(start, end, deducted) == length + 1 - deducted
    assert m.claimed_months(start, end, deducted, inclusive=False) == length - deducted


def test_a_year_is_twelve_months():
    assert m.claimed_months(m.parse_month("2024-01"), m.parse_month("2024-12"), 0) == 12
    assert m.claimed_months(m.parse_month("2024-01"), m.parse_month("2024-12"), 2) == 10


@given(months, st.integers(0, 60), months, st.integers(0, 60))
def test_overlap_is_symmetric_and_matches_shared_months(s1, l1, s2, l2):
    a, b = (s1, s1 + l1), (s2, s2 + l2)
    shared = set(range(a[0], a[1] + 1)) & set(range(b[0], b[1] + 1))
    assert m.overlaps(a, b) == m.overlaps(b, a) == bool(shared)
    assert m.overlapping_months(a, b) == sorted(shared)


@given(months, st.integers(0, 60))
def test_adjacent_ranges_do_not_overlap(start, length):
    first = (start, start + length)
    assert not m.overlaps(first, (first[1] + 1, first[1] + 5))
    assert m.overlaps(first, (first[1], first[1] + 5))


@pytest.mark.parametrize(
    "bad", ["2024-13", "2024-00", "24-01", "2024/01", "", "abcd-ef", "1899-12"]
)
def test_malformed_months_are_refused(bad):
    with pytest.raises(ValueError):
        m.parse_month(bad)


def test_administrators_see_the_loaded_packs_and_can_switch_a_program_off(client, city):
    client.force_login(city.admin)
    page = client.get("/admin/programs/program/").content.decode()
    assert "高校毕业生生活补助" in page and "战略性新兴产业引进人才生活补贴" in page
    assert client.get("/admin/programs/pack/").status_code == 200
    assert client.get("/admin/applications/application/").status_code == 200
    program = Program.objects.get(code="grad_tuition")
    response = client.post(
        f"/admin/programs/program/{program.pk}/change/", {"active": "", "_save": "1"}
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.active is False
    client.force_login(city.applicant)
    page = client.get("/applications/").content.decode()
    assert "<h3>高校毕业生学费补贴</h3>" not in page and "<h3>高校毕业生租房补贴</h3>" in page


def test_all_of_stages_are_checked(db, tmp_path):
    all_of = GOOD.replace(
        "- {code: employer, name: 单位审核, actor: employer}",
        "- {code: employer, name: 单位审核, kind: all_of, actors: [employer, dispatcher]}",
    )
    with pytest.raises(PackError) as exc:
        load_pack(write(tmp_path, all_of))
    assert exc.value.path == "programs[0].dispatch" and "dispatch: true" in exc.value.problem
    load_pack(
        write(
            tmp_path, all_of.replace("applicant: person", "applicant: person\n    dispatch: true")
        )
    )
    one = GOOD.replace(
        "- {code: employer, name: 单位审核, actor: employer}",
        "- {code: employer, name: 单位审核, kind: all_of, actors: [employer]}",
    )
    with pytest.raises(PackError, match=re.escape("stages[0].actors: needs at least 2")):
        load_pack(write(tmp_path, one, "one.yaml"))
