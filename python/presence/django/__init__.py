"""presence.django replaces django-session-security with presence.

Add "presence.django" to INSTALLED_APPS and PresenceMiddleware after
AuthenticationMiddleware (docs/django.md walks through it):

- PresenceMiddleware counts every request of a logged-in session whose
  path is not passive as activity, queued in the process and sent to
  presence by a background thread, never on the request's path; and it
  logs out the requests of sessions presence ended.
- The app's ready() connects receivers of user_logged_in, which tells
  presence of each login (so a session with no tab and no JavaScript
  still times out), and user_logged_out, which ends the session in every
  tab.
- webhook_view receives presence's webhook: it records the end and
  deletes the login session.
- presence_context gives templates the page's token.

Settings are read in presence.django.conf; the logic underneath is the
framework-free presence package.
"""

from .context_processors import presence_context
from .middleware import PresenceMiddleware
from .views import webhook_view

__all__ = ["PresenceMiddleware", "presence_context", "webhook_view"]
