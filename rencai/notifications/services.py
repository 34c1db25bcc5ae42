"""Tell a user about a step (F38): an in-app message (badge and corner pop-up) and an
SMS through the outbox, sent once the surrounding transaction commits."""

from rencai.bulk import insert_many
from rencai.notifications.models import Message
from rencai.notifications.sms import sms_enqueue_many


def notify(*, user, title: str, body: str, link: str = "", sms: bool = True) -> Message:
    message = Message.objects.create(user=user, title=title[:100], body=body, link=link)
    if sms and user.phone:
        sms_enqueue_many([(user.phone, "notice", f"【{title}】{body}")])
    return message


def notify_many(*, users, title: str, body: str, link: str = "", sms: bool = True) -> None:
    notify_each([(user, title, body, link) for user in users], sms=sms)


def notify_each(items, *, sms: bool = True) -> None:
    """``notify`` for many (user, title, body, link) at once, in two inserts: a batch
    approval or a notice of 10,000 tells 10,000 applicants (issue 7)."""
    items = list(items)
    if not items:
        return
    insert_many(
        Message,
        (
            Message(user_id=user.pk, title=title[:100], body=body, link=link)
            for user, title, body, link in items
        ),
    )
    if sms:
        sms_enqueue_many(
            [
                (user.phone, "notice", f"【{title}】{body}")
                for user, title, body, _link in items
                if user.phone
            ]
        )


def message_mark_read(*, user, pk: int | None = None) -> int:
    from django.utils import timezone

    qs = Message.objects.filter(user=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
