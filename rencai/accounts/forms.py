import re

from captcha.fields import CaptchaField
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rencai.accounts.models import User
from rencai.agency.catalog import qualification_choices
from rencai.errors import ServiceError
from rencai.identity import (
    clean_credit_code,
    clean_login_name,
    clean_phone,
    clean_real_name,
    clean_resident_id,
)
from rencai.orgs.models import Employer, Region


class ServiceErrorMixin:
    def add_service_error(self, exc: ServiceError) -> None:
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.message)


def _captcha():
    return CaptchaField(
        label=_("图形验证码"),
        help_text=_("请输入图片中的字符，看不清可点击图片更换。"),
        error_messages={"invalid": _("图形验证码不正确，请重新输入。")},
    )


def _sms_code():
    return forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        min_length=6,
        help_text=_("6位数字，5分钟内有效。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"min_length": _("短信验证码为6位数字。")},
    )


def _phone_field(label=None):
    return forms.CharField(
        label=label or _("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


_clean_login_name = clean_login_name


def _qualifications_field(choices):
    """资质情况 (F61): the active pack's agency qualifications, at least one ticked."""
    return forms.MultipleChoiceField(
        label=_("资质情况"),
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("选择您所具有的资质情况，可多选。"),
        error_messages={
            "required": _("请至少选择一项资质情况。"),
            "invalid_choice": _("资质情况中有未知的选项：%(value)s。"),
        },
    )


class PasswordPairMixin:
    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class PersonRegistrationForm(ServiceErrorMixin, PasswordPairMixin, forms.Form):
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=User.IdType.choices, initial=User.IdType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=30,
        help_text=_("居民身份证为18位，最后一位是 x 的将自动转为大写 X。"),
    )
    real_name = forms.CharField(
        label=_("姓名"),
        max_length=60,
        help_text=_("与证件一致，中间不要空格。"),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    gender = forms.ChoiceField(
        label=_("性别"),
        choices=[("", "—"), *User.Gender.choices],
        required=False,
        help_text=_("居民身份证由号码自动得出，其他证件请选择。"),
    )
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("居民身份证由号码自动得出，其他证件请填写。"),
    )
    employer = forms.ModelChoiceField(
        label=_("所在单位"),
        queryset=Employer.objects.none(),
        required=False,
        help_text=_("只能选择已通过审核的单位；找不到单位时，请单位先注册。"),
        empty_label=_("请选择单位"),
        # F29: site.js adds a keyword box that narrows the list as the person types.
        widget=forms.Select(attrs={"data-searchable": "1"}),
    )
    phone = _phone_field()
    sms_code = _sms_code()
    login_name = forms.CharField(
        label=_("登录名（选填）"),
        max_length=30,
        required=False,
        help_text=_("不填时用证件号码登录。"),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    email = forms.EmailField(label=_("电子邮箱（选填）"), required=False)
    password = forms.CharField(
        label=_("登录密码"),
        help_text=_("至少8位，不能全是数字，不能是常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    captcha = _captcha()
    accept_notice = forms.BooleanField(
        label=_("我已阅读并同意用户须知和个人申请承诺"),
        error_messages={"required": _("请阅读并同意用户须知和个人申请承诺。")},
    )

    def __init__(self, *args, employer_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].queryset = Employer.objects.filter(
            status=Employer.Status.APPROVED
        ).exclude(kind=Employer.Kind.VIRTUAL)
        self.fields["employer"].required = employer_required
        self.fields["employer"].error_messages["invalid_choice"] = _(
            "该单位尚未通过所属区县人社部门审核，暂不能选择。"
        )

    def clean_real_name(self):
        return clean_real_name(self.cleaned_data["real_name"])

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])

    def clean_login_name(self):
        return _clean_login_name(self.cleaned_data.get("login_name"))

    def clean(self):
        data = super().clean()
        id_type, raw = data.get("id_type"), data.get("id_number")
        if id_type and raw:
            if id_type == User.IdType.RESIDENT_ID:
                try:
                    rid = clean_resident_id(raw)
                except ValidationError as exc:
                    self.add_error("id_number", exc)
                else:
                    data["id_number"] = rid.number
                    data["birth_date"] = rid.birth_date
                    data["gender"] = rid.gender
            else:
                number = re.sub(r"\s+", "", raw).upper()
                if not re.fullmatch(r"[A-Z0-9]{6,30}", number):
                    self.add_error("id_number", _("证件号码只能包含字母和数字（6–30位）。"))
                data["id_number"] = number
                if not data.get("gender"):
                    self.add_error("gender", _("请选择性别。"))
                if not data.get("birth_date"):
                    self.add_error("birth_date", _("请填写出生日期。"))
        return data


class EmployerRegistrationForm(ServiceErrorMixin, PasswordPairMixin, forms.Form):
    KIND_CHOICES = [
        (Employer.Kind.ENTERPRISE, Employer.Kind.ENTERPRISE.label),
        (Employer.Kind.INSTITUTION, Employer.Kind.INSTITUTION.label),
        (Employer.Kind.DISPATCH, Employer.Kind.DISPATCH.label),
    ]
    name = forms.CharField(
        label=_("单位名称"), max_length=100, help_text=_("与营业执照或法人证书一致。")
    )
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        help_text=_("18位，字母将自动转为大写。"),
    )
    kind = forms.ChoiceField(label=_("单位类型"), choices=KIND_CHOICES)
    licence_number = forms.CharField(
        label=_("人力资源服务许可证编号"), max_length=50, required=False
    )
    district = forms.ModelChoiceField(
        label=_("所属区县"),
        queryset=Region.objects.filter(level=Region.Level.DISTRICT),
        empty_label=_("请选择区县"),
    )
    contact_name = forms.CharField(label=_("联系人（经办人）"), max_length=50)
    phone = _phone_field(_("联系人手机号码"))
    sms_code = _sms_code()
    login_name = forms.CharField(
        label=_("登录名（选填）"),
        max_length=30,
        required=False,
        help_text=_("不填时用统一社会信用代码登录。"),
    )
    email = forms.EmailField(label=_("电子邮箱（选填）"), required=False)
    password = forms.CharField(
        label=_("登录密码"),
        help_text=_("至少8位，不能全是数字，不能是常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    captcha = _captcha()
    accept_notice = forms.BooleanField(
        label=_("我已阅读并同意用户须知，承诺所填信息真实"),
        error_messages={"required": _("请阅读并同意用户须知。")},
    )

    def __init__(self, *args, agency: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        if agency:
            self.fields["kind"].choices = [(Employer.Kind.HR_AGENCY, Employer.Kind.HR_AGENCY.label)]
            self.fields["kind"].initial = Employer.Kind.HR_AGENCY
            self.fields["name"].label = _("机构名称")
            self.fields["licence_number"].required = True
            self.fields["contact_name"].label = _("经办人姓名")
            self.fields["phone"].label = _("经办人手机号码")
            choices = qualification_choices()
            if choices:
                self.fields["qualifications"] = _qualifications_field(choices)
                self.order_fields(["name", "credit_code", "kind", "qualifications"])
        else:
            del self.fields["licence_number"]

    def clean_credit_code(self):
        return clean_credit_code(self.cleaned_data["credit_code"])

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])

    def clean_contact_name(self):
        return clean_real_name(self.cleaned_data["contact_name"])

    def clean_login_name(self):
        return _clean_login_name(self.cleaned_data.get("login_name"))


class RegistrationChangeForm(ServiceErrorMixin, forms.Form):
    """注册信息变更 (F61): the details as in force, to edit; the service checks them again."""

    name = forms.CharField(label=_("机构名称"), max_length=100, help_text=_("输入机构名称全称。"))
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=30, help_text=_("18位，字母将自动转为大写。")
    )
    licence_number = forms.CharField(label=_("人力资源许可证编号"), max_length=50)
    contact_name = forms.CharField(
        label=_("经办人"), max_length=50, help_text=_("具体业务的经办人。")
    )
    phone = _phone_field(_("经办人手机"))

    def __init__(self, *args, agency: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = _("用于接收短信通知及找回密码。")
        if agency:
            choices = qualification_choices()
            if choices:
                self.fields["qualifications"] = _qualifications_field(choices)
                self.order_fields(["name", "credit_code", "qualifications"])
        else:
            del self.fields["licence_number"]
            self.fields["name"].label = _("单位名称")
            self.fields["name"].help_text = _("与营业执照或法人证书一致。")
            self.fields["contact_name"].label = _("联系人")
            self.fields["contact_name"].help_text = ""
            self.fields["phone"].label = _("联系人手机号码")

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_credit_code(self):
        return clean_credit_code(self.cleaned_data["credit_code"])

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])

    def clean_contact_name(self):
        return clean_real_name(self.cleaned_data["contact_name"])


class PasswordLoginForm(ServiceErrorMixin, forms.Form):
    identifier = forms.CharField(
        label=_("证件号码 / 统一社会信用代码 / 登录名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    captcha = _captcha()


class SmsLoginForm(ServiceErrorMixin, forms.Form):
    phone = _phone_field()
    sms_code = _sms_code()
    captcha = _captcha()

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])


class PasswordChangeForm(ServiceErrorMixin, forms.Form):
    old_password = forms.CharField(
        label=_("原密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label=_("新密码"),
        help_text=_("至少8位，不能全是数字，不能是常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("确认新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class TotpForm(ServiceErrorMixin, forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=24,
        help_text=_(
            "打开手机上的身份验证器应用，输入显示的6位数字；手机不在身边时可输入一个恢复码。"
        ),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
        error_messages={"required": _("请输入动态口令。")},
    )


class TotpEnrolForm(ServiceErrorMixin, forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=6,
        min_length=6,
        help_text=_("添加后，输入应用中显示的6位数字，确认绑定成功。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={
            "required": _("请输入动态口令。"),
            "min_length": _("动态口令为6位数字。"),
            "max_length": _("动态口令为6位数字。"),
        },
    )


class PhoneChangeForm(ServiceErrorMixin, forms.Form):
    phone = _phone_field(_("新手机号码"))
    sms_code = _sms_code()

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])


class AccountInfoForm(ServiceErrorMixin, forms.Form):
    real_name = forms.CharField(label=_("姓名"), max_length=60)
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    def clean_real_name(self):
        return clean_real_name(self.cleaned_data["real_name"])


class AccountCloseForm(ServiceErrorMixin, forms.Form):
    password = forms.CharField(
        label=_("请输入登录密码确认注销"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("我已知晓：注销后将不能再用此账号登录"),
        error_messages={"required": _("请勾选确认注销。")},
    )


class RegistrationResubmitForm(ServiceErrorMixin, forms.Form):
    real_name = forms.CharField(label=_("姓名"), max_length=60)
    employer = forms.ModelChoiceField(
        label=_("所在单位"),
        queryset=Employer.objects.filter(status=Employer.Status.APPROVED).exclude(
            kind=Employer.Kind.VIRTUAL
        ),
        empty_label=_("请选择单位"),
        widget=forms.Select(attrs={"data-searchable": "1"}),
    )

    def clean_real_name(self):
        return clean_real_name(self.cleaned_data["real_name"])


class EmployerResubmitForm(ServiceErrorMixin, forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=100)
    contact_name = forms.CharField(label=_("联系人"), max_length=50)

    def clean_contact_name(self):
        return clean_real_name(self.cleaned_data["contact_name"])


class ReviewForm(ServiceErrorMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[("approve", _("审核通过")), ("reject", _("审核不通过"))],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不通过时必填，申请人将看到这段意见。"),
    )
