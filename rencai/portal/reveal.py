"""显示完整号码 (issue 8): a reviewer's page shows ID numbers and phone numbers masked; the
reviewer who must compare the full value with a document asks for it, and the audit log
records who saw whose full value (action ``personal_data.reveal``; the value itself is
never written to the log).

Each kind of target names how to find it for this viewer (the same access rule as the
page that shows it, so nobody can reveal what they could not open) and which fields may
be revealed. A page offers the action with ``{% include "includes/reveal.html" %}``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rencai.audit.services import audit_record
from rencai.params import parse_id


@dataclass(frozen=True)
class Field:
    label: str
    value: Callable  # subject -> full value


ID_NUMBER = Field(_("证件号码"), lambda u: u.id_number or "")
PHONE = Field(_("手机号码"), lambda u: u.phone or "")


def _application_applicant(user, pk):
    from rencai.applications.access import application_for_staff

    return application_for_staff(user, pk).applicant


def _registering_person(user, pk):
    from rencai.review.access import person_for_employer_reviewer

    return person_for_employer_reviewer(user, pk)


def _employer(user, pk):
    from rencai.review.access import employer_for_district_reviewer

    return employer_for_district_reviewer(user, pk)


def _objection(user, pk):
    from rencai.applications.access import reviewing_authorities_of
    from rencai.applications.models import Objection

    objection = (
        Objection.objects.select_related("entry__notice")
        .filter(pk=pk, entry__notice__authority_id__in=reviewing_authorities_of(user))
        .first()
    )
    if objection is None:
        raise Http404
    return objection


# kind -> (find the subject for this viewer or raise Http404, the fields that may be shown)
TARGETS: dict[str, tuple[Callable, dict[str, Field]]] = {
    # the reviewer of an application compares the applicant's ID with the documents
    "application": (_application_applicant, {"id_number": ID_NUMBER, "phone": PHONE}),
    # the employer checks that the registering person is its employee
    "person": (_registering_person, {"id_number": ID_NUMBER, "phone": PHONE}),
    # the district bureau calls the contact of a registering employer
    "employer": (_employer, {"phone": Field(_("联系电话"), lambda e: e.phone)}),
    # the bureau calls back the person who objected to a public notice
    "objection": (
        _objection,
        {"contact": Field(_("联系方式"), lambda o: o.contact)},
    ),
}


def reveal_value(*, actor, kind: str, pk, field_name: str, request=None):
    """The service: the full value of ``field_name`` of the target ``kind``/``pk`` that
    ``actor`` may open (Http404 otherwise, the same as for an unknown target), recorded
    in the audit log in one transaction. Returns (the field, the subject, the value)."""
    pk = parse_id(pk)
    if kind not in TARGETS or field_name not in TARGETS[kind][1] or not pk:
        raise Http404
    find, fields = TARGETS[kind]
    with transaction.atomic():
        subject = find(actor, pk)
        field = fields[field_name]
        audit_record(
            action="personal_data.reveal",
            actor=actor,
            obj=subject,
            extra={"field": field_name, "via": f"{kind}:{pk}"},
            request=request,
        )
    return field, subject, field.value(subject)


@never_cache
@login_required
@require_POST
def reveal(request):
    field, subject, value = reveal_value(
        actor=request.user,
        kind=request.POST.get("kind", ""),
        pk=request.POST.get("pk"),
        field_name=request.POST.get("field", ""),
        request=request,
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"value": value})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    return render(
        request,
        "portal/reveal.html",
        {"label": field.label, "value": value, "subject": subject, "back": back},
    )
