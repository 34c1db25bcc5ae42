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
    assert bachelor["skilled_rent"].reasons == ["要求取得职业资格（技能等级）证书。"]
    college = verdicts(Conditions(education="college", employed=True))
    assert college["grad_home"].verdict == "no"
    assert "要求本科及以上学历。" in college["grad_home"].reasons
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
    assert "匹配结果" in page and "高技能人才租房补贴" in page and "暂不符合" not in page
    bad = client.get(reverse("portal:match"), {"education": "phd-ish"}).content.decode()
    assert "匹配结果" not in bad and "error-summary" in bad
