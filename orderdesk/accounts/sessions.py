"""Django's database sessions, with the session's read compiled by the ORM once per process:
on every signed-in page its building and compiling cost more CPU than running it."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import router
from django.utils import timezone

from orderdesk.compiled_queries import CompiledOnce

# The session by its key; whether it has expired is checked on the row read (as Django's query does).
_session_by_key = CompiledOnce(
    lambda session_key: Session.objects.filter(session_key=session_key).order_by(),
    "no-session-has-this-key-it-is-too-long-and-has-dashes",
    prepared=True,  # every signed-in page runs it: planned once per connection on PostgreSQL
)


class SessionStore(DatabaseSessionStore):
    """django.contrib.sessions.backends.db's store; only its read of the session row differs."""

    @classmethod
    def get_model_class(cls):
        return Session

    def _get_session_from_db(self):
        if self.session_key:
            found = _session_by_key(self.session_key, using=router.db_for_read(Session))
            if found and found[0].expire_date > timezone.now():
                return found[0]
        self._session_key = None
        return None
