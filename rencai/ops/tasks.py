"""The task queue (``settings.TASKS``): django-tasks-db's database backend, with the task
row stored by ``rencai.bulk.insert_one`` instead of the ORM's ``create`` (issue 7: building
that insert cost more Python than the statement cost PostgreSQL). Workers (``manage.py
db_worker``) run the rows as before, and send the messages waiting in events
(``rencai.applications.notices``)."""

from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json
from django_tasks_db.backend import DatabaseBackend as BaseDatabaseBackend

from rencai.bulk import insert_one


class DatabaseBackend(BaseDatabaseBackend):
    # tasks run later, in a worker: a step's messages wait in its event for it
    runs_in_worker = True

    def enqueue(self, task, args, kwargs):
        """The library's ``enqueue``, with the result built once instead of twice (each
        build imports the task by its path again)."""
        self.validate_task(task)
        result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=result)
        return result

    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        return insert_one(
            DBTaskResult(
                id=self._get_id(),
                args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after,
                backend_name=self.alias,
            )
        )
