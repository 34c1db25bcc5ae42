"""Background tasks (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task


@task()
def run_batch_job(job_id: int) -> dict:
    from rencai.applications.transitions import batch_run

    job = batch_run(job_id)
    return {"done": job.done, "failed": job.failed}


@task()
def send_notices(to_users: list[dict], to_stages: list[dict]) -> int:
    """Messages and SMS written in a request and sent from here (``_tell_later``, issue 7):
    ``to_users`` each {users: [ids], title, body, link}; ``to_stages`` each {employers:
    [ids], authority: id, title, body, link} for the people acting at a stage. One
    transaction: all of them or, if it fails, none (the task is tried again)."""
    from django.db import transaction

    from rencai.accounts.models import User
    from rencai.applications.access import stage_people
    from rencai.notifications.services import notify_each

    with transaction.atomic():
        items = []
        for notice in to_users:
            users = User.objects.filter(pk__in=notice["users"]).order_by("id")
            items += [(u, notice["title"], notice["body"], notice["link"]) for u in users]
        for notice in to_stages:
            users = stage_people(notice["employers"], notice["authority"]).order_by("id")
            items += [(u, notice["title"], notice["body"], notice["link"]) for u in users]
        notify_each(items)
    return len(items)
