"""Thin views of the personal centre's 个人情况 pages: fetch through an access helper,
parse the form, call one service, render."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from rencai.errors import ServiceError
from rencai.files import stored_file_response
from rencai.profiles import access, forms, selectors, services
from rencai.profiles.materials import material_type_label, material_types_for


def applicant_view(view):
    """Logged in, and an applicant (person, employer or agency): materials serve every
    applicant's filings; staff get 404."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.kind == "staff":
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def person_view(view):
    """Logged in, and a person: only persons have profiles (others get 404)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        access.require_person(request.user)
        return view(request, *args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------- basic information

PROFILE_FIELDS = ["ethnicity", "party", "household_address", "current_address", "position"]


@person_view
def basic(request):
    user = request.user
    profile = selectors.profile_of(user)
    initial = model_to_dict(profile, fields=PROFILE_FIELDS) if profile else {}
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(
                actor=user, data=services.ProfileData(**form.cleaned_data), request=request
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("基本信息已保存。"))
            return redirect("profiles:basic")
    ctx = {"form": form, "profile": profile, "menu": "profile"}
    return render(request, "profiles/basic.html", ctx)


# --------------------------------------------------------------------------- records


def _record_form(request, *, form, save, title, menu, back):
    """Shared add/edit flow of education, qualification and work-history records."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect(back)
    ctx = {"form": form, "title": title, "menu": menu, "back": back}
    return render(request, "profiles/record_form.html", ctx)


def _deleted(request, back):
    messages.success(request, _("已删除。"))
    return redirect(back)


EDUCATION_FIELDS = [
    "school",
    "major",
    "level",
    "degree",
    "graduation_date",
    "diploma_number",
    "degree_number",
    "is_highest",
]


@person_view
def education_list(request):
    items = selectors.educations_of(request.user)
    return render(request, "profiles/education_list.html", {"items": items, "menu": "education"})


def _education_form(request, current):
    initial = model_to_dict(current, fields=EDUCATION_FIELDS) if current else {}
    form = forms.EducationForm(request.POST or None, initial=initial, current=current)

    def save(data):
        data = services.EducationData(**data)
        if current is None:
            services.education_create(actor=request.user, data=data, request=request)
        else:
            services.education_update(
                actor=request.user, education=current, data=data, request=request
            )

    title = _("修改学历信息") if current else _("新增学历信息")
    return _record_form(
        request, form=form, save=save, title=title, menu="education", back="profiles:education"
    )


@person_view
def education_add(request):
    return _education_form(request, None)


@person_view
def education_edit(request, pk):
    return _education_form(request, access.education_for_owner(request.user, pk))


@require_POST
@person_view
def education_delete(request, pk):
    education = access.education_for_owner(request.user, pk)
    services.education_delete(actor=request.user, education=education, request=request)
    return _deleted(request, "profiles:education")


QUALIFICATION_FIELDS = ["qualification", "certificate_number", "issued_date"]


@person_view
def qualification_list(request):
    items = selectors.held_qualifications_of(request.user)
    ctx = {"items": items, "menu": "qualifications"}
    return render(request, "profiles/qualification_list.html", ctx)


def _qualification_form(request, current):
    initial = model_to_dict(current, fields=QUALIFICATION_FIELDS) if current else {}
    form = forms.HeldQualificationForm(request.POST or None, initial=initial, current=current)

    def save(data):
        data = services.HeldQualificationData(**data)
        if current is None:
            services.held_qualification_create(actor=request.user, data=data, request=request)
        else:
            services.held_qualification_update(
                actor=request.user, held=current, data=data, request=request
            )

    title = _("修改职业资格") if current else _("新增职业资格")
    return _record_form(
        request,
        form=form,
        save=save,
        title=title,
        menu="qualifications",
        back="profiles:qualifications",
    )


@person_view
def qualification_add(request):
    return _qualification_form(request, None)


@person_view
def qualification_edit(request, pk):
    return _qualification_form(request, access.held_qualification_for_owner(request.user, pk))


@require_POST
@person_view
def qualification_delete(request, pk):
    held = access.held_qualification_for_owner(request.user, pk)
    services.held_qualification_delete(actor=request.user, held=held, request=request)
    return _deleted(request, "profiles:qualifications")


WORK_FIELDS = [
    "kind",
    "employer",
    "organisation_name",
    "district",
    "role",
    "start_date",
    "end_date",
    "contract_start",
    "contract_end",
]


@person_view
def work_list(request):
    items = list(selectors.work_history_of(request.user))
    ctx = {
        "work": [i for i in items if i.kind == "work"],
        "study": [i for i in items if i.kind == "study"],
        "menu": "work",
    }
    return render(request, "profiles/work_list.html", ctx)


def _work_form(request, current):
    initial = model_to_dict(current, fields=WORK_FIELDS) if current else {}
    if current is None and request.GET.get("kind") in {"work", "study"}:
        initial["kind"] = request.GET["kind"]
    form = forms.WorkHistoryForm(request.POST or None, initial=initial, current=current)

    def save(data):
        data = services.WorkHistoryData(**data)
        if current is None:
            services.work_history_create(actor=request.user, data=data, request=request)
        else:
            services.work_history_update(
                actor=request.user, item=current, data=data, request=request
            )

    title = _("修改工作学习经历") if current else _("新增工作学习经历")
    return _record_form(
        request, form=form, save=save, title=title, menu="work", back="profiles:work"
    )


@person_view
def work_add(request):
    return _work_form(request, None)


@person_view
def work_edit(request, pk):
    return _work_form(request, access.work_history_for_owner(request.user, pk))


@require_POST
@person_view
def work_delete(request, pk):
    item = access.work_history_for_owner(request.user, pk)
    services.work_history_delete(actor=request.user, item=item, request=request)
    return _deleted(request, "profiles:work")


# --------------------------------------------------------------------------- materials


@applicant_view
def materials(request):
    types = material_types_for(request.user)
    form = forms.MaterialUploadForm(request.POST or None, request.FILES or None, types=types)
    if request.method == "POST" and form.is_valid():
        try:
            material = services.material_upload(
                request.user,
                form.cleaned_data["material_type"],
                form.cleaned_data["file"],
                request=request,
                types=types,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("“%(name)s”已上传（%(type)s）。")
                % {
                    "name": material.original_name,
                    "type": material_type_label(material.material_type, types),
                },
            )
            return redirect("profiles:materials")
    ctx = {
        "form": form,
        "groups": selectors.materials_by_type(request.user, types),
        "menu": "materials",
    }
    return render(request, "profiles/materials.html", ctx)


def _material_page(request, material, form=None):
    ctx = {
        "material": material,
        "type_label": material_type_label(material.material_type, material_types_for(request.user)),
        "form": form or forms.MaterialReplaceForm(),
        "menu": "materials",
    }
    return render(request, "profiles/material_detail.html", ctx)


@applicant_view
def material_detail(request, pk):
    return _material_page(request, access.material_for_owner(request.user, pk))


@require_POST
@applicant_view
def material_replace(request, pk):
    material = access.material_for_owner(request.user, pk)
    form = forms.MaterialReplaceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            material = services.material_replace(
                material, form.cleaned_data["file"], request=request, actor=request.user
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request, _("已重新上传“%(name)s”。") % {"name": material.original_name}
            )
            return redirect("profiles:material", pk=material.pk)
    return _material_page(request, material, form)


@require_POST
@applicant_view
def material_delete(request, pk):
    material = access.material_for_owner(request.user, pk)
    try:
        services.material_delete(material, request=request, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除“%(name)s”。") % {"name": material.original_name})
    return redirect("profiles:materials")


def _serve(material, *, inline: bool):
    return stored_file_response(
        material.file.name,
        content_type=material.content_type,
        filename=material.original_name,
        as_attachment=not (inline and material.previewable),
    )


@require_GET
@login_required
@xframe_options_sameorigin  # the preview page shows PDFs in an <iframe>
def material_file(request, pk):
    """The file inline (images and PDF; anything else is sent as a download)."""
    return _serve(access.material_for_viewer(request.user, pk), inline=True)


@require_GET
@login_required
def material_download(request, pk):
    return _serve(access.material_for_viewer(request.user, pk), inline=False)
