from django.contrib.auth.backends import ModelBackend

from rencai.accounts.models import User
from rencai.prepared import PreparedGet

# Every signed-in request reads its user: a statement compiled once per process (issue 7).
_user = PreparedGet(lambda: User._default_manager.all())


class IdentifierBackend(ModelBackend):
    """Session backend for users logged in through the login services, and for the admin
    (which authenticates by login name). Lockout is enforced by the login services, and
    ``authenticate`` here refuses closed accounts."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from rencai.accounts.services import login_check_password
        from rencai.errors import ServiceError

        if username is None or password is None:
            return None
        try:
            user = login_check_password(identifier=username, password=password, request=request)
        except ServiceError:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_user(self, user_id):
        """``ModelBackend.get_user``: the session's user, if still allowed in."""
        user = _user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user: User) -> bool:
        return super().user_can_authenticate(user) and user.closed_at is None
