"""The session store (``SESSION_ENGINE``): Django's database sessions, with the session
row read by a statement compiled once per process (``rencai.prepared``, issue 7). Every
signed-in request reads its session; the ORM building that query anew each time was a
tenth of a cheap request's Python. Expiry, decoding and writing are Django's."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from rencai.prepared import PreparedGet

_session = PreparedGet(lambda: Session.objects.all())


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        session = _session(self.session_key)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None  # as Django's store: a new session from here on
            return None
        return session
