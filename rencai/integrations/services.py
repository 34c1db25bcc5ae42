"""Importing other agencies' data (F21–F23) from CSV (UTF-8, a BOM is fine) or XLSX files.

``import_file(kind, path_or_file, actor=None)`` reads a header row and then one record a row.
Each row is checked; a bad row is rejected with its line number and a Chinese reason and
nothing of it is stored; the good rows are upserted (a row with the same key as a stored one
replaces it) in one transaction with the ``ImportBatch`` and one audit row. A file that
cannot be read at all (wrong format, not UTF-8, a required column missing, no data rows)
raises ``ImportFileError`` and stores nothing. The column names are in docs/operations.md."""

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.identity import clean_resident_id
from rencai.integrations.models import (
    EducationCertificate,
    ImportBatch,
    InsuredPerson,
    PensionContribution,
)
from rencai.integrations.months import parse_month

KINDS = tuple(ImportBatch.Kind.values)


class ImportFileError(ServiceError):
    """The file as a whole cannot be imported; nothing was stored."""


class RowError(Exception):
    """One row is invalid; the message is the Chinese reason shown to the operator."""


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the Chinese header, used in messages
    names: tuple[str, ...]  # accepted headers (compared without case, spaces and "*")
    required: bool = True


COLUMNS: dict[str, tuple[Column, ...]] = {
    "insured": (
        Column("id_number", "身份证号码", ("id_number", "身份证号码", "身份证号", "证件号码")),
        Column("name", "姓名", ("name", "姓名")),
        Column("status", "参保状态", ("status", "参保状态")),
        Column("bank_name", "开户银行", ("bank_name", "开户银行", "银行名称"), required=False),
        Column(
            "bank_account",
            "社保卡金融账号",
            ("bank_account", "社保卡金融账号", "金融账号", "银行账号"),
            required=False,
        ),
    ),
    "contributions": (
        Column("id_number", "身份证号码", ("id_number", "身份证号码", "身份证号", "证件号码")),
        Column("month", "缴费年月", ("month", "缴费年月", "费款所属期")),
        Column(
            "employer_name",
            "缴费单位",
            ("employer_name", "缴费单位", "单位名称"),
            required=False,
        ),
        Column("amount", "缴费金额", ("amount", "缴费金额", "金额")),
    ),
    "certificates": (
        Column("number", "证书编号", ("number", "certificate_number", "证书编号")),
        Column("kind", "证书类型", ("kind", "证书类型", "证书种类")),
        Column("holder_name", "姓名", ("holder_name", "name", "姓名", "持证人姓名")),
        Column(
            "holder_id_number",
            "身份证号码",
            ("holder_id_number", "id_number", "身份证号码", "身份证号", "证件号码"),
            required=False,
        ),
        Column("school_name", "学校名称", ("school_name", "学校名称", "毕业院校", "学位授予单位")),
        Column("level", "学历层次", ("level", "学历层次", "层次")),
        Column("awarded_on", "发证日期", ("awarded_on", "发证日期", "毕业日期", "授予日期")),
    ),
}

STATUS_NAMES = {
    "normal": "normal",
    "正常参保": "normal",
    "正常": "normal",
    "参保缴费": "normal",
    "suspended": "suspended",
    "暂停": "suspended",
    "暂停参保": "suspended",
    "暂停缴费": "suspended",
    "terminated": "terminated",
    "终止": "terminated",
    "终止参保": "terminated",
}
KIND_NAMES = {
    "diploma": "diploma",
    "学历证书": "diploma",
    "毕业证书": "diploma",
    "毕业证": "diploma",
    "degree": "degree",
    "学位证书": "degree",
    "学位证": "degree",
}
LEVEL_NAMES = {
    "college": "college",
    "大专": "college",
    "专科": "college",
    "bachelor": "bachelor",
    "本科": "bachelor",
    "学士": "bachelor",
    "master": "master",
    "硕士研究生": "master",
    "硕士": "master",
    "doctor": "doctor",
    "博士研究生": "doctor",
    "博士": "doctor",
}

_BANK_ACCOUNT = re.compile(r"^\d{8,32}$")
_CERT_NUMBER = re.compile(r"^[0-9A-Z-]{4,40}$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MAX_AMOUNT = Decimal("9999999999.99")


# --------------------------------------------------------------------------- reading


def _header_key(value) -> str:
    return re.sub(r"[\s*＊]", "", str(value or "")).lstrip("\ufeff").lower()


def _read_bytes(path_or_file) -> tuple[str, bytes]:
    if isinstance(path_or_file, str | Path):
        path = Path(path_or_file)
        if not path.is_file():
            raise ImportFileError(_("找不到文件：%(path)s") % {"path": path}, code="not_found")
        return path.name, path.read_bytes()
    name = Path(getattr(path_or_file, "name", "") or "upload").name
    if hasattr(path_or_file, "seek"):
        path_or_file.seek(0)
    data = path_or_file.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    return name, data


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                "文件不是 UTF-8 编码。用 Excel 保存时请选择“CSV UTF-8（逗号分隔）”，"
                "或直接上传 .xlsx 文件。"
            ),
            code="encoding",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        previous = 0
        for row in reader:
            yield previous + 1, row  # the line where the record starts
            previous = reader.line_num
    except csv.Error as exc:
        raise ImportFileError(
            _("CSV 文件第%(line)d行格式错误：%(error)s") % {"line": reader.line_num, "error": exc},
            code="csv",
        ) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged workbook raises anything from zipfile to lxml
        raise ImportFileError(
            _("无法读取该 Excel 文件（%(error)s），请用 Excel 另存为 .xlsx 后重试。")
            % {"error": exc},
            code="xlsx",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read every row
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield index, list(row)
    finally:
        workbook.close()


def _rows(data: bytes) -> Iterator[tuple[int, list]]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("不支持旧版 Excel（.xls）文件，请用 Excel 另存为 .xlsx 或 CSV UTF-8 后再导入。"),
            code="xls",
        )
    return _csv_rows(data)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    return " ".join(str(value).split())


# --------------------------------------------------------------------------- fields


def _digits_text(value, label: str) -> str:
    """Text of a column of long digit strings (ID numbers, account and certificate numbers):
    a number cell in Excel keeps only 15 significant digits, so it cannot be trusted."""
    if isinstance(value, float):
        raise RowError(
            _(
                "%(label)s单元格是数字格式，Excel 只保留15位有效数字，后几位已经丢失；"
                "请把该列设为文本格式，重新填写后再导入。"
            )
            % {"label": label}
        )
    return re.sub(r"\s+", "", _text(value))


def _id_number(value, label: str = "身份证号码") -> str:
    text = _digits_text(value, label)
    if not text:
        raise RowError(_("%(label)s为空。") % {"label": label})
    try:
        return clean_resident_id(text).number
    except ValidationError as exc:
        raise RowError(exc.messages[0]) from None


def _required_text(value, label: str, max_length: int) -> str:
    text = _text(value)
    if not text:
        raise RowError(_("%(label)s为空。") % {"label": label})
    if len(text) > max_length:
        raise RowError(_("%(label)s过长（最多%(n)d个字符）。") % {"label": label, "n": max_length})
    return text


def _optional_text(value, label: str, max_length: int) -> str:
    text = _text(value)
    if len(text) > max_length:
        raise RowError(_("%(label)s过长（最多%(n)d个字符）。") % {"label": label, "n": max_length})
    return text


def _code(value, names: dict[str, str], label: str) -> str:
    text = _text(value)
    code = names.get(text) or names.get(text.lower())
    if code is None:
        allowed = "、".join(dict.fromkeys(names))
        raise RowError(
            _("%(label)s“%(value)s”无法识别，应为以下之一：%(allowed)s。")
            % {"label": label, "value": text, "allowed": allowed}
        )
    return code


def _month(value) -> datetime.date:
    text = _text(value)
    if not text:
        raise RowError(_("缴费年月为空。"))
    try:
        month = parse_month(value if isinstance(value, datetime.date) else text)
    except ValueError:
        raise RowError(
            _("缴费年月“%(value)s”格式不正确，应为 YYYY-MM 或 YYYYMM（例如 2019-06 或 201906）。")
            % {"value": text}
        ) from None
    if month > timezone.localdate().replace(day=1):
        raise RowError(_("缴费年月 %(month)s 晚于本月。") % {"month": f"{month:%Y-%m}"})
    return month


def _amount(value) -> Decimal:
    text = _text(value).replace(",", "").replace("，", "")
    if not text:
        raise RowError(_("缴费金额为空。"))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RowError(_("缴费金额“%(value)s”不是数字。") % {"value": text}) from None
    if not amount.is_finite():
        raise RowError(_("缴费金额“%(value)s”不是数字。") % {"value": text})
    if amount < 0:
        raise RowError(_("缴费金额不能为负数（%(value)s）。") % {"value": text})
    if amount != amount.quantize(Decimal("0.01")):
        raise RowError(_("缴费金额最多保留两位小数（%(value)s）。") % {"value": text})
    if amount > _MAX_AMOUNT:
        raise RowError(_("缴费金额过大（%(value)s）。") % {"value": text})
    return amount.quantize(Decimal("0.01"))


def _date(value, label: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    else:
        text = _text(value)
        if not text:
            raise RowError(_("%(label)s为空。") % {"label": label})
        match = _DATE.match(text)
        if text.isdigit() and len(text) == 8:
            parts = (text[:4], text[4:6], text[6:])
        elif match:
            parts = match.groups()
        else:
            parts = None
        try:
            if parts is None:
                raise ValueError(text)
            day = datetime.date(*(int(p) for p in parts))
        except ValueError:
            raise RowError(
                _("%(label)s“%(value)s”格式不正确，应为 YYYY-MM-DD（例如 2019-06-30）。")
                % {"label": label, "value": text}
            ) from None
    if day > timezone.localdate():
        raise RowError(_("%(label)s %(day)s 晚于今天。") % {"label": label, "day": day})
    if day.year < 1900:
        raise RowError(_("%(label)s %(day)s 不合理。") % {"label": label, "day": day})
    return day


# --------------------------------------------------------------------------- row parsers


def _insured_row(row: dict) -> tuple[tuple, dict]:
    id_number = _id_number(row.get("id_number"))
    name = _required_text(row.get("name"), "姓名", 50)
    status = _code(row.get("status"), STATUS_NAMES, "参保状态")
    bank_name = _optional_text(row.get("bank_name"), "开户银行", 100)
    bank_account = _digits_text(row.get("bank_account"), "社保卡金融账号").replace("-", "")
    if bank_account and not _BANK_ACCOUNT.match(bank_account):
        raise RowError(_("社保卡金融账号应为8–32位数字。"))
    if bool(bank_name) != bool(bank_account):
        raise RowError(_("开户银行和社保卡金融账号要么都填写，要么都不填。"))
    values = {
        "id_number": id_number,
        "name": name,
        "status": status,
        "bank_name": bank_name,
        "bank_account": bank_account,
    }
    return (id_number,), values


def _contribution_row(row: dict) -> tuple[tuple, dict]:
    id_number = _id_number(row.get("id_number"))
    month = _month(row.get("month"))
    values = {
        "id_number": id_number,
        "month": month,
        "employer_name": _optional_text(row.get("employer_name"), "缴费单位", 200),
        "amount": _amount(row.get("amount")),
    }
    return (id_number, month), values


def _certificate_row(row: dict) -> tuple[tuple, dict]:
    number = _digits_text(row.get("number"), "证书编号").upper()
    if not number:
        raise RowError(_("证书编号为空。"))
    if not _CERT_NUMBER.match(number):
        raise RowError(_("证书编号“%(value)s”应为4–40位数字或字母。") % {"value": number})
    kind = _code(row.get("kind"), KIND_NAMES, "证书类型")
    holder_name = _required_text(row.get("holder_name"), "姓名", 50)
    raw_id = row.get("holder_id_number")
    holder_id = _id_number(raw_id) if _text(raw_id) else ""
    school = _required_text(row.get("school_name"), "学校名称", 100)
    level = _code(row.get("level"), LEVEL_NAMES, "学历层次")
    if kind == "degree" and level == "college":
        raise RowError(_("学位证书的层次不能是大专（专科没有学位）。"))
    values = {
        "number": number,
        "kind": kind,
        "holder_name": holder_name,
        "holder_id_number": holder_id,
        "school_name": school,
        "level": level,
        "awarded_on": _date(row.get("awarded_on"), "发证日期"),
    }
    return (number,), values


@dataclass(frozen=True)
class _Target:
    model: type
    parse: object
    unique: tuple[str, ...]
    duplicate: str  # what the key is, for the duplicate message
    # The columns of the unique constraint an import updates on: an encrypted ID number
    # is unique through its keyed hash (issue 8).
    conflict: tuple[str, ...] = ()


TARGETS = {
    "insured": _Target(
        InsuredPerson, _insured_row, ("id_number",), "同一身份证号码", ("id_number_index",)
    ),
    "contributions": _Target(
        PensionContribution,
        _contribution_row,
        ("id_number", "month"),
        "同一身份证号码和缴费年月",
        ("id_number_index", "month"),
    ),
    "certificates": _Target(EducationCertificate, _certificate_row, ("number",), "同一证书编号"),
}


# --------------------------------------------------------------------------- import


def _map_header(kind: str, header: list) -> dict[str, int]:
    keys = [_header_key(cell) for cell in header]
    positions: dict[str, int] = {}
    missing = []
    for column in COLUMNS[kind]:
        wanted = {_header_key(n) for n in column.names}
        found = [i for i, key in enumerate(keys) if key in wanted]
        if len(found) > 1:
            raise ImportFileError(
                _("表头中“%(label)s”列出现了多次，请只保留一列。") % {"label": column.label},
                code="header",
            )
        if found:
            positions[column.field] = found[0]
        elif column.required:
            missing.append(f"{column.label}（{'、'.join(column.names)}）")
    if missing:
        raise ImportFileError(
            _("第一行表头缺少必需的列：%(columns)s。列名的写法见运维文档“Outside data”一节。")
            % {"columns": "；".join(missing)},
            code="header",
        )
    return positions


def _existing_keys(target: _Target, keys: list[tuple]) -> set[tuple]:
    found = set()
    first = target.unique[0]
    firsts = sorted({key[0] for key in keys})
    for i in range(0, len(firsts), 500):
        rows = target.model.objects.filter(**{f"{first}__in": firsts[i : i + 500]})
        found.update(rows.values_list(*target.unique))
    return found & set(keys)


def import_file(kind: str, path_or_file, *, actor=None) -> ImportBatch:
    """Import one CSV or XLSX file of ``kind`` (insured, contributions or certificates) and
    return its ``ImportBatch`` (counts and the rejected rows with line numbers and reasons)."""
    if kind not in TARGETS:
        raise ImportFileError(
            _("未知的导入类型“%(kind)s”，应为 %(kinds)s。")
            % {"kind": kind, "kinds": "、".join(KINDS)},
            code="kind",
        )
    target = TARGETS[kind]
    file_name, data = _read_bytes(path_or_file)
    header = None
    positions: dict[str, int] = {}
    accepted: dict[tuple, dict] = {}
    first_line: dict[tuple, int] = {}
    rejected: list[dict] = []
    for line, cells in _rows(data):
        if all(_text(cell) == "" for cell in cells):
            continue
        if header is None:
            header = cells
            positions = _map_header(kind, header)
            continue
        row = {field: cells[i] if i < len(cells) else None for field, i in positions.items()}
        try:
            key, values = target.parse(row)
            if key in first_line:
                raise RowError(
                    _("与第%(line)d行重复（%(what)s）。")
                    % {"line": first_line[key], "what": target.duplicate}
                )
        except RowError as exc:
            rejected.append({"line": line, "reason": str(exc)})
            continue
        first_line[key] = line
        accepted[key] = values
    if header is None:
        raise ImportFileError(_("文件是空的，没有表头。"), code="empty")
    if not accepted and not rejected:
        raise ImportFileError(_("文件只有表头，没有数据行。"), code="empty")

    now = timezone.now()
    with transaction.atomic():
        replaced = len(_existing_keys(target, list(accepted)))
        batch = ImportBatch.objects.create(
            kind=kind,
            file_name=file_name[:255],
            imported_by=actor if getattr(actor, "pk", None) else None,
            accepted_count=len(accepted),
            replaced_count=replaced,
            rejected_count=len(rejected),
            rejected_rows=rejected,
        )
        if accepted:
            fields = next(iter(accepted.values())).keys()
            target.model.objects.bulk_create(
                [target.model(**v, imported_at=now, batch=batch) for v in accepted.values()],
                batch_size=500,
                update_conflicts=True,
                unique_fields=list(target.conflict or target.unique),
                update_fields=[f for f in fields if f not in target.unique]
                + ["imported_at", "batch"],
            )
        audit_record(
            action=f"integrations.import_{kind}",
            actor=actor,
            role="admin" if actor is not None else "",
            obj=batch,
            extra={
                "file": file_name[:100],
                "accepted": len(accepted),
                "replaced": replaced,
                "rejected": len(rejected),
            },
        )
    return batch
