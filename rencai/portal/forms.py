from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _


class ObjectionForm(forms.Form):
    """An objection to one entry of a public notice (F41). Anyone may file one; the
    captcha keeps robots out."""

    entry = forms.IntegerField(
        label=_("对哪一条有异议"),
        widget=forms.Select,
        help_text=_("列出本页的名单；其他人员请先翻到其所在的页，或点击该行的“提出异议”。"),
    )
    name = forms.CharField(label=_("反映人姓名"), max_length=60)
    contact = forms.CharField(
        label=_("联系方式"), max_length=60, help_text=_("手机号或邮箱，仅用于公示单位核实情况。")
    )
    content = forms.CharField(
        label=_("异议内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    captcha = CaptchaField(label=_("图形验证码"))

    def __init__(self, *args, entries, shown, **kwargs):
        """``entries``: the notice's whole list (what may be objected to); ``shown``: the
        entries of the page on screen, offered in the list. A notice of 10,000 people
        does not put 10,000 options in the page (issue 7)."""
        super().__init__(*args, **kwargs)
        self.entries = entries
        shown = list(shown)
        chosen = self.data.get("entry") or self.initial.get("entry")
        if chosen and str(chosen).isdigit() and all(str(e.pk) != str(chosen) for e in shown):
            shown += list(entries.filter(pk=int(chosen)))  # keep the choice made elsewhere
        self.fields["entry"].widget.choices = [("", "—")] + [
            (str(e.pk), f"{e.masked_name} · {e.employer_name} · {e.program_name}") for e in shown
        ]

    def clean_entry(self):
        pk = self.cleaned_data["entry"]
        if not self.entries.filter(pk=pk).exists():
            raise forms.ValidationError(_("请从公示名单中选择一条。"))
        return pk


class MatchForm(forms.Form):
    """Policy matching (F50): a few conditions, no login needed."""

    education = forms.ChoiceField(
        label=_("最高学历"),
        required=False,
        choices=[
            ("", _("无（高中及以下）")),
            ("college", _("大专")),
            ("bachelor", _("本科")),
            ("master", _("硕士研究生")),
            ("doctor", _("博士研究生")),
        ],
    )
    qualification = forms.BooleanField(label=_("已取得职业资格（技能等级）证书"), required=False)
    employed = forms.BooleanField(label=_("在本市用人单位就业"), required=False)
    talent_level = forms.ChoiceField(
        label=_("人才分类"), required=False, help_text=_("已认定或符合条件的人才类型。")
    )
    first_contract = forms.DateField(
        label=_("首次在本市签订劳动合同的日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("部分补贴按首次签订劳动合同的时间区分。"),
    )

    def __init__(self, *args, **kwargs):
        from rencai.talent.services import levels

        super().__init__(*args, **kwargs)
        self.fields["talent_level"].choices = [("", _("未认定"))] + [
            (lv["code"], lv["name"]) for lv in levels()
        ]
        if len(self.fields["talent_level"].choices) == 1:
            del self.fields["talent_level"]
