"""Background tasks of notifications (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task


@task()
def deliver_sms(message_ids: list[int]) -> int:
    """Send queued outbox messages (progress notices, see ``sms_enqueue_many``)."""
    from rencai.notifications.sms import _deliver_many

    _deliver_many(message_ids)
    return len(message_ids)
