"""The application form, built from the program's definition (B1). Drafts may be saved
half-filled: required fields are marked and checked at submission by the pre-check, but
what is typed must have the right shape (a month is a month) to be kept."""

import datetime
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from rencai.applications import uploads
from rencai.errors import ServiceError
from rencai.params import parse_id
from rencai.programs import months as m


class MonthInput(forms.TextInput):
    input_type = "month"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _month_field(spec):
    def validate(value):
        if value:
            try:
                m.parse_month(value)
            except ValueError:
                raise forms.ValidationError(_("请按“年-月”填写，例如 2024-03。")) from None

    return forms.CharField(
        max_length=7,
        validators=[validate],
        widget=MonthInput(attrs={"placeholder": "2024-03"}),
    )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleaned to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, (list, tuple)):
            return [one(item, initial) for item in data if item]
        return [one(data, initial)] if data else []


def build_field(spec: dict) -> forms.Field:
    kind = spec["type"]
    if kind == "text":
        field = forms.CharField(max_length=200)
    elif kind == "textarea":
        field = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    elif kind == "integer":
        field = forms.IntegerField(min_value=spec.get("min"), max_value=spec.get("max"))
    elif kind == "decimal":
        field = forms.DecimalField(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal(str(spec["min"])) if "min" in spec else None,
            max_value=Decimal(str(spec["max"])) if "max" in spec else None,
        )
    elif kind == "date":
        field = forms.DateField(widget=DateInput())
    elif kind == "month":
        field = _month_field(spec)
    elif kind == "choice":
        field = forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in spec["choices"]])
    elif kind == "talent_level":
        # F46: the category, with its summary (e.g. "国家级领军人才")
        field = forms.ChoiceField(
            choices=[(lv["code"], lv["name"]) for lv in spec["levels"]],
            widget=forms.RadioSelect,
        )
    elif kind == "talent_criteria":
        # F46: the honours and qualifications (multi-select), grouped by category
        field = forms.MultipleChoiceField(
            choices=[
                (lv["name"], [(c["code"], c["text"]) for c in lv["criteria"]])
                for lv in spec["levels"]
            ],
            widget=forms.CheckboxSelectMultiple,
        )
    elif kind in ("station", "community"):
        # F51, F52: a talent station or an apartment community, from rencai.housing
        from rencai.housing import services as housing

        options = housing.station_choices() if kind == "station" else housing.community_choices()
        field = forms.ChoiceField(choices=[("", "—")] + [(str(k), v) for k, v in options])
    elif kind == "service_category":
        # AGENCY (F56): the pack's HR-service categories
        field = forms.ChoiceField(
            choices=[("", "—")] + [(c["code"], c["name"]) for c in spec["categories"]]
        )
    else:  # bool
        field = forms.BooleanField()
    field.required = False
    field.label = spec["label"]
    field.help_text = spec.get("help", "")
    field.marked_required = spec["required"]
    return field


class ApplicationForm(forms.Form):
    def __init__(
        self,
        definition: dict,
        *args,
        materials_of_owner=(),
        attached=None,
        work_history=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.definition = definition
        for spec in definition["fields"]:
            self.fields[spec["code"]] = build_field(spec)
        if definition.get("dispatch"):
            # F17: a dispatched person names the dispatching company; it approves too.
            from rencai.orgs.models import Employer

            self.fields["dispatcher"] = forms.ChoiceField(
                label=_("劳务派遣公司"),
                required=False,
                choices=[("", _("不是派遣人员"))]
                + [
                    (str(e.pk), e.name)
                    for e in Employer.objects.filter(
                        kind=Employer.Kind.DISPATCH, status=Employer.Status.APPROVED
                    ).order_by("name")
                ],
                help_text=_(
                    "由劳务派遣公司派遣到所在单位工作的，请选择派遣公司；"
                    "派遣公司和所在单位都审核通过后，申报才进入下一环节。"
                ),
            )
            self.fields["dispatcher"].marked_required = False
        if definition.get("cross_county") and work_history is not None:
            # F26: a bachelor who changed county declares through an employer chosen from
            # the work history; the system routes it (same county → the current employer,
            # another county → that county's virtual employer).
            self.fields["declaring_work"] = forms.ChoiceField(
                label=_("申报单位（从工作经历中选择）"),
                required=False,
                choices=[("", _("现任职单位"))]
                + [
                    (str(w.pk), f"{w.organisation_name}（{w.district or ''}）")
                    for w in work_history
                ],
                help_text=_(
                    "本科生跨区县就业的可选择原单位：与现任职单位在同一区县的，申报到现任职单位；"
                    "在其他区县的，申报到该区县的虚拟单位。硕士、博士固定为现任职单位。"
                ),
            )
            self.fields["declaring_work"].marked_required = False
        attached = attached or {}
        by_type: dict[str, list] = {}
        for material in materials_of_owner:
            by_type.setdefault(material.material_type, []).append(material)
        self.material_specs = []
        for spec in definition["materials"]:
            name = f"material_{spec['type']}"
            options = by_type.get(spec["type"], [])
            field = forms.MultipleChoiceField(
                label=spec["label"],
                required=False,
                choices=[(str(x.pk), x.original_name) for x in options],
                widget=forms.CheckboxSelectMultiple,
                help_text=spec.get("help", ""),
            )
            field.marked_required = spec["required"]
            field.material_type = spec["type"]
            self.fields[name] = field
            self.initial.setdefault(name, [str(pk) for pk in attached.get(spec["type"], [])])
            # F60: upload a new file right here; it joins the library when the form saves.
            upload_name = uploads.upload_field(spec["type"])
            hint_id = f"id_{upload_name}_hint"
            upload = MultipleFileField(
                label=_("%(m)s（上传新文件）") % {"m": spec["label"]},
                required=False,
                widget=MultipleFileInput(
                    attrs={"accept": uploads.accept_attr(spec), "aria-describedby": hint_id}
                ),
            )
            upload.hint = uploads.upload_hint(spec)
            upload.hint_id = hint_id
            self.fields[upload_name] = upload
            self.material_specs.append((spec, name, options, upload_name))

    def field_specs(self):
        fields = [self[spec["code"]] for spec in self.definition["fields"]]
        for extra in ("dispatcher", "declaring_work"):
            if extra in self.fields:
                fields.append(self[extra])
        return fields

    def material_fields(self):
        """(spec, the library checkboxes, the library materials, the upload input)."""
        return [
            (spec, self[name], options, self[upload_name])
            for spec, name, options, upload_name in self.material_specs
        ]

    def clean(self):
        data = super().clean()
        for spec, _name, _options, upload_name in self.material_specs:
            files = data.get(upload_name) or []
            getlist = getattr(self.data, "getlist", None)
            raw = getlist(upload_name) if getlist else [self.data.get(upload_name)]
            posted = [v for v in raw if v]
            if posted and upload_name not in self.files:
                # text posted where a file belongs (an empty file input sends nothing)
                files = posted[:1]
            try:
                uploads.check_file_count(spec, files)
            except ServiceError as exc:
                self.add_error(upload_name, exc.message)
                continue
            for uploaded in files:
                try:
                    uploads.check_material_file(spec, uploaded)
                except ServiceError as exc:
                    self.add_error(upload_name, exc.message)
        level_spec = next(
            (f for f in self.definition["fields"] if f["type"] == "talent_level"), None
        )
        if level_spec is not None:
            criteria_spec = next(
                f for f in self.definition["fields"] if f["type"] == "talent_criteria"
            )
            level = next(
                (lv for lv in level_spec["levels"] if lv["code"] == data.get(level_spec["code"])),
                None,
            )
            allowed = {c["code"] for c in level["criteria"]} if level else set()
            chosen = data.get(criteria_spec["code"]) or []
            if chosen and level is None:
                self.add_error(level_spec["code"], _("请先选择人才分类。"))
            elif set(chosen) - allowed:
                self.add_error(
                    criteria_spec["code"],
                    _("所选荣誉资质须属于所选的人才分类“%(l)s”。") % {"l": level["name"]},
                )
        if self.definition.get("housing") == "station":
            start, end = data.get("date_from"), data.get("date_to")
            if start and end and end < start:
                self.add_error("date_to", _("退房日期不能早于入住日期。"))
        period = self.definition.get("period")
        if period:
            start, end = data.get(period["start"]), data.get(period["end"])
            if start and end and m.parse_month(end) < m.parse_month(start):
                self.add_error(period["end"], _("申请结束时间不能早于开始时间。"))
            deducted_code, explanation_code = period.get("deducted"), period.get("explanation")
            if deducted_code and explanation_code and data.get(deducted_code):
                text = (data.get(explanation_code) or "").strip()
                if not text or text == "无":
                    self.add_error(
                        explanation_code, _("扣减月数不为0时，请在情况说明中写明具体情况。")
                    )
        return data

    def to_data(self) -> dict:
        """The cleaned values as JSON: dates ISO, decimals as text, empty as missing."""
        out = {}
        for spec in self.definition["fields"]:
            value = self.cleaned_data.get(spec["code"])
            if value in (None, "", []) or (spec["type"] == "bool" and value is False):
                continue
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            out[spec["code"]] = value
        for extra in ("dispatcher", "declaring_work"):
            if self.cleaned_data.get(extra):
                out[extra] = int(self.cleaned_data[extra])
        return out

    def to_materials(self) -> dict[str, list[int]]:
        return {
            spec["type"]: [int(pk) for pk in self.cleaned_data.get(name) or []]
            for spec, name, _options, _upload in self.material_specs
        }

    def to_uploads(self) -> dict[str, list]:
        """Material type -> the files uploaded for it (already checked by ``clean``;
        ``draft_save`` checks them again before storing)."""
        return {
            spec["type"]: self.cleaned_data.get(upload_name) or []
            for spec, _name, _options, upload_name in self.material_specs
        }


def initial_from(definition: dict, data: dict) -> dict:
    initial = {k: str(data[k]) for k in ("dispatcher", "declaring_work") if data.get(k)}
    for spec in definition["fields"]:
        if spec["code"] in data:
            initial[spec["code"]] = data[spec["code"]]
        elif "default" in spec:
            initial[spec["code"]] = spec["default"]
    return initial


def initial_from_query(definition: dict, query) -> dict:
    """A new application opened from a station or community page (申请入住) starts with
    that place chosen; a keep-grade form opened from a result, with its category."""
    initial = initial_from(definition, {})
    for spec in definition["fields"]:
        if spec["type"] in ("station", "community") and parse_id(query.get(spec["type"])):
            initial[spec["code"]] = str(parse_id(query[spec["type"]]))
        if spec["type"] == "service_category" and query.get("service_category") in {
            c["code"] for c in spec["categories"]
        }:
            # 保级 from the results list (F59) opens the form with its category
            initial[spec["code"]] = query["service_category"]
    return initial


class CommitmentForm(forms.Form):
    commitment = forms.BooleanField(required=False)


class ReviewActionForm(forms.Form):
    ACTIONS = [
        ("approve", _("审核通过")),
        ("return", _("回退（退回申请人修改）")),
        ("reject", _("审核不通过")),
    ]
    action = forms.ChoiceField(label=_("审核结果"), choices=ACTIONS, widget=forms.RadioSelect)
    opinion = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("回退和不通过时必须填写原因，申请人会看到。"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
