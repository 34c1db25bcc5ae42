"""Adapters to the social-insurance system (F21, F22) and the education ministry's
certificate registry (F23).

Each has an interface, a local implementation that reads the imported tables (the default,
and what the tests use) and an HTTP implementation that asks a JSON endpoint. The settings
``RENCAI_SOCIAL_INSURANCE_BACKEND`` and ``RENCAI_EDUCATION_REGISTRY_BACKEND`` name the class
(dotted path). An outside system that cannot answer raises ``OutsideSystemUnavailable``:
never a pass, never "not found". The JSON the HTTP endpoints must answer is described in
docs/operations.md ("Outside data")."""

import datetime
import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from rencai.errors import ServiceError
from rencai.integrations.months import month_range, parse_month

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
MAX_ANSWER_BYTES = 1_000_000
INSURED_STATUSES = ("normal", "suspended", "terminated")
CERTIFICATE_KINDS = ("diploma", "degree")


class OutsideSystemUnavailable(ServiceError):
    """An outside system did not give a usable answer (network error, timeout, an HTTP status
    other than 2xx, an answer that is not the agreed JSON). The message is for the user;
    ``system`` names the system and ``detail`` says what happened, for the log."""

    def __init__(self, system: str, detail: str, message: str | None = None):
        self.system = system
        self.detail = detail
        super().__init__(
            message or _("%(system)s暂时无法访问，请稍后再试。") % {"system": system},
            code="unavailable",
        )

    def __str__(self):
        return f"{self.message} [{self.detail}]"


# --------------------------------------------------------------------------- social insurance


@dataclass(frozen=True)
class InsuranceRecord:
    id_number: str
    name: str
    status: str  # "normal", "suspended" or "terminated"
    earliest_month: datetime.date | None  # first day of the earliest month with a contribution
    contributed_months: frozenset[datetime.date] = field(default_factory=frozenset)
    bank_name: str = ""
    bank_account: str = ""

    @property
    def is_normal(self) -> bool:
        return self.status == "normal"


class SocialInsurance(ABC):
    """The social-insurance system: a person's insured status, pension contributions and the
    bank account of the social-security card."""

    system_name = "社保系统"

    @abstractmethod
    def lookup(self, id_number: str) -> InsuranceRecord | None:
        """The person's record, or None when the system has no insured person of that ID."""

    def months_without_contribution(
        self, id_number: str, start_month, end_month
    ) -> list[datetime.date]:
        """Months from ``start_month`` to ``end_month`` (both included; dates or "YYYY-MM")
        in which no pension contribution was paid, in order."""
        start, end = _month_bounds(start_month, end_month)
        record = self.lookup(id_number)
        paid = record.contributed_months if record else frozenset()
        return [m for m in month_range(start, end) if m not in paid]


def _month_bounds(start_month, end_month) -> tuple[datetime.date, datetime.date]:
    start, end = parse_month(start_month), parse_month(end_month)
    if start > end:
        raise ValueError(f"start month {start:%Y-%m} is after end month {end:%Y-%m}")
    return start, end


class LocalSocialInsurance(SocialInsurance):
    """Reads ``InsuredPerson`` and ``PensionContribution`` (imported by an administrator).
    A month counts as contributed when its amount is greater than zero."""

    def lookup(self, id_number):
        from rencai.integrations.models import InsuredPerson

        person = InsuredPerson.objects.filter(id_number=_clean_id(id_number)).first()
        if person is None:
            return None
        months = frozenset(self._paid(person.id_number).values_list("month", flat=True))
        return InsuranceRecord(
            id_number=person.id_number,
            name=person.name,
            status=person.status,
            earliest_month=min(months) if months else None,
            contributed_months=months,
            bank_name=person.bank_name,
            bank_account=person.bank_account,
        )

    def months_without_contribution(self, id_number, start_month, end_month):
        start, end = _month_bounds(start_month, end_month)
        paid = set(
            self._paid(_clean_id(id_number))
            .filter(month__gte=start, month__lte=end)
            .values_list("month", flat=True)
        )
        return [m for m in month_range(start, end) if m not in paid]

    @staticmethod
    def _paid(id_number):
        from rencai.integrations.models import PensionContribution

        return PensionContribution.objects.filter(id_number=id_number, amount__gt=0)


def _clean_id(id_number: str) -> str:
    return (id_number or "").strip().upper()


# --------------------------------------------------------------------------- education registry


@dataclass(frozen=True)
class CertificateRecord:
    number: str
    kind: str  # "diploma" or "degree"
    holder_name: str
    school_name: str = ""
    level: str = ""  # college, bachelor, master, doctor (rencai.profiles Education.Level)
    awarded_on: datetime.date | None = None
    holder_id_number: str = ""


@dataclass(frozen=True)
class VerifyResult:
    outcome: str  # "verified", "not_found" or "mismatch"
    record: CertificateRecord | None = None
    mismatched: tuple[str, ...] = ()  # for "mismatch": "name" and/or "kind"

    VERIFIED = "verified"
    NOT_FOUND = "not_found"
    MISMATCH = "mismatch"

    @property
    def ok(self) -> bool:
        return self.outcome == self.VERIFIED


_NAME_DOTS = re.compile(r"[•・．.·‧∙]")


def normalize_name(name: str) -> str:
    """Names compare without spaces and with any middle dot (买买提·艾力) as the same dot."""
    return _NAME_DOTS.sub("·", re.sub(r"\s+", "", name or "")).casefold()


def normalize_certificate_number(number: str) -> str:
    return re.sub(r"\s+", "", number or "").upper()


class EducationRegistry(ABC):
    """The education ministry's register of diploma (学历) and degree (学位) certificates."""

    system_name = "教育部学历学位查询接口"

    @abstractmethod
    def find(self, certificate_number: str, *, name: str = "", kind: str = ""):
        """The certificate's ``CertificateRecord``, or None when the registry has none."""

    def verify(self, certificate_number: str, *, name: str, kind: str) -> VerifyResult:
        if kind not in CERTIFICATE_KINDS:
            raise ValueError(f"kind must be one of {CERTIFICATE_KINDS}, not {kind!r}")
        number = normalize_certificate_number(certificate_number)
        record = self.find(number, name=name, kind=kind)
        if record is None:
            return VerifyResult(VerifyResult.NOT_FOUND)
        mismatched = []
        if normalize_name(record.holder_name) != normalize_name(name):
            mismatched.append("name")
        if record.kind != kind:
            mismatched.append("kind")
        if mismatched:
            return VerifyResult(VerifyResult.MISMATCH, record, tuple(mismatched))
        return VerifyResult(VerifyResult.VERIFIED, record)


class LocalEducationRegistry(EducationRegistry):
    """Reads ``EducationCertificate`` (imported by an administrator)."""

    def find(self, certificate_number, *, name="", kind=""):
        from rencai.integrations.models import EducationCertificate

        cert = EducationCertificate.objects.filter(
            number=normalize_certificate_number(certificate_number)
        ).first()
        if cert is None:
            return None
        return CertificateRecord(
            number=cert.number,
            kind=cert.kind,
            holder_name=cert.holder_name,
            school_name=cert.school_name,
            level=cert.level,
            awarded_on=cert.awarded_on,
            holder_id_number=cert.holder_id_number,
        )


# --------------------------------------------------------------------------- HTTP


class _HttpJson:
    """GET ``url?params`` and return the JSON object answered, or raise
    ``OutsideSystemUnavailable``."""

    url_setting = ""
    timeout_setting = ""
    system_name = ""

    def __init__(self, url: str | None = None, timeout: float | None = None):
        self.url = url if url is not None else getattr(settings, self.url_setting, "")
        if not str(self.url or "").startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"{self.url_setting} must be an http(s) URL")
        if timeout is None:
            timeout = getattr(settings, self.timeout_setting, DEFAULT_TIMEOUT)
        self.timeout = float(timeout)

    def _unavailable(self, detail: str) -> OutsideSystemUnavailable:
        log.warning("%s unavailable: %s", self.url, detail)
        return OutsideSystemUnavailable(self.system_name, detail)

    def _get(self, params: dict) -> dict:
        separator = "&" if urllib.parse.urlsplit(self.url).query else "?"
        url = self.url + separator + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked in __init__
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                body = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise self._unavailable(f"HTTP {exc.code}") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._unavailable(f"no answer within {self.timeout:g} s") from exc
            raise self._unavailable(f"network error: {exc.reason}") from exc
        except TimeoutError as exc:
            raise self._unavailable(f"no answer within {self.timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise self._unavailable(f"network error: {exc!r}") from exc
        if not 200 <= status < 300:
            raise self._unavailable(f"HTTP {status}")
        if len(body) > MAX_ANSWER_BYTES:
            raise self._unavailable("answer too large")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self._unavailable(f"answer is not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("found"), bool):
            raise self._unavailable('answer has no boolean "found"')
        return data

    def _str(self, data: dict, key: str, *, required: bool = True) -> str:
        value = data.get(key, None if required else "")
        if value is None and not required:
            value = ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self._unavailable(f'answer has no text "{key}"')
        return value.strip()


class HttpSocialInsurance(_HttpJson, SocialInsurance):
    """``GET RENCAI_SOCIAL_INSURANCE_URL?id_number=…`` → the JSON in docs/operations.md."""

    url_setting = "RENCAI_SOCIAL_INSURANCE_URL"
    timeout_setting = "RENCAI_SOCIAL_INSURANCE_TIMEOUT"
    system_name = SocialInsurance.system_name

    def lookup(self, id_number):
        data = self._get({"id_number": _clean_id(id_number)})
        if not data["found"]:
            return None
        status = self._str(data, "status")
        if status not in INSURED_STATUSES:
            raise self._unavailable(f"unknown status {status!r}")
        raw_months = data.get("contributed_months", [])
        if not isinstance(raw_months, list):
            raise self._unavailable('"contributed_months" is not a list')
        try:
            months = frozenset(parse_month(str(m)) for m in raw_months)
            earliest = data.get("earliest_month")
            candidates = set(months)
            if earliest:
                candidates.add(parse_month(str(earliest)))
        except ValueError as exc:
            raise self._unavailable(f"bad month {exc}") from exc
        return InsuranceRecord(
            id_number=self._str(data, "id_number", required=False) or _clean_id(id_number),
            name=self._str(data, "name", required=False),
            status=status,
            earliest_month=min(candidates) if candidates else None,
            contributed_months=months,
            bank_name=self._str(data, "bank_name", required=False),
            bank_account=self._str(data, "bank_account", required=False),
        )


class HttpEducationRegistry(_HttpJson, EducationRegistry):
    """``GET RENCAI_EDUCATION_REGISTRY_URL?certificate_number=…&name=…&kind=…`` → the JSON in
    docs/operations.md. Name and kind are sent for registries that need them; the comparison
    is still made here."""

    url_setting = "RENCAI_EDUCATION_REGISTRY_URL"
    timeout_setting = "RENCAI_EDUCATION_REGISTRY_TIMEOUT"
    system_name = EducationRegistry.system_name

    def find(self, certificate_number, *, name="", kind=""):
        number = normalize_certificate_number(certificate_number)
        data = self._get({"certificate_number": number, "name": name, "kind": kind})
        if not data["found"]:
            return None
        record_kind = self._str(data, "kind")
        if record_kind not in CERTIFICATE_KINDS:
            raise self._unavailable(f"unknown kind {record_kind!r}")
        awarded = self._str(data, "awarded_on", required=False)
        try:
            awarded_on = datetime.date.fromisoformat(awarded) if awarded else None
        except ValueError as exc:
            raise self._unavailable(f"bad awarded_on {awarded!r}") from exc
        return CertificateRecord(
            number=self._str(data, "certificate_number", required=False) or number,
            kind=record_kind,
            holder_name=self._str(data, "holder_name"),
            school_name=self._str(data, "school_name", required=False),
            level=self._str(data, "level", required=False),
            awarded_on=awarded_on,
            holder_id_number=self._str(data, "holder_id_number", required=False),
        )


# --------------------------------------------------------------------------- choosing


def social_insurance() -> SocialInsurance:
    path = getattr(
        settings,
        "RENCAI_SOCIAL_INSURANCE_BACKEND",
        "rencai.integrations.adapters.LocalSocialInsurance",
    )
    return import_string(path)()


def education_registry() -> EducationRegistry:
    path = getattr(
        settings,
        "RENCAI_EDUCATION_REGISTRY_BACKEND",
        "rencai.integrations.adapters.LocalEducationRegistry",
    )
    return import_string(path)()
