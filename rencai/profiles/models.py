"""The applicant's profile (F13), the managed lists it chooses from (F14), work and study
history (F15) and uploaded materials (F16). Every write goes through ``services.py``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# --------------------------------------------------------------------------- managed lists


class School(models.Model):
    """A school or university of the managed list (F14)."""

    name = models.CharField(_("学校名称"), max_length=100, unique=True)
    code = models.CharField(_("院校代码"), max_length=20, blank=True)
    region = models.CharField(_("所在地区"), max_length=50, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("学校")
        verbose_name_plural = _("学校列表")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="school_unique_code"
            )
        ]

    def __str__(self):
        return self.name


class Qualification(models.Model):
    """A vocational qualification (职业资格 / 职业技能等级) of the managed list (F14)."""

    class Level(models.TextChoices):
        LEVEL_5 = "5", _("五级/初级工")
        LEVEL_4 = "4", _("四级/中级工")
        LEVEL_3 = "3", _("三级/高级工")
        LEVEL_2 = "2", _("二级/技师")
        LEVEL_1 = "1", _("一级/高级技师")

    name = models.CharField(_("职业（工种）名称"), max_length=100)
    level = models.CharField(_("等级"), max_length=1, choices=Level.choices)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name", "-level"]
        verbose_name = _("职业资格")
        verbose_name_plural = _("职业资格列表")
        constraints = [
            models.UniqueConstraint(fields=["name", "level"], name="qualification_unique_level")
        ]

    def __str__(self):
        return f"{self.name}（{self.get_level_display()}）"


# --------------------------------------------------------------------------- profile

# GB/T 3304 codes of China's 56 ethnic groups, and the two codes for others.
ETHNICITY_CHOICES = [
    ("01", _("汉族")),
    ("02", _("蒙古族")),
    ("03", _("回族")),
    ("04", _("藏族")),
    ("05", _("维吾尔族")),
    ("06", _("苗族")),
    ("07", _("彝族")),
    ("08", _("壮族")),
    ("09", _("布依族")),
    ("10", _("朝鲜族")),
    ("11", _("满族")),
    ("12", _("侗族")),
    ("13", _("瑶族")),
    ("14", _("白族")),
    ("15", _("土家族")),
    ("16", _("哈尼族")),
    ("17", _("哈萨克族")),
    ("18", _("傣族")),
    ("19", _("黎族")),
    ("20", _("傈僳族")),
    ("21", _("佤族")),
    ("22", _("畲族")),
    ("23", _("高山族")),
    ("24", _("拉祜族")),
    ("25", _("水族")),
    ("26", _("东乡族")),
    ("27", _("纳西族")),
    ("28", _("景颇族")),
    ("29", _("柯尔克孜族")),
    ("30", _("土族")),
    ("31", _("达斡尔族")),
    ("32", _("仫佬族")),
    ("33", _("羌族")),
    ("34", _("布朗族")),
    ("35", _("撒拉族")),
    ("36", _("毛南族")),
    ("37", _("仡佬族")),
    ("38", _("锡伯族")),
    ("39", _("阿昌族")),
    ("40", _("普米族")),
    ("41", _("塔吉克族")),
    ("42", _("怒族")),
    ("43", _("乌孜别克族")),
    ("44", _("俄罗斯族")),
    ("45", _("鄂温克族")),
    ("46", _("德昂族")),
    ("47", _("保安族")),
    ("48", _("裕固族")),
    ("49", _("京族")),
    ("50", _("塔塔尔族")),
    ("51", _("独龙族")),
    ("52", _("鄂伦春族")),
    ("53", _("赫哲族")),
    ("54", _("门巴族")),
    ("55", _("珞巴族")),
    ("56", _("基诺族")),
    ("97", _("其他")),
    ("98", _("外国血统中国籍人士")),
]


class Party(models.TextChoices):
    """Political affiliation, GB/T 4762 codes."""

    CPC_MEMBER = "01", _("中共党员")
    CPC_PROBATIONARY = "02", _("中共预备党员")
    CYL_MEMBER = "03", _("共青团员")
    RCCK = "04", _("民革党员")
    CDL = "05", _("民盟盟员")
    CDNCA = "06", _("民建会员")
    CAPD = "07", _("民进会员")
    CPWDP = "08", _("农工党党员")
    CZGP = "09", _("致公党党员")
    JIUSAN = "10", _("九三学社社员")
    TDSGL = "11", _("台盟盟员")
    NON_PARTISAN = "12", _("无党派人士")
    MASSES = "13", _("群众")


class Profile(models.Model):
    """What a person adds to the identity facts of the account (F13). Gender and birth date
    live on the user (derived from the ID number) and are shown read-only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    ethnicity = models.CharField(_("民族"), max_length=2, choices=ETHNICITY_CHOICES, blank=True)
    party = models.CharField(_("政治面貌"), max_length=2, choices=Party.choices, blank=True)
    household_address = models.CharField(_("户籍地址"), max_length=200, blank=True)
    current_address = models.CharField(_("现居住地址"), max_length=200, blank=True)
    position = models.CharField(_("职务/岗位"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("个人基本信息")
        verbose_name_plural = _("个人基本信息")

    def __str__(self):
        return str(self.user)


class Education(models.Model):
    class Level(models.TextChoices):
        COLLEGE = "college", _("大专")
        BACHELOR = "bachelor", _("本科")
        MASTER = "master", _("硕士研究生")
        DOCTOR = "doctor", _("博士研究生")

    class Degree(models.TextChoices):
        NONE = "none", _("无")
        BACHELOR = "bachelor", _("学士")
        MASTER = "master", _("硕士")
        DOCTOR = "doctor", _("博士")

    # Higher number = higher education level; used to find the highest education.
    LEVEL_RANK = {"college": 1, "bachelor": 2, "master": 3, "doctor": 4}

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="educations"
    )
    school = models.ForeignKey(School, verbose_name=_("毕业学校"), on_delete=models.PROTECT)
    major = models.CharField(_("所学专业"), max_length=100)
    level = models.CharField(_("学历"), max_length=10, choices=Level.choices)
    degree = models.CharField(_("学位"), max_length=10, choices=Degree.choices, default=Degree.NONE)
    graduation_date = models.DateField(_("毕业时间"))
    diploma_number = models.CharField(_("毕业证书编号"), max_length=40)
    degree_number = models.CharField(_("学位证书编号"), max_length=40, blank=True)
    is_highest = models.BooleanField(_("最高学历"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-graduation_date", "-id"]
        verbose_name = _("学历信息")
        verbose_name_plural = _("学历信息")
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_highest=True), name="education_one_highest"
            )
        ]

    def __str__(self):
        return f"{self.school} {self.major} {self.get_level_display()}"


class HeldQualification(models.Model):
    """A vocational qualification certificate a person holds."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="held_qualifications"
    )
    qualification = models.ForeignKey(
        Qualification, verbose_name=_("职业资格"), on_delete=models.PROTECT
    )
    certificate_number = models.CharField(_("证书编号"), max_length=40)
    issued_date = models.DateField(_("发证日期"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_date", "-id"]
        verbose_name = _("持有的职业资格")
        verbose_name_plural = _("持有的职业资格")

    def __str__(self):
        return str(self.qualification)


class WorkHistory(models.Model):
    """One period of work or study (F15)."""

    class Kind(models.TextChoices):
        WORK = "work", _("工作经历")
        STUDY = "study", _("学习经历")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_history"
    )
    kind = models.CharField(_("类型"), max_length=5, choices=Kind.choices, default=Kind.WORK)
    organisation_name = models.CharField(_("单位/学校名称"), max_length=100)
    employer = models.ForeignKey(
        "orgs.Employer",
        verbose_name=_("平台上的单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    district = models.ForeignKey(
        "orgs.Region",
        verbose_name=_("所在区县"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.CharField(_("职务/专业"), max_length=100, blank=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    contract_start = models.DateField(_("劳动合同开始日期"), null=True, blank=True)
    contract_end = models.DateField(_("劳动合同结束日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("工作学习经历")
        verbose_name_plural = _("工作学习经历")

    def __str__(self):
        return f"{self.organisation_name} {self.start_date:%Y-%m}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None


# --------------------------------------------------------------------------- materials


class Material(models.Model):
    """One uploaded file (F16). The file lives in the default storage under a path nobody
    can guess, and is served only through the view that checks the viewer's right."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="materials"
    )
    material_type = models.CharField(_("材料类型"), max_length=40, db_index=True)
    file = models.FileField(_("文件"), max_length=255)
    original_name = models.CharField(_("文件名"), max_length=120)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        ordering = ["material_type", "-uploaded_at", "-id"]
        verbose_name = _("材料")
        verbose_name_plural = _("材料")
        indexes = [models.Index(fields=["owner", "material_type"])]

    def __str__(self):
        return self.original_name

    @property
    def extension(self) -> str:
        return self.original_name.rsplit(".", 1)[-1].lower() if "." in self.original_name else ""

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def previewable(self) -> bool:
        return self.is_image or self.is_pdf
