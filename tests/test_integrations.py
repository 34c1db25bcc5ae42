"""Outside systems (F21–F23): importing the social-insurance and education-ministry data,
the rule helpers over it, and the HTTP adapters against a real local server."""

import datetime
import io
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from rencai.audit.models import AuditEntry
from rencai.audit.services import audit_verify_chain
from rencai.integrations.adapters import (
    HttpEducationRegistry,
    HttpSocialInsurance,
    OutsideSystemUnavailable,
    social_insurance,
)
from rencai.integrations.models import (
    EducationCertificate,
    ImportBatch,
    InsuredPerson,
    PensionContribution,
)
from rencai.integrations.rules import (
    bank_account_of,
    check_certificate,
    check_claim_amount,
    check_pension_start,
    deducted_months,
    expected_amount,
)
from rencai.integrations.services import ImportFileError, import_file
from tests.conftest import make_id

MASTER_2017 = make_id("11010119900307123")  # started 2017-01
MASTER_2016 = make_id("11010119910415234")  # started 2016-12
BACHELOR_2019_05 = make_id("11010119960101345")
BACHELOR_2019_06 = make_id("11010119960202456")
SUSPENDED = make_id("11010119920505567")
NOBODY = make_id("11010119930606678")  # never imported


def bad_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def write_csv(tmp_path, name: str, lines: list[str], bom: bool = True):
    path = tmp_path / name
    path.write_bytes((("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode("utf-8"))
    return path


def write_xlsx(tmp_path, name: str, rows: list[list]):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def month(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text + "-01")


def months_of(start: str, end: str) -> list[str]:
    s, e = month(start), month(end)
    out = []
    while s <= e:
        out.append(f"{s:%Y-%m}")
        s = (s + datetime.timedelta(days=32)).replace(day=1)
    return out


# --------------------------------------------------------------------------- importing


def test_csv_import_stores_good_rows_and_reports_bad_ones_by_line(db, tmp_path):
    path = write_csv(
        tmp_path,
        "参保人员.csv",
        [
            "身份证号码,姓名,参保状态,开户银行,社保卡金融账号",
            f"{MASTER_2017},王硕,正常参保,中国工商银行,6222020200112233445",
            f"{SUSPENDED.lower()},赵停,suspended,,",  # a lower-case x would be fine too
            f"{bad_check_digit(MASTER_2016)},钱错,正常参保,中国银行,6216610200001234567",
            "",  # blank lines are skipped but still counted
            f"{BACHELOR_2019_06},孙状,在职,中国银行,6216610200001234567",
            f"{BACHELOR_2019_05},李半,正常参保,中国银行,",
            f"{MASTER_2017},王硕,正常参保,中国工商银行,6222020200112233445",
        ],
    )
    batch = import_file("insured", path)

    assert (batch.accepted_count, batch.rejected_count, batch.replaced_count) == (2, 4, 0)
    assert [row["line"] for row in batch.rejected_rows] == [4, 6, 7, 8]
    reasons = [row["reason"] for row in batch.rejected_rows]
    assert "校验位不正确" in reasons[0]
    assert "参保状态“在职”无法识别" in reasons[1] and "正常参保" in reasons[1]
    assert "开户银行和社保卡金融账号要么都填写，要么都不填" in reasons[2]
    assert reasons[3] == "与第2行重复（同一身份证号码）。"

    stored = {p.id_number: p for p in InsuredPerson.objects.all()}
    assert set(stored) == {MASTER_2017, SUSPENDED}
    assert stored[MASTER_2017].status == "normal"
    assert stored[MASTER_2017].bank_account == "6222020200112233445"
    assert stored[SUSPENDED].status == "suspended" and stored[SUSPENDED].batch == batch
    assert not InsuredPerson.objects.filter(name__in=["钱错", "孙状", "李半"]).exists()

    saved = ImportBatch.objects.get()
    assert saved.file_name == "参保人员.csv" and saved.rejected_rows == batch.rejected_rows
    entry = AuditEntry.objects.get(action="integrations.import_insured")
    assert entry.object_id == str(batch.pk)
    assert entry.summary["accepted"] == 2 and entry.summary["rejected"] == 4
    assert audit_verify_chain().ok


def test_xlsx_import_of_contributions_checks_months_amounts_and_number_cells(db, tmp_path):
    path = write_xlsx(
        tmp_path,
        "contributions.xlsx",
        [
            ["id_number", "month", "employer_name", "amount"],
            [MASTER_2017, "2017-01", "示范市星河科技有限公司", 512.4],
            [MASTER_2017, 201702, "示范市星河科技有限公司", "512.40"],
            [MASTER_2017, datetime.datetime(2017, 3, 1), None, 600],
            [MASTER_2017, "2017-13", "示范市星河科技有限公司", 500],
            [MASTER_2016, "2016-12", "示范市第一人民医院", -1],
            [float(MASTER_2016[:17] + "0"), "2017-01", "示范市第一人民医院", 500],
            [MASTER_2017, "201701", "示范市星河科技有限公司", 400],
            [MASTER_2016, "2017/1", "", "壹佰"],
        ],
    )
    batch = import_file("contributions", path)

    assert (batch.accepted_count, batch.rejected_count) == (3, 5)
    rejected = {row["line"]: row["reason"] for row in batch.rejected_rows}
    assert set(rejected) == {5, 6, 7, 8, 9}
    assert "缴费年月“2017-13”格式不正确" in rejected[5]
    assert "缴费金额不能为负数" in rejected[6]
    assert "数字格式" in rejected[7] and "设为文本格式" in rejected[7]
    assert rejected[8] == "与第2行重复（同一身份证号码和缴费年月）。"
    assert "缴费金额“壹佰”不是数字" in rejected[9]

    rows = list(PensionContribution.objects.order_by("month").values_list("month", "amount"))
    assert rows == [
        (month("2017-01"), Decimal("512.40")),
        (month("2017-02"), Decimal("512.40")),
        (month("2017-03"), Decimal("600.00")),
    ]
    assert not PensionContribution.objects.filter(id_number=MASTER_2016).exists()


def test_reimporting_a_month_replaces_it_and_keeps_the_other_months(db, tmp_path):
    header = "身份证号码,缴费年月,缴费单位,缴费金额"
    first = write_csv(
        tmp_path,
        "m1.csv",
        [header, f"{MASTER_2017},2017-01,旧单位,500", f"{MASTER_2017},2017-02,旧单位,500"],
    )
    second = write_csv(tmp_path, "m2.csv", [header, f"{MASTER_2017},201701,新单位,800"])
    import_file("contributions", first)
    batch = import_file("contributions", second)

    assert (batch.accepted_count, batch.replaced_count) == (1, 1)
    stored = {
        c.month: (c.employer_name, c.amount, c.batch_id)
        for c in PensionContribution.objects.filter(id_number=MASTER_2017)
    }
    assert stored[month("2017-01")] == ("新单位", Decimal("800.00"), batch.pk)
    assert stored[month("2017-02")][:2] == ("旧单位", Decimal("500.00"))
    assert len(stored) == 2


def test_a_file_that_cannot_be_read_stores_nothing(db, tmp_path):
    missing = write_csv(tmp_path, "x.csv", ["身份证号码,姓名", f"{MASTER_2017},王硕"])
    with pytest.raises(ImportFileError, match="缺少必需的列：参保状态"):
        import_file("insured", missing)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f"身份证号码,姓名,参保状态\n{MASTER_2017},王硕,正常参保\n".encode("gbk"))
    with pytest.raises(ImportFileError, match="UTF-8"):
        import_file("insured", gbk)
    assert not InsuredPerson.objects.exists() and not ImportBatch.objects.exists()


def test_import_command_prints_counts_and_rejected_rows(db, tmp_path):
    path = write_xlsx(
        tmp_path,
        "certs.xlsx",
        [
            ["证书编号", "证书类型", "姓名", "身份证号码", "学校名称", "学历层次", "发证日期"],
            ["105581201702000123", "学历证书", "王硕", MASTER_2017, "中山大学", "硕士研究生",
             datetime.date(2017, 6, 30)],
            ["1055842017000456", "degree", "王硕", None, "中山大学", "master", "2017-06-30"],
            ["1055842017000789", "学位证书", "周专", None, "某职业学院", "大专", "2017-06-30"],
            ["1055842017000790", "学位证书", "吴期", None, "中山大学", "本科", "2017-02-30"],
        ],
    )  # fmt: skip
    out = io.StringIO()
    call_command("import_outside_data", "--kind", "certificates", str(path), stdout=out)
    text = out.getvalue()
    assert "导入2行" in text and "拒绝2行" in text
    assert "certs.xlsx 第4行 拒绝：学位证书的层次不能是大专" in text
    assert "第5行 拒绝：发证日期“2017-02-30”格式不正确" in text
    assert set(EducationCertificate.objects.values_list("number", "kind")) == {
        ("105581201702000123", "diploma"),
        ("1055842017000456", "degree"),
    }
    with pytest.raises(CommandError, match="缺少必需的列"):
        call_command(
            "import_outside_data",
            "--kind",
            "contributions",
            str(path),
            stdout=io.StringIO(),
        )


# --------------------------------------------------------------------------- rules on imported data


@pytest.fixture
def imported(db, tmp_path):
    write = write_csv
    import_file(
        "insured",
        write(
            tmp_path,
            "insured.csv",
            [
                "id_number,name,status,bank_name,bank_account",
                f"{MASTER_2017},王硕,normal,中国工商银行示范市分行,6222020200112233445",
                f"{MASTER_2016},钱早,normal,中国银行,6216610200001234567",
                f"{BACHELOR_2019_05},李半,正常参保,中国银行,6216610200007654321",
                f"{BACHELOR_2019_06},孙六,正常参保,,",
                f"{SUSPENDED},赵停,暂停,中国建设银行,6227000012345678901",
            ],
        ),
    )
    lines = ["id_number,month,employer_name,amount"]
    # MASTER_2017 paid from 2017-01 to 2020-12 except 2020-03 and 2020-07 (two gaps)
    for m in months_of("2017-01", "2020-12"):
        if m not in ("2020-03", "2020-07"):
            lines.append(f"{MASTER_2017},{m},示范市星河科技有限公司,512.40")
    lines += [
        f"{MASTER_2016},2016-12,示范市第一人民医院,480",
        f"{MASTER_2016},2017-01,示范市第一人民医院,480",
        f"{BACHELOR_2019_05},2019-05,示范市第一人民医院,300",
        f"{BACHELOR_2019_06},2019-06,示范市第一人民医院,300",
        f"{SUSPENDED},2018-01,示范市第一人民医院,300",
        f"{NOBODY},2018-01,不在参保名单的单位,300",
    ]
    import_file("contributions", write(tmp_path, "contributions.csv", lines))
    import_file(
        "certificates",
        write(
            tmp_path,
            "certs.csv",
            [
                "number,kind,holder_name,holder_id_number,school_name,level,awarded_on",
                f"105581201702000123,diploma,王硕,{MASTER_2017},中山大学,master,2017-06-30",
                "1055842017000456,degree,王硕,,中山大学,master,2017-06-30",
                "104871201905000999,学历证书,买买提·艾力,,华中科技大学,本科,2019-06-30",
            ],
        ),
    )


def test_master_who_started_contributing_in_2017_01_passes(imported):
    ok, reason = check_pension_start(MASTER_2017, "master")
    assert ok, reason
    assert "2017年1月" in reason


def test_master_who_started_contributing_in_2016_12_fails(imported):
    ok, reason = check_pension_start(MASTER_2016, "master")
    assert not ok
    assert "最早缴费年月为2016年12月，早于硕士研究生学历规定的2017年1月，不能申报" in reason


def test_bachelor_start_limit_is_2019_06(imported):
    ok, reason = check_pension_start(BACHELOR_2019_05, "bachelor")
    assert not ok and "2019年5月" in reason and "2019年6月" in reason
    ok, reason = check_pension_start(BACHELOR_2019_06, "bachelor")
    assert ok, reason


def test_suspended_insurance_fails_even_with_a_late_enough_start(imported):
    ok, reason = check_pension_start(SUSPENDED, "master")
    assert not ok
    assert "参保状态为“暂停”，不是正常参保状态" in reason


def test_no_insurance_record_fails_and_says_what_to_do(imported):
    ok, reason = check_pension_start(NOBODY, "doctor")
    assert not ok
    assert "未查询到您参加企业养老保险的记录" in reason and "社保经办机构" in reason
    with pytest.raises(ValueError):
        check_pension_start(MASTER_2017, "phd")


def test_deducted_months_are_the_gaps_in_the_claimed_range(imported):
    gaps = deducted_months(MASTER_2017, "2020-01", "2020-12")
    assert gaps == [month("2020-03"), month("2020-07")]
    assert deducted_months(MASTER_2017, "2019-01", "2019-12") == []
    assert deducted_months(NOBODY, "2018-01", "2018-02") == [month("2018-02")]


def test_claim_amount_mismatch_is_explained(imported):
    gaps = deducted_months(MASTER_2017, "2020-01", "2020-12")
    assert expected_amount(12, gaps, 1000) == Decimal("10000.00")
    ok, reason = check_claim_amount(12, gaps, Decimal("1000"), applied_amount=12000)
    assert not ok
    assert "申请补贴金额12000元与应发金额10000元不一致" in reason
    assert "有2个月没有缴纳企业养老保险" in reason
    assert "2020年3月、2020年7月" in reason
    ok, reason = check_claim_amount(12, gaps, 1000, applied_amount="10000.00")
    assert ok and "实发月数10个月" in reason


def test_certificate_verified_not_found_and_mismatch(imported):
    ok, reason = check_certificate("1055 8120 1702 0001 23", name="王硕", kind="diploma")
    assert ok, reason
    ok, reason = check_certificate("104871201905000999", name="买买提•艾力", kind="diploma")
    assert ok, reason  # a different middle dot is the same name

    ok, reason = check_certificate("105581201702000124", name="王硕", kind="diploma")
    assert not ok
    assert "请核对证书编号；确认无误后请联系毕业院校确认证书信息是否已上传至教育部" in reason

    ok, reason = check_certificate("105581201702000123", name="王朔", kind="diploma")
    assert not ok and "姓名“王朔”不一致" in reason and "王硕" not in reason

    ok, reason = check_certificate("1055842017000456", name="王硕", kind="diploma")
    assert not ok and "登记的是学位证书，不是学历证书" in reason


def test_bank_account_comes_from_the_social_security_card(imported):
    assert bank_account_of(MASTER_2017) == ("中国工商银行示范市分行", "6222020200112233445")
    assert bank_account_of(BACHELOR_2019_06) is None  # insured, no card account on record
    assert bank_account_of(NOBODY) is None


def test_local_lookup_reports_status_and_contribution_months(imported):
    record = social_insurance().lookup(MASTER_2017)
    assert record.status == "normal" and record.earliest_month == month("2017-01")
    assert month("2020-03") not in record.contributed_months
    assert len(record.contributed_months) == 46


def test_admin_lists_are_read_only_and_searchable(imported, admin_client):
    page = admin_client.get("/admin/integrations/insuredperson/", {"q": MASTER_2017})
    assert page.status_code == 200
    text = page.content.decode()
    assert "王硕" in text and "钱早" not in text
    assert "/admin/integrations/insuredperson/add/" not in text
    person = InsuredPerson.objects.get(id_number=MASTER_2017)
    change = admin_client.get(f"/admin/integrations/insuredperson/{person.pk}/change/")
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert admin_client.get("/admin/integrations/importbatch/").status_code == 200


# --------------------------------------------------------------------------- HTTP adapters


class _Handler(BaseHTTPRequestHandler):
    answers: dict = {}  # path -> (status, body, delay in seconds)
    requests: list = []

    def do_GET(self):
        url = urlsplit(self.path)
        type(self).requests.append((url.path, parse_qs(url.query)))
        status, body, delay = self.answers[url.path]
        time.sleep(delay)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, *args):
        pass


@pytest.fixture
def outside_server():
    _Handler.answers, _Handler.requests = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Handler
    server.shutdown()
    server.server_close()


def test_http_social_insurance_and_registry_answering_properly(outside_server):
    base, handler = outside_server
    handler.answers["/si"] = (
        200,
        {
            "found": True,
            "id_number": MASTER_2017,
            "name": "王硕",
            "status": "normal",
            "bank_name": "中国工商银行",
            "bank_account": "6222020200112233445",
            "contributed_months": ["2017-01", "2017-02", "2017-04"],
        },
        0,
    )
    handler.answers["/edu"] = (
        200,
        {
            "found": True,
            "certificate_number": "105581201702000123",
            "kind": "diploma",
            "holder_name": "王硕",
            "school_name": "中山大学",
            "level": "master",
            "awarded_on": "2017-06-30",
        },
        0,
    )
    insurance = HttpSocialInsurance(url=base + "/si", timeout=2)
    record = insurance.lookup(MASTER_2017)
    assert record.status == "normal" and record.earliest_month == month("2017-01")
    assert record.bank_account == "6222020200112233445"
    assert insurance.months_without_contribution(MASTER_2017, "2017-01", "2017-04") == [
        month("2017-03")
    ]
    assert check_pension_start(MASTER_2017, "master", insurance=insurance)[0]
    assert handler.requests[0] == ("/si", {"id_number": [MASTER_2017]})

    registry = HttpEducationRegistry(url=base + "/edu", timeout=2)
    result = registry.verify("105581201702000123", name="王硕", kind="diploma")
    assert result.outcome == "verified" and result.record.level == "master"
    assert registry.verify("105581201702000123", name="王朔", kind="diploma").mismatched == (
        "name",
    )
    handler.answers["/edu"] = (200, {"found": False}, 0)
    assert registry.verify("105581201702000999", name="王硕", kind="diploma").outcome == (
        "not_found"
    )


def test_http_500_or_malformed_answer_is_unavailable_not_a_pass(outside_server, settings):
    base, handler = outside_server
    handler.answers["/si"] = (500, {"error": "db down"}, 0)
    settings.RENCAI_SOCIAL_INSURANCE_BACKEND = "rencai.integrations.adapters.HttpSocialInsurance"
    settings.RENCAI_SOCIAL_INSURANCE_URL = base + "/si"
    with pytest.raises(OutsideSystemUnavailable) as info:
        check_pension_start(MASTER_2017, "master")
    assert "HTTP 500" in info.value.detail and "社保系统暂时无法访问" in info.value.message
    with pytest.raises(OutsideSystemUnavailable):
        bank_account_of(MASTER_2017)

    handler.answers["/edu"] = (200, b"<html>maintenance</html>", 0)
    with pytest.raises(OutsideSystemUnavailable, match="not JSON"):
        HttpEducationRegistry(url=base + "/edu").verify("1", name="王硕", kind="degree")
    handler.answers["/edu"] = (200, {"status": "ok"}, 0)  # no "found": not a "not found"
    with pytest.raises(OutsideSystemUnavailable, match="found"):
        HttpEducationRegistry(url=base + "/edu").verify("1", name="王硕", kind="degree")


def test_http_timeout_is_unavailable(outside_server, settings):
    base, handler = outside_server
    handler.answers["/edu"] = (200, {"found": False}, 1.0)
    settings.RENCAI_EDUCATION_REGISTRY_BACKEND = (
        "rencai.integrations.adapters.HttpEducationRegistry"
    )
    settings.RENCAI_EDUCATION_REGISTRY_URL = base + "/edu"
    settings.RENCAI_EDUCATION_REGISTRY_TIMEOUT = 0.2
    started = time.monotonic()
    with pytest.raises(OutsideSystemUnavailable) as info:
        check_certificate("105581201702000123", name="王硕", kind="diploma")
    assert time.monotonic() - started < 0.9
    assert "0.2 s" in info.value.detail
    assert "教育部学历学位查询接口暂时无法访问" in info.value.message

    handler.answers["/si"] = (200, {"found": False}, 0)
    with pytest.raises(OutsideSystemUnavailable, match="network error"):
        HttpSocialInsurance(url="http://127.0.0.1:9/si", timeout=1).lookup(MASTER_2017)
