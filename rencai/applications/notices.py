"""A step's messages, sent by the task worker (issue 7, F38): the applicant's "申报已提交" and
the "待审核" of the people acting at the next stage.

The request writes the texts (in its language) into the step's event
(``ApplicationEvent.notices``), in its own transaction and with its other writes, so the
messages go out if and only if the step commits; finding the stage's people and writing
the messages and their SMS outbox rows is the worker's job (``manage.py db_worker`` calls
``send_pending`` every polling interval). With a task backend that runs tasks at once (no
worker: the tests, ``runserver`` without one) the request sends them itself (``deliver``).

A notice: ``{"users": [{"users": [ids], "title", "body", "link"}], "stages": [{"employers":
[ids], "authority": id, "title", "body", "link"}]}``."""

from django.db import transaction

from rencai.applications.models import ApplicationEvent

BATCH = 500  # events per transaction of the worker


def deliver(to_users: list[dict], to_stages: list[dict]) -> int:
    """Write the messages (and SMS) of ``to_users`` and ``to_stages``; how many. The users
    are read in one query and each stage's people once, however many notices there are
    (the worker sends up to ``BATCH`` events' notices at once, most of them to the same
    few stages)."""
    from rencai.accounts.models import User
    from rencai.applications.access import stage_people
    from rencai.notifications.services import notify_each

    users = User.objects.in_bulk({pk for notice in to_users for pk in notice["users"]})
    people: dict[tuple, list] = {}
    items = []
    for notice in to_users:
        items += [
            (users[pk], notice["title"], notice["body"], notice["link"])
            for pk in sorted(notice["users"])
            if pk in users
        ]
    for notice in to_stages:
        key = (tuple(sorted(notice["employers"])), notice["authority"])
        if key not in people:
            people[key] = list(
                stage_people(notice["employers"], notice["authority"]).order_by("id")
            )
        items += [(u, notice["title"], notice["body"], notice["link"]) for u in people[key]]
    notify_each(items)
    return len(items)


def send_pending(limit: int = BATCH) -> int:
    """Send the messages of at most ``limit`` events that still have some, oldest first,
    and clear them: one transaction, so each is sent once (several workers skip each
    other's rows). Returns how many events were done."""
    with transaction.atomic():
        pending = list(
            ApplicationEvent.objects.filter(notices__isnull=False)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("pk", "notices")[:limit]
        )
        if not pending:
            return 0
        deliver(
            [n for _pk, notices in pending for n in notices.get("users", [])],
            [n for _pk, notices in pending for n in notices.get("stages", [])],
        )
        ApplicationEvent.objects.filter(pk__in=[pk for pk, _notices in pending]).update(
            notices=None
        )
    return len(pending)


def send_all_pending() -> int:
    """``send_pending`` until none is left (``db_worker --batch``); how many events."""
    done = 0
    while sent := send_pending():
        done += sent
    return done
