"""Tell a user about a step (F38): an in-app message (badge and corner pop-up) and an
SMS through the outbox, sent once the surrounding transaction commits."""

from rencai.notifications.models import Message
from rencai.notifications.sms import sms_enqueue


def notify(*, user, title: str, body: str, link: str = "", sms: bool = True) -> Message:
    message = Message.objects.create(user=user, title=title[:100], body=body, link=link)
    if sms and user.phone:
        sms_enqueue(phone=user.phone, purpose="notice", body=f"【{title}】{body}")
    return message


def notify_many(*, users, title: str, body: str, link: str = "", sms: bool = True) -> None:
    for user in users:
        notify(user=user, title=title, body=body, link=link, sms=sms)


def message_mark_read(*, user, pk: int | None = None) -> int:
    from django.utils import timezone

    qs = Message.objects.filter(user=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
