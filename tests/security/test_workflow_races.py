"""Issue 8, part 2: workflow circumvention and races, on SQLite and on PostgreSQL.

1. **No stage can be skipped.** An application of each demo chain is walked through every
   position of its chain: the draft, each stage, and the half-way points of the stages
   that take two steps (one side of an "all of" stage approved, a notice published, a
   report sent, a payout batch made). At every position, every action the machine does
   not allow there is tried by the persona who takes it at its own stage, through the ways
   in: the service, the page (POST), the JSON API and the workbench batch. A later stage's
   action is a *skip*; an earlier stage's again, or the applicant's submit, withdraw or
   confirm out of turn, is a *repeat*. Each must be refused (404, or a message in
   Chinese) and leave the application, its events, form versions, audit rows, messages,
   notices, reports and payouts as they were. The lists come from the machine: the stages
   and their personas from the chain's actors, the stage kinds from the pack schema; the
   services, pages and API writes are checked complete, so a new stage kind, service, page
   or endpoint fails here until it is in the table.
   The notice has paths of its own (objections, a notice ending): an entry that is stale
   (pulled back, or its application gone on or cancelled) never moves its application.
2. **Races.** 50 threads, each with its own database connection, released together by a
   ``threading.Barrier``: 50 approvals of one item, 50 payout batches of one item and 50
   bank results for its batch, 50 submits of one draft, 50 creates with one idempotency
   key; each gives exactly one transition. On SQLite the IMMEDIATE transactions queue
   for the write lock within the busy timeout (20 s, rencai/env.py); on PostgreSQL the
   row locks and the constraints do the work. Nothing is skipped on either.

Counts (``security_counts("workflow")``): skip attempts, repeat attempts, skips allowed
(must be 0), concurrent requests, extra transitions (must be 0)."""

import datetime
import inspect
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.http import Http404
from django.test import Client
from django.utils import timezone

from rencai.accounts.models import User
from rencai.api.applications import router as api_router
from rencai.applications import transitions as t
from rencai.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationVersion,
    BatchJob,
    BatchReport,
    NoticeEntry,
    Objection,
    PayoutBatch,
    PayoutItem,
    PublicNotice,
    ReportItem,
)
from rencai.applications.urls import urlpatterns as applicant_urls
from rencai.audit.models import AuditEntry
from rencai.errors import ServiceError
from rencai.notifications.models import Message
from rencai.orgs.models import Authority, Employer, Membership
from rencai.programs.models import Program
from rencai.programs.schema import STAGE_KINDS
from rencai.review.urls import urlpatterns as staff_urls
from tests.conftest import PASSWORD, build_city, import_outside_data, prepare_applicant
from tests.test_api_applications import api_client
from tests.test_applications import TODAY, living

S = Application.State
SUITE = "workflow"
THREADS = 50
OPINION = "越级操作测试"
CJK = re.compile(r"[\u4e00-\u9fff]")
REVIEW_OPS = ("approve", "return", "reject")
REPORT_OPS = ("report_accept", "report_return", "report_return_item")
DECIDE = {"approve": t.approve, "return": t.return_, "reject": t.reject}

# --- the table, checked against the machine -----------------------------------------------

# Every public function of the state machine: an action tried at every position (see
# ``attempts``), or why it is not a stage action.
ACTION_SERVICES = {
    "save": t.draft_save,
    "delete": t.draft_delete,
    "submit": t.submit,
    "withdraw": t.withdraw,
    "reapply": t.apply_again,
    "approve": t.approve,
    "return": t.return_,
    "reject": t.reject,
    "publish": t.notice_publish,
    "report_submit": t.report_submit,
    "report_accept": t.report_accept,
    "report_return": t.report_return,
    "report_return_item": t.report_return_item,
    "payout_batch": t.payout_batch_create,
    "payout_results": t.payout_results_import,
    "confirm": t.confirm_receipt,
    "batch": t.batch_start,  # the workbench: the "batch" way in of approve
}
NOT_STAGE_ACTIONS = {
    "batch_run": "runs a batch_start job: the batch way in of approve",
    "notices_expire": "the timer ends a notice: the notice step of the walk, and "
    "test_a_stale_notice_entry_never_moves_its_application",
    "objection_file": "anyone objects during a notice: moves nothing but the entry",
    "objection_resolve": "test_a_second_objection_cannot_move_the_application_again",
    "payout_export": "writes the bank file; moves nothing",
    "gap_supply": "容缺 material supplied: no stage moves (F47, tests/test_talent.py)",
    "gap_decide": "容缺 cleared or refused: no stage moves",
    "gap_clear": "gap_decide",
    "gap_refuse": "gap_decide",
    "gaps_expire": "the timer cancels an application whose gap expired (F47)",
    "choose_chain": "reads",
    "stage_actors": "reads",
    "declaring_employer": "reads",
    "closure_blocker": "reads",
    "payout_authorities_of": "reads",
    "payout_bank_file": "reads",
    "gap_authority": "reads",
    "can_clear_gaps": "reads",
}
# Every page, by URL name: the action a POST to it takes, or None (no stage action).
PAGES = {
    "applications:new": "create: test_fifty_creates_with_one_key_give_one_application",
    "applications:detail": "save",
    "applications:submit": "submit",
    "applications:withdraw": "withdraw",
    "applications:delete": "delete",
    "applications:confirm": "confirm",
    "applications:reapply": "reapply",
    "applications:gaps": "gap_supply",
    "review:applications": "batch",
    "review:application": "approve, return, reject",
    "review:application_gap": "gap_decide",
    "review:notices": "publish",
    "review:notice": "objection_resolve",
    "review:reports": "report_submit",
    "review:report": "report_accept, report_return, report_return_item",
    "review:payouts": "payout_batch",
    "review:payout": "payout_results (and payout_export)",
    # registrations (F03, F04, F61), messages, reads
    **dict.fromkeys(
        [
            "review:employer",
            "review:change",
            "review:person",
            "applications:inbox_read",
            "applications:programs",
            "applications:notice",
            "applications:template",
            "applications:mine",
            "applications:records",
            "applications:roster",
            "applications:inbox",
            "applications:check",
            "applications:history",
            "applications:pdf",
            "review:dashboard",
            "review:employers",
            "review:changes",
            "review:people",
            "review:job",
            "review:statistics",
        ]
    ),
}
# Every write of the JSON API's applications router: the action it takes.
API_WRITES = {
    ("POST", "/applications"): "create: test_fifty_creates_with_one_key_give_one_application",
    ("PUT", "/applications/{app_id}"): "save",
    ("DELETE", "/applications/{app_id}"): "delete",
    ("POST", "/applications/{app_id}/submit"): "submit",
    ("POST", "/applications/{app_id}/withdraw"): "withdraw",
    ("POST", "/applications/{app_id}/reapply"): "reapply",
    ("POST", "/review/applications/{app_id}/decision"): "approve, return, reject",
}


def test_the_table_covers_every_stage_kind_service_page_and_api_write():
    """A new stage kind, service, page or API write fails here until the walk below
    tries it (or it is recorded as no stage action, with the reason)."""
    assert set(STEPS) == STAGE_KINDS, "a stage kind without a step in walk()"
    public = {
        name
        for name, obj in vars(t).items()
        if inspect.isfunction(obj) and obj.__module__ == t.__name__ and not name.startswith("_")
    }
    tried = {fn.__name__ for fn in ACTION_SERVICES.values()}
    assert public - tried - set(NOT_STAGE_ACTIONS) == set(), "a service not in the table"
    assert tried | set(NOT_STAGE_ACTIONS) <= public, "the table names a service that is gone"
    names = {f"applications:{p.name}" for p in applicant_urls}
    names |= {f"review:{p.name}" for p in staff_urls}
    assert names == set(PAGES), "a page not in the table"
    writes = {
        (method, path)
        for path, view in api_router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
        if method != "GET"
    }
    assert writes == set(API_WRITES), "an API write not in the table"


# --- personas, from the chain's actors -----------------------------------------------------


def persona(org) -> User:
    """Someone who acts for ``org``: its first member in an acting role (the demo's
    named personas), else a member made for the test."""
    if isinstance(org, Employer):
        roles = [Membership.Role.EMPLOYER_ADMIN, Membership.Role.EMPLOYER_REVIEWER]
        where, kind = {"employer": org}, User.Kind.EMPLOYER
    else:
        roles = (
            t.PAYOUT_ROLES
            if org.kind == Authority.Kind.FINANCE_BUREAU
            else [Membership.Role.REVIEWER, Membership.Role.AUTHORITY_ADMIN]
        )
        where, kind = {"authority": org}, User.Kind.STAFF
    member = (
        Membership.objects.filter(role__in=roles, user__is_active=True, **where)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if member is not None:
        return member.user
    user = User.objects.create_user(
        username=f"wf_{org._meta.model_name}_{org.pk}",
        password=PASSWORD,
        kind=kind,
        real_name="经办人",
        registration_status="approved",
    )
    Membership.objects.create(user=user, role=roles[0], **where)
    return user


@dataclass
class Stage:
    index: int
    code: str
    kind: str
    spec: dict
    actors: list  # who acts: approves, publishes, accepts the report, pays, confirms
    reporter: User | None = None  # batch_report: who sends the report


def chain_of(app: Application) -> list[Stage]:
    """The stages ``app`` will go through, each with its personas, resolved by the state
    machine's own resolution of the stage's actors."""
    app.chain = t.choose_chain(app.definition, app.employer, t._talent_rank(app.applicant))
    stages = []
    for index, spec in enumerate(app.stages):
        kind, reporter = spec.get("kind", "review"), None
        if kind == "confirm":
            actors = [app.applicant]
        elif kind == "batch_report":
            actors = [persona(t._resolve(app, spec["actor"], spec))]
            reporter = persona(t._resolve(app, spec["reporter"], spec))
        else:
            orgs = [t._resolve(app, actor, spec) for actor in t.stage_actors(spec)]
            actors = [persona(org) for org in orgs if org is not None]
        stages.append(Stage(index, spec["code"], kind, spec, actors, reporter))
    return stages


# --- the walk: every position of a chain ---------------------------------------------------


@dataclass
class Position:
    label: str
    stage: int  # the current stage; -1 for the draft, len(chain) once done
    allowed: set  # {(action, username, report or batch id)}: what the machine allows here


def _review_step(app, stage, applicant):
    for n in range(len(stage.actors)):
        app = Application.objects.get(pk=app.pk)
        pending = [persona(org) for org in app.pending_orgs]
        allowed = {(op, p.username, None) for p in pending for op in REVIEW_OPS}
        if app.state == S.SUBMITTED:
            allowed.add(("withdraw", applicant.username, None))
        yield Position(stage.code + ("（一方已通过）" if n else ""), stage.index, allowed)
        t.approve(actor=pending[0], application=app)


def _notice_step(app, stage, applicant):
    actor = stage.actors[0]
    yield Position(stage.code, stage.index, {("publish", actor.username, None)})
    t.notice_publish(actor=actor, application_ids=[app.pk], title="公示")
    yield Position(stage.code + "（公示中）", stage.index, set())
    t.notices_expire(now=timezone.now() + datetime.timedelta(days=stage.spec["days"], hours=1))


def _report_step(app, stage, applicant):
    actor = stage.actors[0]
    yield Position(stage.code, stage.index, {("report_submit", stage.reporter.username, None)})
    report = t.report_submit(actor=stage.reporter, application_ids=[app.pk])
    allowed = {(op, actor.username, report.pk) for op in REPORT_OPS}
    yield Position(stage.code + "（已上报）", stage.index, allowed)
    t.report_accept(actor=actor, report_id=report.pk)


def _payout_step(app, stage, applicant):
    actor = stage.actors[0]
    yield Position(stage.code, stage.index, {("payout_batch", actor.username, None)})
    batch = t.payout_batch_create(actor=actor, application_ids=[app.pk])
    allowed = {("payout_results", actor.username, batch.pk)}
    yield Position(stage.code + "（拨付中）", stage.index, allowed)
    t.payout_results_import(actor=actor, batch_id=batch.pk, rows=bank_says(batch, "成功"))


def _confirm_step(app, stage, applicant):
    yield Position(stage.code, stage.index, {("confirm", applicant.username, None)})
    t.confirm_receipt(actor=applicant, application=app)


# The step of each stage kind (checked against the pack schema's STAGE_KINDS): the
# positions it passes, and the allowed action that leaves each.
STEPS = {
    "review": _review_step,
    "all_of": _review_step,
    "notice": _notice_step,
    "batch_report": _report_step,
    "payout": _payout_step,
    "confirm": _confirm_step,
}


def bank_says(batch, outcome: str) -> list:
    items = batch.items.select_related("application").order_by("id")
    return [(n, (item.application.number, outcome, "")) for n, item in enumerate(items, start=2)]


def walk(app: Application, chain: list[Stage]):
    """Yield every position of ``app`` along ``chain``; between two, take the step the
    machine allows there."""
    applicant = app.applicant
    me = applicant.username
    yield Position("草稿", -1, {("submit", me, None), ("save", me, None), ("delete", me, None)})
    t.submit(actor=applicant, application=app, commitment_accepted=True, today=TODAY)
    for stage in chain:
        yield from STEPS[stage.kind](app, stage, applicant)
    yield Position("办结", len(chain), set())


# --- ways in: each returns the refusal it met, or None when the action went through --------


def refused_by_service(call) -> Callable[[], str | None]:
    def run():
        try:
            call()
        except Http404:
            return "404"
        except ServiceError as exc:
            assert exc.code == "state", (exc.code, exc.message)  # refused for its state
            return exc.message
        return None

    return run


_PAGE_REFUSALS = [
    re.compile(r'<p class="message error">(.*?)</p>', re.S),
    re.compile(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', re.S),
    re.compile(r'<p class="message info">(此申报当前不在您的审核环节[^<]*)</p>'),
]


def page_refusal(client, response) -> str | None:
    """The refusal a page gave, or None if it shows none: a 404, the error message it
    flashes before redirecting (read from the request, where the next page would show
    it), or the error on the page it renders."""
    if response.status_code == 404:
        return "404"
    if response.status_code == 302:
        client.cookies.pop("messages", None)  # shown by the next page: read here instead
        flashed = get_messages(response.wsgi_request)
        errors = [str(m) for m in flashed if m.level_tag == "error"]
        return errors[0] if errors else None
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    for pattern in _PAGE_REFUSALS:
        found = pattern.search(html)
        if found:
            return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()
    return None


def refused_by_page(client, url, data) -> Callable[[], str | None]:
    return lambda: page_refusal(client, client.post(url, data))


def refused_by_api(client, method, url, data=None) -> Callable[[], str | None]:
    def run():
        response = client.send(method, url, data)
        if response.status_code in (200, 201, 204):
            return None
        assert response.status_code in (404, 409), response.content.decode()
        return response.json()["detail"]

    return run


def job_of(response) -> BatchJob | None:
    found = re.search(r"/staff/jobs/(\d+)/", response.get("Location", ""))
    return BatchJob.objects.get(pk=found.group(1)) if found else None


def refused_by_batch(client, pk, run_job=True) -> Callable[[], str | None]:
    """The workbench's batch approve of the one selected item. The job runs on commit,
    which a test transaction never reaches: then it is run here, as the task would."""

    def run():
        response = client.post("/staff/applications/", {"applications": [pk], "action": "approve"})
        job = job_of(response)
        if job is None:
            return page_refusal(client, response)
        job = t.batch_run(job.pk) if run_job else job
        assert job.status == BatchJob.Status.DONE
        return None if job.done else job.errors[0]["message"]

    return run


# --- the attempts at one position ------------------------------------------------------------


@dataclass
class Attempt:
    action: str
    actor: User
    way: str  # service, page, api, batch
    stage: int  # the stage the action belongs to (-1: the applicant's own)
    run: Callable[[], str | None]
    target: int | None = None  # a report or payout batch acted on

    def __str__(self):
        on = f" #{self.target}" if self.target else ""
        return f"{self.action}{on} by {self.actor.username} via {self.way}"


class Ways:
    """A signed-in page client and API client per persona, made once."""

    def __init__(self):
        self.pages, self.apis = {}, {}

    def page(self, user):
        if user.pk not in self.pages:
            self.pages[user.pk] = Client()
            self.pages[user.pk].force_login(user)
        return self.pages[user.pk]

    def api(self, user):
        if user.pk not in self.apis:
            self.apis[user.pk] = api_client(user)
        return self.apis[user.pk]


def attempts(app: Application, chain: list[Stage], ways: Ways, at: int) -> list[Attempt]:
    """Every action of the chain by the persona who takes it at its own stage, against
    ``app`` as it is now, at stage ``at``. Pages and the API send the current version (the
    optimistic check is no help to a refusal here); the services send none.

    Every action is tried through its service. Through the page, the API and the batch
    (each a thin way to the same service) while its stage is later, current or the one
    just left (a skip, or acting twice); further back, the service alone. Approve is
    tried through all four ways (the batch has its own code, ``_approve_many``); return
    and reject differ from it only inside the service, so they are tried there."""
    pk, version, applicant = app.pk, app.version, app.applicant
    out = []

    def add(action, actor, way, stage, run, target=None):
        if way == "service" or stage >= at - 1:
            out.append(Attempt(action, actor, way, stage, run, target))

    def this():
        return Application(pk=pk)

    # The applicant's own actions (before the first stage): service, page and API.
    page, api = ways.page(applicant), ways.api(applicant)
    url, api_url = f"/applications/{pk}/", f"/api/applications/{pk}"
    form = {**{k: str(v) for k, v in app.data.items()}, "version": version}
    own = {
        "save": (
            lambda: t.draft_save(actor=applicant, application=this(), data=app.data),
            (url, form),
            ("PUT", api_url, {"version": version}),
        ),
        "submit": (
            lambda: t.submit(
                actor=applicant, application=this(), commitment_accepted=True, today=TODAY
            ),
            (f"{url}submit/", {"commitment": "on", "version": version}),
            ("POST", f"{api_url}/submit", {"commitment_accepted": True, "version": version}),
        ),
        "withdraw": (
            lambda: t.withdraw(actor=applicant, application=this()),
            (f"{url}withdraw/", {"version": version}),
            ("POST", f"{api_url}/withdraw", {"version": version}),
        ),
        "delete": (
            lambda: t.draft_delete(actor=applicant, application=this()),
            (f"{url}delete/", {}),
            ("DELETE", api_url, None),
        ),
        "reapply": (
            lambda: t.apply_again(actor=applicant, application=this()),
            (f"{url}reapply/", {}),
            ("POST", f"{api_url}/reapply", None),
        ),
    }
    for action, (call, (page_url, data), api_call) in own.items():
        add(action, applicant, "service", -1, refused_by_service(call))
        add(action, applicant, "page", -1, refused_by_page(page, page_url, data))
        add(action, applicant, "api", -1, refused_by_api(api, *api_call))

    # Review decisions by every staff persona of the chain, at the first stage it acts.
    first_stage = {}
    for stage in chain:
        for user in [*stage.actors, stage.reporter]:
            if user is not None and user != applicant:
                first_stage.setdefault(user, stage.index)
    decision = f"/api/review/applications/{pk}/decision"
    body = {"action": "approve", "opinion": OPINION, "version": version}
    for user, k in first_stage.items():
        for op in REVIEW_OPS:

            def decide(op=op, user=user):
                return DECIDE[op](actor=user, application=this(), opinion=OPINION)

            add(op, user, "service", k, refused_by_service(decide))
        add("approve", user, "page", k, refused_by_page(ways.page(user), f"/staff{url}", body))
        add("approve", user, "api", k, refused_by_api(ways.api(user), "POST", decision, body))
        add("approve", user, "batch", k, refused_by_batch(ways.page(user), pk))

    # Each stage's own action by its persona: publish, report, pay, confirm.
    for stage in chain:
        k, user = stage.index, stage.actors[0]
        if stage.kind == "notice":

            def publish(user=user):
                return t.notice_publish(actor=user, application_ids=[pk], title="越级公示")

            data = {"applications": [pk], "title": "越级公示"}
            add("publish", user, "service", k, refused_by_service(publish))
            run = refused_by_page(ways.page(user), "/staff/notices/", data)
            add("publish", user, "page", k, run)
        elif stage.kind == "batch_report":
            user = stage.reporter

            def report(user=user):
                return t.report_submit(actor=user, application_ids=[pk])

            add("report_submit", user, "service", k, refused_by_service(report))
            run = refused_by_page(ways.page(user), "/staff/reports/", {"applications": [pk]})
            add("report_submit", user, "page", k, run)
        elif stage.kind == "payout":

            def pay(user=user):
                return t.payout_batch_create(actor=user, application_ids=[pk])

            add("payout_batch", user, "service", k, refused_by_service(pay))
            run = refused_by_page(ways.page(user), "/staff/payouts/", {"applications": [pk]})
            add("payout_batch", user, "page", k, run)
        elif stage.kind == "confirm":

            def confirm():
                return t.confirm_receipt(actor=applicant, application=this())

            add("confirm", applicant, "service", k, refused_by_service(confirm))
            run = refused_by_page(page, f"{url}confirm/", {"version": version})
            add("confirm", applicant, "page", k, run)

    # Decisions on every report and payout batch that already holds the application.
    for report in BatchReport.objects.filter(items__application_id=pk).distinct():
        user, k = chain[report.stage].actors[0], report.stage
        calls = {
            "report_accept": lambda r=report, u=user: t.report_accept(actor=u, report_id=r.pk),
            "report_return": lambda r=report, u=user: t.report_return(
                actor=u, report_id=r.pk, opinion=OPINION
            ),
            "report_return_item": lambda r=report, u=user: t.report_return_item(
                actor=u, report_id=r.pk, application_id=pk, opinion=OPINION
            ),
        }
        for op, call in calls.items():
            data = {"action": op.removeprefix("report_"), "opinion": OPINION, "application": pk}
            run = refused_by_page(ways.page(user), f"/staff/reports/{report.pk}/", data)
            add(op, user, "service", k, refused_by_service(call), report.pk)
            add(op, user, "page", k, run, report.pk)
    for batch in PayoutBatch.objects.filter(items__application_id=pk).distinct():
        user, k = chain[batch.stage].actors[0], batch.stage

        def results(batch=batch, user=user):
            rows = bank_says(batch, "成功")
            return t.payout_results_import(actor=user, batch_id=batch.pk, rows=rows)

        def upload(batch=batch, user=user):
            client = ways.page(user)
            return page_refusal(client, upload_results(client, batch, "成功"))

        add("payout_results", user, "service", k, refused_by_service(results), batch.pk)
        add("payout_results", user, "page", k, upload, batch.pk)
    return out


def upload_results(client, batch, outcome: str):
    """The bank's result file for every item of ``batch``, uploaded on the batch's page."""
    rows = "".join(f"{number},{result},\n" for _n, (number, result, _) in bank_says(batch, outcome))
    file = SimpleUploadedFile("bank.csv", f"申报编号,结果,原因\n{rows}".encode(), "text/csv")
    return client.post(f"/staff/payouts/{batch.pk}/", {"action": "results", "file": file})


# Audit rows a refusal itself leaves: a denied access (a 404 on an object's address, see
# rencai/audit/middleware.py) and the workbench job asked for (its result is the refusal).
REFUSAL_LOGS = ["access.denied", "batch.start"]


def last_id(qs):
    return qs.order_by("-id").values_list("id", flat=True).first()


def footprint(app: Application) -> dict:
    """What an action on ``app`` leaves. Rows are only ever added and the version only
    grows, so two equal footprints mean that nothing happened in between."""
    pk = app.pk
    fields = ["state", "stage", "version", "stage_employer_id", "stage_employer_also_id"]
    fields += ["stage_authority_id", "deleted_at", "decided_at"]
    return {
        "application": Application.objects.filter(pk=pk).values(*fields).get(),
        "event": last_id(ApplicationEvent.objects.filter(application_id=pk)),
        "form version": last_id(ApplicationVersion.objects.filter(application_id=pk)),
        "audit": last_id(AuditEntry.objects.exclude(action__in=REFUSAL_LOGS)),
        "message": last_id(Message.objects.all()),
        "applications": last_id(Application.objects.filter(applicant_id=app.applicant_id)),
        "notice entries": list(
            NoticeEntry.objects.filter(application_id=pk).values_list("id", "status")
        ),
        "notices": last_id(PublicNotice.objects.all()),
        "report items": list(
            ReportItem.objects.filter(application_id=pk).values_list("id", "status")
        ),
        "reports": list(BatchReport.objects.values_list("id", "status")),
        "payout items": list(
            PayoutItem.objects.filter(application_id=pk).values_list("id", "status")
        ),
        "payout batches": list(PayoutBatch.objects.values_list("id", "status")),
    }


def changes(before: dict, after: dict, app: Application) -> dict:
    """What differs, with the new events and audit rows spelled out (they name who did
    what)."""
    out = {k: after[k] for k in before if before[k] != after[k]}
    if "event" in out:
        new = app.events.filter(id__gt=before["event"] or 0)
        out["event"] = list(new.values_list("action", "actor_name"))
    if "audit" in out:
        new = AuditEntry.objects.exclude(action__in=REFUSAL_LOGS).filter(id__gt=before["audit"])
        out["audit"] = list(new.values_list("action", "actor_repr"))
    return out


# --- 1. stage skipping -----------------------------------------------------------------------


def chain_draft(city, applicant) -> Application:
    """CHAIN's living subsidy of a dispatched person: every stage kind, and an "all of"
    first stage (the employer and the dispatching company)."""
    import_outside_data(Path(tempfile.mkdtemp()), applicant)
    materials = {
        mt: list(applicant.materials.filter(material_type=mt).values_list("pk", flat=True))
        for mt in ("diploma", "degree", "labour_contract")
    }
    data = {"start_month": "2024-01", "end_month": "2024-06", "deducted_months": 0}
    data |= {"explanation": "无", "dispatcher": city.dispatch.pk}
    program = Program.objects.get(code="chain_living")
    return t.draft_save(actor=applicant, program=program, data=data, materials=materials)


def city_draft(city, applicant) -> Application:
    """CITY's graduate living allowance: employer → district → city."""
    return living(applicant)


@pytest.mark.parametrize("draft", [chain_draft, city_draft], ids=["chain_living", "grad_living"])
def test_no_stage_can_be_skipped_or_repeated_by_any_way_in(
    city, ready_applicant, security_counts, draft
):
    counts = security_counts(SUITE)
    app = draft(city, ready_applicant)
    chain = chain_of(app)
    ways = Ways()
    wrong, kinds, positions = [], set(), 0
    for position in walk(app, chain):
        app = Application.objects.get(pk=app.pk)
        positions += 1
        if 0 <= position.stage < len(chain):
            assert (app.is_open or app.state == S.TO_CONFIRM) and app.stage == position.stage
            kinds.add(chain[position.stage].kind)
        tries = attempts(app, chain, ways, position.stage)  # signs in before the footprint
        before = footprint(app)
        for attempt in tries:
            if (attempt.action, attempt.actor.username, attempt.target) in position.allowed:
                continue
            counts.add("skip attempts" if attempt.stage > position.stage else "repeat attempts")
            refusal = attempt.run()
            moved = Application.objects.get(pk=app.pk).version != app.version
            if refusal is None or (refusal != "404" and not CJK.search(refusal)):
                wrong.append(f"{position.label}: {attempt} went through ({refusal!r})")
            elif moved:
                wrong.append(f"{position.label}: {attempt} refused, but moved the application")
            if moved:
                break
        after = footprint(app)
        if after != before:
            wrong.append(f"{position.label}: refusals left {changes(before, after, app)}")
        if wrong:
            break  # the walk cannot go on from a changed application
    counts.add("skips allowed", len(wrong))
    assert wrong == []
    assert kinds == {stage.kind for stage in chain}
    assert positions == 2 + sum(
        {"review": 1, "all_of": len(s.actors), "confirm": 1}.get(s.kind, 2) for s in chain
    )


# --- 1b. the notice's own paths: a stale entry never moves its application ------------------


def at_notice(city, applicant):
    """CHAIN's living subsidy at the county's notice, published: (app, entry)."""
    from tests.test_dispatch import chain_living

    app = t.approve(actor=city.employer_admin, application=chain_living(applicant))
    app = t.approve(actor=city.district_reviewer, application=app)
    t.notice_publish(actor=city.district_reviewer, application_ids=[app.pk], title="公示")
    return Application.objects.get(pk=app.pk), NoticeEntry.objects.get(application=app)


def objection_to(entry, content="该人员2024年上半年不在本单位工作") -> Objection:
    return t.objection_file(entry_id=entry.pk, name="李先生", contact="139000011", content=content)


def notice_ends(days=8):
    t.notices_expire(now=timezone.now() + datetime.timedelta(days=days))


def moves(app, since: int) -> list:
    """The transitions of ``app`` after event ``since`` (objections and publishing move
    nothing)."""
    quiet = ("objection", "publish")
    return list(app.events.filter(id__gt=since).exclude(action__in=quiet).values_list("action"))


@pytest.mark.parametrize("second", ["uphold", "dismiss"])
def test_a_second_objection_cannot_move_the_application_again(
    city, ready_applicant, security_counts, second
):
    """Two objections to one entry; the first is upheld: the application goes back to the
    county HR bureau's review. The second, upheld or dismissed, is answered and moves
    nothing: not a second pull-back (to the employer), and not the entry back into the
    notice, whose end would skip the county's new review."""
    counts = security_counts(SUITE)
    app, entry = at_notice(city, ready_applicant)
    first, other = objection_to(entry), objection_to(entry, "该人员已享受同类补贴，重复申报")
    t.objection_resolve(
        actor=city.district_reviewer, objection_id=first.pk, uphold=True, opinion="异议属实"
    )
    app = Application.objects.get(pk=app.pk)
    assert (app.state, app.current_stage["code"]) == (S.IN_REVIEW, "county_hr")
    seen = app.events.order_by("-id").first().pk
    counts.add("skip attempts", 2)
    t.objection_resolve(
        actor=city.district_reviewer,
        objection_id=other.pk,
        uphold=second == "uphold",
        opinion="已在前一条异议中处理",
    )
    notice_ends()
    other.refresh_from_db()
    assert other.status != Objection.Status.OPEN and other.resolution  # answered
    now = Application.objects.get(pk=app.pk)
    counts.add("skips allowed", len(moves(now, seen)))
    assert moves(now, seen) == []
    assert (now.state, now.current_stage["code"], now.version) == (
        S.IN_REVIEW,
        "county_hr",
        app.version,
    )
    assert NoticeEntry.objects.get(pk=entry.pk).status == NoticeEntry.Status.PULLED


def test_an_entry_held_by_an_objection_cannot_be_published_again(
    city, ready_applicant, client, security_counts
):
    """The notice ends with an objection open: the entry waits for the bureau. The desk
    does not offer the application for a new notice; neither the service nor a crafted
    POST may list it again (two entries would each move it on: the county organisation
    department's review skipped). The objection dismissed, it moves on exactly once."""
    counts = security_counts(SUITE)
    app, entry = at_notice(city, ready_applicant)
    objection = objection_to(entry)
    notice_ends()
    app = Application.objects.get(pk=app.pk)
    assert app.current_stage["code"] == "notice"
    before = footprint(app)
    counts.add("skip attempts", 2)
    with pytest.raises(ServiceError, match="已在公示中"):
        t.notice_publish(actor=city.district_reviewer, application_ids=[app.pk], title="再公示")
    client.force_login(city.district_reviewer)
    page = client.post("/staff/notices/", {"applications": [app.pk], "title": "再公示"})
    assert "已在公示中" in page_refusal(client, page)
    after = footprint(app)
    counts.add("skips allowed", int(after != before))
    assert after == before, changes(before, after, app)

    seen = app.events.order_by("-id").first().pk
    t.objection_resolve(
        actor=city.district_reviewer, objection_id=objection.pk, uphold=False, opinion="不属实"
    )
    notice_ends(days=16)
    app = Application.objects.get(pk=app.pk)
    assert app.current_stage["code"] == "county_org"
    assert moves(app, seen) == [("notice_pass",)]


def test_a_stale_notice_entry_never_moves_its_application(city, ready_applicant, security_counts):
    """An application cancelled while listed (a 容缺 gap expired, F47: what gaps_expire
    does) stays cancelled when the notice ends; its entry leaves the list."""
    from django.db import transaction

    counts = security_counts(SUITE)
    app, entry = at_notice(city, ready_applicant)
    with transaction.atomic():
        t._cancel(t._lock(app.pk), "容缺材料逾期未补充，资格取消。")
    app = Application.objects.get(pk=app.pk)
    seen = app.events.order_by("-id").first().pk
    counts.add("skip attempts")
    notice_ends()
    now = Application.objects.get(pk=app.pk)
    counts.add("skips allowed", len(moves(now, seen)))
    assert (now.state, now.version, moves(now, seen)) == (S.CANCELLED, app.version, [])
    assert NoticeEntry.objects.get(pk=entry.pk).status == NoticeEntry.Status.PULLED


# --- 2. races: 50 at once, each on its own connection ----------------------------------------


@pytest.fixture
def live(transactional_db, settings, tmp_path):
    """The demo city in a database the threads share (committed, not held in one test
    transaction), and the applicant ready to apply."""
    settings.MEDIA_ROOT = tmp_path
    city = build_city()
    return city, prepare_applicant(city.applicant)


def connect(tries: int = 20) -> None:
    """Open this thread's connection. A PostgreSQL server shared with other test runs may
    be short of connections for a moment: wait for one rather than fail the race."""
    from django.db import OperationalError

    for attempt in range(tries):
        try:
            connection.ensure_connection()
            return
        except OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)


def race(calls: list) -> list:
    """Run each call in a thread of its own, on a database connection of its own opened
    before a barrier releases them all at once. A call returns None when its action went
    through, or the refusal it met; what it raises is its outcome too."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            connect()
            barrier.wait(timeout=60)
            outcomes[i] = call()
        except BaseException as exc:
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def settle(outcomes: list, counts, *, winners: int | None = 1) -> list:
    """Check a race's outcomes: no error, every refusal in words (or a 404), and
    ``winners`` answered as done (None: any number, as for retries answered alike)."""
    counts.add("concurrent requests", len(outcomes))
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == [], errors[:3]
    refusals = [o for o in outcomes if o is not None]
    assert all(o == "404" or CJK.search(o) for o in refusals), set(refusals)
    if winners is not None:
        assert len(outcomes) - len(refusals) == winners, set(refusals)
    return refusals


def once(counts, n: int) -> int:
    """Record the transitions beyond the one allowed (there must be none)."""
    counts.add("extra transitions", max(n - 1, 0))
    return n


def audits(action: str, obj) -> int:
    kind = f"{obj._meta.app_label}.{obj._meta.model_name}"
    return AuditEntry.objects.filter(action=action, object_type=kind, object_id=obj.pk).count()


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def colleagues(org, n: int, role) -> list:
    """``n`` more staff accounts acting for ``org`` in ``role``."""
    field = "employer" if isinstance(org, Employer) else "authority"
    users = []
    for i in range(n):
        user = User.objects.create_user(
            username=f"race_{field}_{org.pk}_{i}", password=PASSWORD, kind=User.Kind.STAFF
        )
        Membership.objects.create(user=user, role=role, **{field: org})
        users.append(user)
    return users


def fifty_creates(applicant, counts) -> Application:
    """One form (one idempotency key) sent 50 times at once through the service, the API
    and the page: one draft, one create event, one audit row; every call is answered with
    that draft."""
    program = Program.objects.get(code="grad_living")
    data = {"start_month": "2024-01", "end_month": "2024-12", "deducted_months": 0}
    data["explanation"] = "无"
    key = "race-create-0001"
    made = []

    def by_service():
        def run():
            app = t.draft_save(actor=applicant, program=program, data=data, client_token=key)
            made.append(app.pk)

        return run

    def by_api():
        client = api_client(applicant)
        assert client.get("/api/programs/grad_living").status_code == 200  # reads the notice
        body = {"program": "grad_living", "data": data, "client_token": key}

        def run():
            response = client.send("POST", "/api/applications", body)
            assert response.status_code == 201, response.content.decode()
            made.append(response.json()["id"])

        return run

    def by_page():
        client = page_client(applicant)
        assert client.get("/applications/programs/grad_living/notice/").status_code == 200

        def run():
            response = client.post(
                "/applications/programs/grad_living/new/", {**data, "client_token": key}
            )
            assert response.status_code == 302, page_refusal(client, response)
            made.append(int(re.search(r"/applications/(\d+)/", response["Location"]).group(1)))

        return run

    ways = [by_service, by_api, by_page]
    settle(race([ways[i % len(ways)]() for i in range(THREADS)]), counts, winners=THREADS)
    drafts = Application.objects.filter(applicant=applicant)
    assert once(counts, drafts.count()) == 1
    app = drafts.get()
    assert set(made) == {app.pk} and len(made) == THREADS
    assert app.events.filter(action="create").count() == 1
    assert audits("application.create", app) == 1
    return app


def fifty_submits(app, counts) -> Application:
    """The draft submitted 50 times at once: through the service with the version seen
    (a retry, answered as the first) and without one (refused once submitted), the page
    (a double click) and the API. One submission: one event, one form version, one audit
    row, one message to the applicant."""
    applicant, pk, seen = app.applicant, app.pk, app.version

    def service(version):
        return refused_by_service(
            lambda: t.submit(
                actor=applicant,
                application=Application(pk=pk),
                commitment_accepted=True,
                seen_version=version,
                today=TODAY,
            )
        )

    ways = [
        lambda: service(seen),
        lambda: service(None),
        lambda: refused_by_page(
            page_client(applicant),
            f"/applications/{pk}/submit/",
            {"commitment": "on", "version": seen},
        ),
        lambda: refused_by_api(
            api_client(applicant),
            "POST",
            f"/api/applications/{pk}/submit",
            {"commitment_accepted": True, "version": seen},
        ),
    ]
    refusals = settle(race([ways[i % len(ways)]() for i in range(THREADS)]), counts, winners=None)
    assert len(refusals) <= len(range(1, THREADS, len(ways)))  # only those without a version
    app = Application.objects.get(pk=pk)
    assert once(counts, app.events.filter(action="submit").count()) == 1
    assert audits("application.submit", app) == 1
    assert (app.state, app.version) == (S.SUBMITTED, seen + 1)
    assert app.versions.filter(reason="submitted").count() == 1
    assert Message.objects.filter(user=applicant, title="申报已提交").count() == 1
    return app


def fifty_approvals(app, people, counts) -> Application:
    """The employer's people approve it 50 times at once, through the service (with and
    without the version they saw), the review page, the API and the workbench batch: one
    approval, one event, one audit row, one stage on."""
    pk, seen = app.pk, app.version
    body = {"action": "approve", "opinion": "同意", "version": seen}

    def service(user, version):
        return refused_by_service(
            lambda: t.approve(actor=user, application=Application(pk=pk), seen_version=version)
        )

    ways = [
        lambda user: service(user, None),
        lambda user: service(user, seen),
        lambda user: refused_by_page(page_client(user), f"/staff/applications/{pk}/", body),
        lambda user: refused_by_api(
            api_client(user), "POST", f"/api/review/applications/{pk}/decision", body
        ),
        # the job runs on commit, inside the request (the immediate task backend)
        lambda user: refused_by_batch(page_client(user), pk, run_job=False),
    ]
    calls = [ways[i % len(ways)](people[i % len(people)]) for i in range(THREADS)]
    settle(race(calls), counts)
    app = Application.objects.get(pk=pk)
    assert once(counts, app.events.filter(action="approve").count()) == 1
    assert audits("application.approve", app) == 1
    assert (app.state, app.stage, app.version) == (S.IN_REVIEW, 1, seen + 1)
    return app


def test_fifty_creates_then_submits_then_approvals_each_happen_once(live, security_counts):
    """Double submits give one application, and 50 approvals of it one transition: the
    three races one after the other, on the one application they make."""
    counts = security_counts(SUITE)
    city, applicant = live
    app = fifty_creates(applicant, counts)
    t.draft_save(
        actor=applicant,
        application=app,
        data=app.data,
        materials={m.material_type: [m.pk] for m in applicant.materials.all()},
    )
    app = fifty_submits(Application.objects.get(pk=app.pk), counts)
    people = [city.employer_admin, *colleagues(city.tech, 4, Membership.Role.EMPLOYER_REVIEWER)]
    fifty_approvals(app, people, counts)


def test_fifty_payouts_of_one_item_give_one_payout(live, security_counts):
    """An approved item waits at the city finance bureau's payout. Five finance officers
    put it into a payout batch 50 times at once (service and desk page): one batch, one
    item. Then the bank's result for that batch is imported 50 times at once (service
    and upload): paid once, one stage on."""
    from tests.test_payouts import to_city_finance

    counts = security_counts(SUITE)
    city, applicant = live
    app = to_city_finance(city, applicant)
    bureau = Authority.objects.get(pk=app.stage_authority_id)
    people = [city.finance_officer, *colleagues(bureau, 4, Membership.Role.FINANCE_OFFICER)]
    pk, seen = app.pk, app.version

    def batch_by_service(user):
        return refused_by_service(lambda: t.payout_batch_create(actor=user, application_ids=[pk]))

    def batch_by_page(user):
        return refused_by_page(page_client(user), "/staff/payouts/", {"applications": [pk]})

    ways = [batch_by_service, batch_by_page]
    settle(race([ways[i % 2](people[i % len(people)]) for i in range(THREADS)]), counts)
    assert once(counts, PayoutItem.objects.filter(application_id=pk).count()) == 1
    batch = PayoutBatch.objects.get()  # the refused attempts left no batch
    assert batch.item_count == 1 and audits("payout.batch", batch) == 1
    app = Application.objects.get(pk=pk)
    assert app.events.filter(action="payout_batch").count() == 1 and app.version == seen + 1

    def results_by_service(user):
        return refused_by_service(
            lambda: t.payout_results_import(
                actor=user, batch_id=batch.pk, rows=bank_says(batch, "成功")
            )
        )

    def results_by_upload(user):
        client = page_client(user)
        return lambda: page_refusal(client, upload_results(client, batch, "成功"))

    ways = [results_by_service, results_by_upload]
    settle(race([ways[i % 2](people[i % len(people)]) for i in range(THREADS)]), counts)
    app = Application.objects.get(pk=pk)
    assert once(counts, app.events.filter(action="paid").count()) == 1
    assert audits("payout.results", batch) == 1
    assert (app.current_stage["code"], app.version) == ("county_finance", seen + 2)
    assert list(PayoutItem.objects.values_list("status", flat=True)) == ["paid"]
