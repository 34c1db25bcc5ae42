"""Applications and their history. Every change of state is made by
``rencai.applications.transitions`` and leaves an ``ApplicationEvent`` (F36); every save
of the filled form leaves an ``ApplicationVersion`` (F35), so modified and deleted
versions stay readable."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.fields import EncryptedCharField
from rencai.orgs.models import Authority, Employer
from rencai.programs.models import Program, ProgramVersion

# What each event's action is called in the timeline, the PDF and the history.
ACTION_NAMES = {
    "create": _("新建暂存"),
    "reapply": _("重新申请"),
    "delete": _("删除暂存"),
    "submit": _("提交"),
    "resubmit": _("修改后重新提交"),
    "withdraw": _("撤回"),
    "approve": _("审核通过"),
    "return": _("回退"),
    "reject": _("审核不通过"),
    "publish": _("进入公示"),
    "objection": _("收到公示异议"),
    "pull_back": _("公示异议成立，撤回复核"),
    "notice_pass": _("公示期满通过"),
    "payout_batch": _("列入拨付批次"),
    "paid": _("已拨付"),
    "payout_failed": _("拨付失败"),
    "confirm": _("个人确认到账"),
    "report": _("汇总上报"),
    "report_accept": _("上级接收汇总报告"),
    "report_return": _("汇总报告退回"),
    "gap_supply": _("补充容缺材料"),
    "gap_clear": _("容缺解除"),
    "gap_refuse": _("容缺材料不符，退回补充"),
    "cancel": _("资格取消"),
    # AGENCY (F58): a reviewer scored one indicator differently, with the reason
    "score_adjust": _("调整指标得分"),
}
VERSION_REASONS = {
    "created": _("新建"),
    "saved": _("修改"),
    "submitted": _("提交"),
    "deleted": _("删除"),
}


class Application(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("暂存")
        SUBMITTED = "submitted", _("已提交")
        IN_REVIEW = "in_review", _("审核中")
        RETURNED = "returned", _("已回退")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核不通过")
        TO_CONFIRM = "to_confirm", _("个人拨付待确认")
        CONFIRMED = "confirmed", _("已确认到账")
        # F47: a 容缺 gap not filled by its deadline, or the category it depends on lost
        CANCELLED = "cancelled", _("已取消")

    class ClaimKind(models.TextChoices):
        NEW = "new", _("新申请")
        RENEWAL = "renewal", _("续申请")

    # Issue 7: every transition rewrites the row and so every index on it; the table keeps
    # only the indexes a query uses. Unique by constraint (a plain index: numbers are never
    # searched by prefix, so no varchar_pattern_ops copy as unique=True would add).
    number = models.CharField(_("申报编号"), max_length=20, null=True, blank=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="applications")
    # programs' versions are never deleted, nor applications looked up by version
    program_version = models.ForeignKey(
        ProgramVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # looked up by the (applicant, program, state) index
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    employer = models.ForeignKey(
        Employer,
        verbose_name=_("申报单位"),
        on_delete=models.PROTECT,
        related_name="applications",
        null=True,
        blank=True,
    )
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.DRAFT)
    chain = models.PositiveSmallIntegerField(_("审核流程"), default=0)
    stage = models.PositiveSmallIntegerField(_("当前环节"), default=0)
    # Who acts at the current stage: exactly one of these while submitted / in review.
    # Each is looked up by its (stage_…, state, id) index below.
    stage_employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    stage_authority = models.ForeignKey(
        Authority,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # An "all of" stage (F17) waits for a second employer too: the dispatching company.
    stage_employer_also = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # read from the application, never searched by
    dispatcher = models.ForeignKey(
        Employer,
        verbose_name=_("劳务派遣公司"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispatched_applications",
        db_index=False,
    )
    # The current stage's kind (review, all_of, notice, batch_report, payout, confirm), so
    # each desk selects its items in SQL; "" when no stage is current.
    stage_kind = models.CharField(max_length=12, blank=True, default="")
    # When the application reached its current stage: queues sort by waiting time and
    # flag what waits past the stage's deadline (B6).
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    returned_from_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(_("填报内容"), default=dict)
    commitment_accepted_at = models.DateTimeField(null=True, blank=True)
    period_start = models.DateField(_("申请开始月份"), null=True, blank=True)
    period_end = models.DateField(_("申请结束月份"), null=True, blank=True)
    months = models.PositiveIntegerField(_("申请月数"), null=True, blank=True)
    amount = models.DecimalField(
        _("申请金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    claim_kind = models.CharField(
        _("申请类型"), max_length=10, choices=ClaimKind.choices, blank=True
    )
    upgrade_number = models.PositiveSmallIntegerField(_("第几次提升"), null=True, blank=True)
    last_opinion = models.TextField(_("最近审核意见"), blank=True)
    previous = models.ForeignKey(
        "self",
        verbose_name=_("原申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reapplications",
        db_index=False,  # read from the new application, never searched by
    )
    version = models.PositiveIntegerField(default=1)
    # Idempotency (issue 7): the token of the form or API call that created the draft; a
    # retried create with the same token returns this application instead of another.
    client_token = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("申报")
        verbose_name_plural = _("申报")
        indexes = [
            models.Index(fields=["applicant", "program", "state"]),
            models.Index(fields=["stage_authority", "state", "id"]),
            models.Index(fields=["stage_authority", "stage_kind", "state", "id"]),
            models.Index(fields=["stage_employer", "state", "id"]),
            models.Index(fields=["stage_employer_also", "state", "id"]),
            # The workbench pages through its queue by waiting time.
            models.Index(fields=["stage_entered_at", "id"]),
            models.Index(fields=["state"], name="application_state"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="application_unique_number"),
            models.UniqueConstraint(
                fields=["applicant", "client_token"],
                condition=models.Q(client_token__isnull=False),
                name="application_unique_client_token",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["submitted", "in_review"])
                | models.Q(stage_employer__isnull=False)
                | models.Q(stage_authority__isnull=False),
                name="application_an_actor_while_in_review",
            ),
            # Only a draft is ever deleted (draft_delete), so what waits in a review queue
            # is never deleted: the queues count by the stage index alone (issue 7).
            models.CheckConstraint(
                condition=~models.Q(state__in=["submitted", "in_review"])
                | models.Q(deleted_at__isnull=True),
                name="application_not_deleted_while_in_review",
            ),
        ]

    def __str__(self):
        return f"{self.number or _('草稿')} {self.program.name}"

    @property
    def definition(self) -> dict:
        return self.program_version.definition

    @property
    def stages(self) -> list[dict]:
        return self.definition["chains"][self.chain]["stages"]

    @property
    def current_stage(self) -> dict | None:
        if self.state in (self.State.SUBMITTED, self.State.IN_REVIEW, self.State.TO_CONFIRM):
            return self.stages[self.stage]
        return None

    @property
    def pending_orgs(self) -> list:
        """Who still has to act at the current stage (two at an "all of" stage)."""
        return [
            org
            for org in (self.stage_employer, self.stage_employer_also, self.stage_authority)
            if org is not None
        ]

    @property
    def current_stage_kind(self) -> str:
        stage = self.stages[self.stage] if self.stages and self.stage < len(self.stages) else {}
        return stage.get("kind", "review")

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.SUBMITTED, self.State.IN_REVIEW)

    @property
    def is_settled(self) -> bool:
        """Decided: approved, rejected or cancelled (a new application may follow)."""
        return self.state in (self.State.APPROVED, self.State.REJECTED, self.State.CANCELLED)

    @property
    def result(self) -> str:
        """申请结果 in the attempts history (F55): 通过 / 未通过 / 办理中."""
        if self.state in (self.State.APPROVED, self.State.TO_CONFIRM, self.State.CONFIRMED):
            return str(_("通过"))
        if self.state in (self.State.REJECTED, self.State.CANCELLED):
            return str(_("未通过"))
        return str(_("办理中"))


class ApplicationEvent(models.Model):
    """One transition (F36): who, in which role and organisation, from and to, opinion."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("操作"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("办理人"), max_length=100)
    role = models.CharField(_("角色"), max_length=50, blank=True)
    organisation = models.CharField(_("单位/部门"), max_length=100, blank=True)
    # The organisation the actor acted for, so it keeps seeing what it handled.
    actor_org_employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_org_authority = models.ForeignKey(
        Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stage_name = models.CharField(_("环节"), max_length=60, blank=True)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    from_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    to_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    # The messages this step still has to send, written with it (so they go out if and
    # only if it commits) and sent, then cleared, by the task worker (issue 7,
    # ``rencai.applications.notices``): {"users": [...], "stages": [...]}.
    notices = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["application", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        indexes = [
            # only the few steps whose messages are not sent yet: the worker's queue
            models.Index(
                fields=["id"],
                condition=models.Q(notices__isnull=False),
                name="event_notices_pending",
            )
        ]

    def __str__(self):
        return f"{self.application_id} {self.action}"


class ApplicationVersion(models.Model):
    """A snapshot of the filled form at every save, submit and delete (F35)."""

    # looked up by the (application, number) unique index; no second index to write on
    # every save and submission (issue 7)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField()
    reason = models.CharField(_("原因"), max_length=20)
    data = models.JSONField()
    materials = models.JSONField(default=list)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "number"], name="application_version_unique"
            )
        ]

    def __str__(self):
        return f"{self.application_id} v{self.number}"


class ApplicationMaterial(models.Model):
    """A material of the applicant's attached to an application for one material type."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    material_type = models.CharField(max_length=60)
    material = models.ForeignKey(
        "profiles.Material", on_delete=models.PROTECT, related_name="attachments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material"], name="application_material_unique"
            )
        ]

    def __str__(self):
        return f"{self.application_id} {self.material_type}"


class ApplicationGap(models.Model):
    """容缺 (F47): a required material declared missing at submission, with the reason
    and the deadline to supply it. The reviewers may approve with the gap open; the
    applicant supplies the material later and a reviewer clears the gap. A gap still open
    after its deadline cancels the application (``transitions.gaps_expire``)."""

    class State(models.TextChoices):
        OPEN = "open", _("待补充")
        SUPPLIED = "supplied", _("已补充，待审核")
        CLEARED = "cleared", _("已解除")
        EXPIRED = "expired", _("逾期未补充")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="gaps")
    material_type = models.CharField(_("材料类型"), max_length=60)
    label = models.CharField(_("容缺材料"), max_length=100)
    reason = models.CharField(_("容缺原因"), max_length=300)
    deadline = models.DateField(_("补充期限"))
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    material = models.ForeignKey(
        "profiles.Material", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.CharField(_("审核意见"), max_length=300, blank=True)
    declared_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    supplied_at = models.DateTimeField(_("补充时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["application", "id"]
        verbose_name = _("容缺材料")
        verbose_name_plural = _("容缺材料")
        indexes = [models.Index(fields=["state", "deadline"])]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material_type"], name="application_gap_once_per_type"
            )
        ]

    def __str__(self):
        return f"{self.application_id} {self.label}"

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.OPEN, self.State.SUPPLIED)


class PublicNotice(models.Model):
    """A public notice (公示, F41): an authority lists selected applications for a set
    number of days; anyone may object; when it ends, entries without an open objection
    move on by themselves."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="notices")
    title = models.CharField(_("公示标题"), max_length=120)
    starts_at = models.DateTimeField(_("公示开始"))
    ends_at = models.DateTimeField(_("公示结束"), db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("公示")
        verbose_name_plural = _("公示")

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        """In its period and not closed: objections are accepted (F41)."""
        from django.utils import timezone

        return self.closed_at is None and timezone.now() < self.ends_at


class NoticeEntry(models.Model):
    class Status(models.TextChoices):
        LISTED = "listed", _("公示中")
        OBJECTED = "objected", _("有异议")
        PASSED = "passed", _("公示通过")
        PULLED = "pulled", _("撤回复核")

    notice = models.ForeignKey(PublicNotice, on_delete=models.PROTECT, related_name="entries")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="notice_entries"
    )
    # What the public sees is stored masked: the full values never reach a public page.
    masked_name = models.CharField(_("姓名"), max_length=60)
    masked_id_number = models.CharField(_("证件号码"), max_length=40)
    employer_name = models.CharField(_("单位"), max_length=100, blank=True)
    program_name = models.CharField(_("申报项目"), max_length=100)
    amount = models.DecimalField(
        _("金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.LISTED
    )

    class Meta:
        ordering = ["notice", "id"]
        verbose_name = _("公示名单")
        verbose_name_plural = _("公示名单")

    def __str__(self):
        return f"{self.notice_id} {self.masked_name}"


class Objection(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        DISMISSED = "dismissed", _("异议不成立")
        UPHELD = "upheld", _("已撤回复核")

    entry = models.ForeignKey(NoticeEntry, on_delete=models.PROTECT, related_name="objections")
    name = models.CharField(_("反映人"), max_length=60)
    contact = models.CharField(_("联系方式"), max_length=60)
    content = models.TextField(_("异议内容"))
    status = models.CharField(
        _("处理状态"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("处理意见"), blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")

    def __str__(self):
        return f"{self.entry_id} {self.status}"


class PayoutBatch(models.Model):
    """A finance bureau's payout batch (F37, F42): items go to the bank in one file; the
    bank's result file marks each paid or failed."""

    class Status(models.TextChoices):
        OPEN = "open", _("待导出")
        EXPORTED = "exported", _("已导出银行文件")
        SETTLED = "settled", _("已导入银行结果")

    number = models.CharField(_("批次号"), max_length=30, unique=True)
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="payout_batches"
    )
    stage = models.PositiveSmallIntegerField()
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    item_count = models.PositiveIntegerField(_("笔数"), default=0)
    total = models.DecimalField(_("金额合计（元）"), max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    settled_at = models.DateTimeField(_("结果导入时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("拨付批次")
        verbose_name_plural = _("拨付批次")

    def __str__(self):
        return self.number


class PayoutItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("拨付中")
        PAID = "paid", _("已拨付")
        FAILED = "failed", _("拨付失败")

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="payout_items"
    )
    stage = models.PositiveSmallIntegerField()
    name = models.CharField(_("姓名"), max_length=60)
    bank_name = models.CharField(_("开户银行"), max_length=100)
    bank_account = EncryptedCharField(_("银行账号"), max_length=32)  # issue 8
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    settled_at = models.DateTimeField(_("结果时间"), null=True, blank=True)

    class Meta:
        ordering = ["batch", "id"]
        verbose_name = _("拨付明细")
        verbose_name_plural = _("拨付明细")
        constraints = [
            # One payout per application and payout stage, even under concurrent batches:
            # only a failed item may be followed by another.
            models.UniqueConstraint(
                fields=["application", "stage"],
                condition=models.Q(status__in=["pending", "paid"]),
                name="payout_once_per_stage",
            )
        ]

    def __str__(self):
        return f"{self.batch_id} {self.application_id}"


class BatchReport(models.Model):
    """A roll-up report (汇总上报): a lower authority bundles the applications waiting at a
    ``batch_report`` stage into one numbered report to the upper authority, which accepts
    it (the items move on) or returns it whole or item by item."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已上报")
        ACCEPTED = "accepted", _("已接收")
        RETURNED = "returned", _("已退回")

    number = models.CharField(_("报告编号"), max_length=30, unique=True)
    stage = models.PositiveSmallIntegerField()
    from_authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="reports_sent"
    )
    to_authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="reports_received"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    item_count = models.PositiveIntegerField(_("笔数"), default=0)
    total = models.DecimalField(_("金额合计（元）"), max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("上报时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    opinion = models.TextField(_("意见"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("汇总上报")
        verbose_name_plural = _("汇总上报")

    def __str__(self):
        return self.number


class ReportItem(models.Model):
    class Status(models.TextChoices):
        INCLUDED = "included", _("在报告中")
        RETURNED = "returned", _("单条退回")

    report = models.ForeignKey(BatchReport, on_delete=models.PROTECT, related_name="items")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="report_items"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.INCLUDED
    )
    opinion = models.TextField(_("意见"), blank=True)

    class Meta:
        ordering = ["report", "id"]

    def __str__(self):
        return f"{self.report_id} {self.application_id}"


class BatchJob(models.Model):
    """A batch action over many applications (approve or return with one opinion), run
    by a background task with progress and a result report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        DONE = "done", _("已完成")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("操作"), max_length=10)
    opinion = models.TextField(_("意见"), blank=True)
    application_ids = models.JSONField(default=list)
    total = models.PositiveIntegerField(_("总数"), default=0)
    done = models.PositiveIntegerField(_("成功"), default=0)
    failed = models.PositiveIntegerField(_("失败"), default=0)
    errors = models.JSONField(default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("批量操作")
        verbose_name_plural = _("批量操作")

    def __str__(self):
        return f"{self.action} {self.total}"

    @property
    def percent(self) -> int:
        return round(100 * (self.done + self.failed) / self.total) if self.total else 100
