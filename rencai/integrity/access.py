"""Who may put people on the exception list and lift entries: the administrators the
admin site lets do it (the model permissions, which a superuser has). The services ask
here too, so no other path can write the list."""

from rencai.integrity.models import ExceptionEntry

_APP = ExceptionEntry._meta.app_label
_MODEL = ExceptionEntry._meta.model_name


def may_add_entry(user) -> bool:
    return bool(getattr(user, "is_active", False) and user.has_perm(f"{_APP}.add_{_MODEL}"))


def may_lift_entry(user) -> bool:
    return bool(getattr(user, "is_active", False) and user.has_perm(f"{_APP}.change_{_MODEL}"))
