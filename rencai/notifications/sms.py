"""SMS backends. ``SMS_BACKEND`` names one; a real provider is a settings change.

Every backend receives an ``SmsMessage`` already stored in the outbox and only delivers it.
"""

import json
import logging
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from rencai.bulk import insert_many
from rencai.notifications.models import SmsMessage

log = logging.getLogger(__name__)


class BaseBackend:
    def deliver(self, message: SmsMessage) -> None:
        raise NotImplementedError


class FileBackend(BaseBackend):
    """Appends each message to a file (default ``var/sms-outbox.log``) and logs it."""

    def deliver(self, message):
        path = settings.SMS_FILE_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {message.phone} {message.body}\n"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line)
        log.info("SMS to %s: %s", message.phone, message.body)


class ConsoleBackend(BaseBackend):
    def deliver(self, message):
        print(f"[SMS] {message.phone}: {message.body}", flush=True)


class MemoryBackend(BaseBackend):
    """For tests: the outbox table itself is the record; nothing leaves the process."""

    sent: list = []

    def deliver(self, message):
        MemoryBackend.sent.append((message.phone, message.body))


class HttpBackend(BaseBackend):
    """Posts JSON {phone, text} to ``SMS_HTTP_URL`` (a gateway of the city's choosing)."""

    def deliver(self, message):
        if not settings.SMS_HTTP_URL.startswith(("https://", "http://")):
            raise RuntimeError("SMS_HTTP_URL must be an http(s) URL")
        data = json.dumps({"phone": message.phone, "text": message.body}).encode()
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            settings.SMS_HTTP_URL, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - scheme checked above
            if resp.status >= 300:
                raise RuntimeError(f"gateway answered {resp.status}")


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def _deliver(message_id: int) -> None:
    _deliver_many([message_id])


def _deliver_many(message_ids: list[int]) -> None:
    """Hand the messages to the backend; a failure is recorded, never raised to the user.
    The outbox rows are read once and marked in two statements however many there are.
    Messages already sent are skipped: a task run again after its worker died (rencai/ops/
    workers.py) resends only what was not marked sent."""
    backend = get_backend()
    sent, failed = [], {}
    outbox = SmsMessage.objects.filter(pk__in=message_ids).exclude(status=SmsMessage.Status.SENT)
    for message in outbox.order_by("id"):
        try:
            backend.deliver(message)
        except Exception as exc:
            log.exception("SMS delivery failed")
            failed[message.pk] = str(exc)[:500]
        else:
            sent.append(message.pk)
    if sent:
        SmsMessage.objects.filter(pk__in=sent).update(status="sent", sent_at=timezone.now())
    for pk, error in failed.items():
        SmsMessage.objects.filter(pk=pk).update(status="failed", error=error)


def sms_enqueue_many(messages: list[tuple[str, str, str]]) -> list[SmsMessage]:
    """Store progress notices (phone, purpose, body) in the outbox, in one insert, and
    hand them to the background worker once the transaction commits: a submission does
    not wait for the SMS gateway, and a batch job's thousands of notices go out in one
    task (issue 7). Verification codes do not wait: ``sms_enqueue`` sends at once."""
    from rencai.notifications.tasks import deliver_sms

    rows = [
        SmsMessage(phone=phone, purpose=purpose, body=body) for phone, purpose, body in messages
    ]
    insert_many(SmsMessage, rows, numbered=True)
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: deliver_sms.enqueue(ids))
    return rows


def sms_enqueue(*, phone: str, purpose: str, body: str) -> SmsMessage:
    """Store the message in the outbox; deliver it once the surrounding transaction commits."""
    message = SmsMessage.objects.create(phone=phone, purpose=purpose, body=body)
    transaction.on_commit(lambda: _deliver(message.pk))
    return message
