"""Policy matching (F50, issue 5 part): a visitor's conditions against each programme's
own rules from its pack."""

from django.urls import reverse

from rencai.programs.matching import Conditions, match_programs


def verdicts(cond):
    return {m.program.code: m for m in match_programs(cond)}


def test_conditions_decide_against_the_packs_rules(city):
    bachelor = verdicts(Conditions(education="bachelor", employed=True))
    assert bachelor["grad_living"].verdict == "check"  # records are checked when applying
    assert "上传规定的申报材料" in bachelor["grad_living"].later
    assert bachelor["skilled_rent"].verdict == "no"
    assert bachelor["skilled_rent"].reasons == [
        "要求取得职业资格（技能等级）证书，请在“职业资格”中填写。"
    ]
    college = verdicts(Conditions(education="college", employed=True))
    assert college["grad_home"].verdict == "no"
    assert "最高学历为大专，要求本科及以上。" in college["grad_home"].reasons
    nobody = verdicts(Conditions())
    assert nobody["grad_living"].verdict == "no"
    assert "要求在本市已注册并通过审核的单位就业。" in nobody["grad_living"].reasons
    assert "employer_declaration" not in nobody  # not a person's programme


def test_the_public_page_lists_matches_without_login(city, client):
    page = client.get(reverse("portal:match")).content.decode()
    assert "查看可申报的政策" in page and "匹配结果" not in page
    page = client.get(
        reverse("portal:match"), {"education": "master", "qualification": "on", "employed": "on"}
    ).content.decode()
    assert "匹配结果" in page
    skilled = page.split("高技能人才租房补贴")[1].split("</li>")[0]
    assert "暂不符合" not in skilled and "基本符合" in skilled
    bad = client.get(reverse("portal:match"), {"education": "phd-ish"}).content.decode()
    assert "匹配结果" not in bad and "error-summary" in bad


def test_a_category_and_contract_date_decide_the_talent_programmes(city, client):
    """F49, F27 through matching: the category gate and the cut-off date."""
    import datetime

    none = verdicts(Conditions(education="bachelor", employed=True))
    assert "要求F类：基础人才及以上人才，当前：尚未认定人才类型。" in none["talent_living"].reasons
    f_after = verdicts(
        Conditions(
            education="bachelor",
            employed=True,
            talent_level="f",
            first_contract=datetime.date(2022, 7, 10),
        )
    )
    assert f_after["talent_living"].verdict == "check"
    assert f_after["talent_apartment"].verdict == "check"
    assert f_after["talent_top_support"].verdict == "no"
    page = client.get(
        reverse("portal:match"),
        {
            "education": "bachelor",
            "employed": "on",
            "talent_level": "f",
            "first_contract": "2022-07-09",
        },
    ).content.decode()
    living = page.split("<h3>生活补贴")[1].split("</li>")[0]
    assert "要求2022-07-10起首次签订劳动合同" in living
