"""Forms only parse input; the rules (dates, lists, files) live in services.py."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.accounts.forms import ServiceErrorMixin
from rencai.city import city_setting
from rencai.orgs.models import Employer, Region
from rencai.profiles.materials import (
    ACCEPT_ATTR,
    ALLOWED_EXTENSIONS,
    MATERIAL_TYPES,
    max_upload_bytes,
    size_text,
    user_quota_bytes,
)
from rencai.profiles.models import (
    ETHNICITY_CHOICES,
    Education,
    Party,
    Qualification,
    School,
    WorkHistory,
)


def _date_field(label, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def missing_from_list_hint(what: str) -> str:
    """How to ask for a school or qualification missing from the list (F14)."""
    return _(
        "列表中找不到%(what)s？请将%(what)s名称和您的联系方式发送到邮箱 %(mailbox)s，"
        "管理部门添加后会及时与您联系。"
    ) % {"what": what, "mailbox": city_setting("help_mailbox")}


class ProfileForm(ServiceErrorMixin, forms.Form):
    ethnicity = forms.ChoiceField(
        label=gettext_lazy("民族"), choices=[("", "—"), *ETHNICITY_CHOICES]
    )
    party = forms.ChoiceField(label=gettext_lazy("政治面貌"), choices=[("", "—"), *Party.choices])
    household_address = forms.CharField(
        label=gettext_lazy("户籍地址"),
        max_length=200,
        help_text=gettext_lazy("与户口簿一致，写到门牌号。"),
    )
    current_address = forms.CharField(
        label=gettext_lazy("现居住地址"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    position = forms.CharField(
        label=gettext_lazy("职务/岗位"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )


class EducationForm(ServiceErrorMixin, forms.Form):
    school = forms.ModelChoiceField(
        label=gettext_lazy("毕业学校"),
        queryset=School.objects.none(),
        empty_label=gettext_lazy("请选择学校"),
    )
    major = forms.CharField(label=gettext_lazy("所学专业"), max_length=100)
    level = forms.ChoiceField(
        label=gettext_lazy("学历"), choices=[("", "—"), *Education.Level.choices]
    )
    degree = forms.ChoiceField(
        label=gettext_lazy("学位"),
        choices=Education.Degree.choices,
        initial=Education.Degree.NONE,
        help_text=gettext_lazy("大专学历请选择“无”。"),
    )
    graduation_date = _date_field(
        gettext_lazy("毕业时间"), help_text=gettext_lazy("以毕业证书上的日期为准。")
    )
    diploma_number = forms.CharField(label=gettext_lazy("毕业证书编号"), max_length=40)
    degree_number = forms.CharField(
        label=gettext_lazy("学位证书编号"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("有学位的必填。"),
    )
    is_highest = forms.BooleanField(label=gettext_lazy("这是我的最高学历"), required=False)

    def __init__(self, *args, current: Education | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        schools = School.objects.filter(active=True)
        if current is not None:
            schools = schools | School.objects.filter(pk=current.school_id)
        self.fields["school"].queryset = schools.order_by("name")
        self.fields["school"].help_text = missing_from_list_hint(_("学校"))


class HeldQualificationForm(ServiceErrorMixin, forms.Form):
    qualification = forms.ModelChoiceField(
        label=gettext_lazy("职业资格"),
        queryset=Qualification.objects.none(),
        empty_label=gettext_lazy("请选择职业资格"),
    )
    certificate_number = forms.CharField(label=gettext_lazy("证书编号"), max_length=40)
    issued_date = _date_field(gettext_lazy("发证日期"))

    def __init__(self, *args, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        items = Qualification.objects.filter(active=True)
        if current is not None:
            items = items | Qualification.objects.filter(pk=current.qualification_id)
        self.fields["qualification"].queryset = items.order_by("name", "-level")
        self.fields["qualification"].help_text = missing_from_list_hint(_("职业资格"))


class WorkHistoryForm(ServiceErrorMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("经历类型"),
        choices=WorkHistory.Kind.choices,
        initial=WorkHistory.Kind.WORK,
        widget=forms.RadioSelect,
    )
    employer = forms.ModelChoiceField(
        label=gettext_lazy("平台上的单位（选填）"),
        queryset=Employer.objects.none(),
        required=False,
        empty_label=gettext_lazy("不在列表中"),
        help_text=gettext_lazy("工作单位已在本平台注册的，请从列表中选择。"),
    )
    organisation_name = forms.CharField(
        label=gettext_lazy("单位/学校名称"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("已从上面选择单位的可不填。"),
    )
    district = forms.ModelChoiceField(
        label=gettext_lazy("所在区县"),
        queryset=Region.objects.none(),
        required=False,
        empty_label=gettext_lazy("本市以外"),
    )
    role = forms.CharField(label=gettext_lazy("职务/专业"), max_length=100, required=False)
    start_date = _date_field(gettext_lazy("开始日期"))
    end_date = _date_field(
        gettext_lazy("结束日期"), required=False, help_text=gettext_lazy("至今的请留空。")
    )
    contract_start = _date_field(
        gettext_lazy("劳动合同开始日期"),
        required=False,
        help_text=gettext_lazy("仅工作经历填写。"),
    )
    contract_end = _date_field(
        gettext_lazy("劳动合同结束日期"),
        required=False,
        help_text=gettext_lazy("无固定期限劳动合同请留空。"),
    )

    def __init__(self, *args, current: WorkHistory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        employers = Employer.objects.filter(status=Employer.Status.APPROVED).exclude(
            kind=Employer.Kind.VIRTUAL
        )
        if current is not None and current.employer_id:
            employers = employers | Employer.objects.filter(pk=current.employer_id)
        self.fields["employer"].queryset = employers.order_by("name")
        self.fields["district"].queryset = Region.objects.filter(level=Region.Level.DISTRICT)


def _file_field():
    return forms.FileField(
        label=gettext_lazy("文件"),
        widget=forms.FileInput(attrs={"accept": ACCEPT_ATTR}),
        error_messages={"required": gettext_lazy("请选择要上传的文件。")},
        allow_empty_file=True,  # the service refuses it, naming the file
    )


def _file_hint() -> str:
    hint = _("可上传 %(allowed)s 格式的文件，每个不超过 %(limit)s。") % {
        "allowed": "、".join(ALLOWED_EXTENSIONS),
        "limit": size_text(max_upload_bytes()),
    }
    if user_quota_bytes():
        hint += _("您的全部材料合计不超过 %(quota)s。") % {"quota": size_text(user_quota_bytes())}
    return hint


class MaterialUploadForm(ServiceErrorMixin, forms.Form):
    material_type = forms.ChoiceField(label=gettext_lazy("材料类型"))
    file = _file_field()

    def __init__(self, *args, types: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        types = types or MATERIAL_TYPES
        self.fields["material_type"].choices = [("", "—"), *types.items()]
        self.fields["file"].help_text = _file_hint()


class MaterialReplaceForm(ServiceErrorMixin, forms.Form):
    file = _file_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = _("新文件")
        self.fields["file"].help_text = _file_hint()
