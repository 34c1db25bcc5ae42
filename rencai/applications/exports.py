"""Exports (F45, F63): XLSX written with xlsxwriter in constant-memory mode to a temporary
file and streamed back, so a 100,000-row roster never sits in memory. ID numbers are
always masked in exports."""

import tempfile

import xlsxwriter
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.applications.models import Application
from rencai.dbrouter import on_replica
from rencai.identity import mask_id_number
from rencai.orgs.models import Region

S = Application.State
FILED = [s for s in S.values if s != S.DRAFT]


def xlsx_response(filename: str, sheet_name: str, headers: list[str], rows) -> FileResponse:
    """Write ``rows`` (any iterable of lists) to an XLSX file on disk and stream it. The rows
    are read on the read replica when one is configured (``rencai.dbrouter``): an export is
    a read-only list, never the answer to a write, so a little replication lag is fine."""
    handle = tempfile.TemporaryFile()
    book = xlsxwriter.Workbook(handle, {"constant_memory": True})
    sheet = book.add_worksheet(sheet_name[:31])
    bold = book.add_format({"bold": True})
    for col, header in enumerate(headers):
        sheet.write_string(0, col, str(header), bold)
    for r, row in enumerate(on_replica(rows), start=1):
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, "" if value is None else str(value))
    book.close()
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- the employer's roster (员工申报花名表, F45) ----------------------------------------------


def roster_queryset(employer, *, program_code: str = "", state: str = ""):
    qs = Application.objects.filter(employer=employer, deleted_at__isnull=True).exclude(
        state=S.DRAFT
    )
    if program_code:
        qs = qs.filter(program__code=program_code)
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("program", "applicant").order_by("program__order", "id")


ROSTER_HEADERS = [
    "申报编号",
    "姓名",
    "证件号码",
    "申报项目",
    "申请月数",
    "申请金额（元）",
    "状态",
    "提交时间",
]


def roster_rows(qs):
    """Plain tuples straight from the database (no model instances) and labels looked up
    once: 100,000 rows stream in seconds, in constant memory."""
    labels = {value: str(label) for value, label in S.choices}
    rows = qs.values_list(
        "number",
        "applicant__real_name",
        "applicant__id_number",
        "program__name",
        "months",
        "amount",
        "state",
        "submitted_at",
    )
    for number, name, id_number, program, months, amount, state, submitted in rows.iterator(
        chunk_size=5000
    ):
        yield [
            number or "",
            name,
            mask_id_number(id_number or ""),
            program,
            months if months is not None else "",
            float(amount) if amount is not None else "",
            labels.get(state, state),
            timezone.localtime(submitted).strftime("%Y-%m-%d %H:%M") if submitted else "",
        ]


# --- statistics by region (F63) -------------------------------------------------------------


def regions_in_scope(authority_ids) -> list[int]:
    """The districts an authority's statistics cover: its own district, or for a city
    authority every district of the city (and the city itself, for city-level employers)."""
    from rencai.orgs.models import Authority

    regions = set()
    for authority in Authority.objects.filter(pk__in=authority_ids).select_related("region"):
        region = authority.region
        regions.add(region.pk)
        if region.level in (Region.Level.CITY, Region.Level.PROVINCE):
            regions.update(Region.objects.filter(parent=region).values_list("pk", flat=True))
    return sorted(regions)


def statistics(region_ids, *, program_code: str = "", year: int | None = None) -> dict:
    qs = Application.objects.filter(
        employer__district_id__in=region_ids, deleted_at__isnull=True, state__in=FILED
    )
    if program_code:
        qs = qs.filter(program__code=program_code)
    if year:
        qs = qs.filter(submitted_at__year=year)
    totals = Count("id"), Sum("amount")
    paid = Q(state__in=[S.TO_CONFIRM, S.CONFIRMED])
    by_program = list(
        qs.values("program__name")
        .annotate(
            n=totals[0],
            amount=totals[1],
            approved=Count("id", filter=Q(state__in=[S.APPROVED]) | paid),
        )
        .order_by("-n")
    )
    by_district = list(
        qs.values("employer__district__name").annotate(n=totals[0], amount=totals[1]).order_by("-n")
    )
    by_state = list(qs.values("state").annotate(n=totals[0], amount=totals[1]).order_by("state"))
    for row in by_state:
        row["label"] = str(S(row["state"]).label)
    by_month = list(
        qs.annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(n=totals[0], amount=totals[1])
        .order_by("month")
    )
    biggest = max([r["n"] for r in by_program] or [1])
    for row in by_program:
        row["width"] = round(100 * row["n"] / biggest)
    return {
        "by_program": by_program,
        "by_district": by_district,
        "by_state": by_state,
        "by_month": by_month,
        "total": qs.aggregate(n=totals[0], amount=totals[1]),
    }


def statistics_rows(stats):
    yield [_("按项目"), "", ""]
    for r in stats["by_program"]:
        yield [r["program__name"], r["n"], float(r["amount"] or 0)]
    yield [_("按区县"), "", ""]
    for r in stats["by_district"]:
        yield [r["employer__district__name"], r["n"], float(r["amount"] or 0)]
    yield [_("按状态"), "", ""]
    for r in stats["by_state"]:
        yield [r["label"], r["n"], float(r["amount"] or 0)]
    yield [_("按月份"), "", ""]
    for r in stats["by_month"]:
        month = timezone.localtime(r["month"]).strftime("%Y-%m") if r["month"] else ""
        yield [month, r["n"], float(r["amount"] or 0)]
