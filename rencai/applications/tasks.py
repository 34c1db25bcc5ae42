"""Background tasks (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task


@task()
def run_batch_job(job_id: int) -> dict:
    from rencai.applications.transitions import batch_run

    job = batch_run(job_id)
    return {"done": job.done, "failed": job.failed}
