from django.apps import AppConfig


class OpsConfig(AppConfig):
    """No models: management commands only (backup, restore, db_worker, requeue_stale_tasks).
    Listed before django_tasks_db in INSTALLED_APPS so that its ``db_worker`` is the one
    ``manage.py db_worker`` runs."""

    name = "rencai.ops"
