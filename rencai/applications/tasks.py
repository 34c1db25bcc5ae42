"""Background tasks (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task


@task()
def run_batch_job(job_id: int) -> dict:
    from rencai.applications.transitions import batch_run

    job = batch_run(job_id)
    return {"done": job.done, "failed": job.failed}


@task()
def send_notices(to_users: list[dict], to_stages: list[dict]) -> int:
    """A submission's messages as task rows stored them before migration applications.0014
    (now they are in the step's event, ``rencai.applications.notices``): kept so that rows
    queued before an upgrade are still sent."""
    from django.db import transaction

    from rencai.applications.notices import deliver

    with transaction.atomic():
        return deliver(to_users, to_stages)
