"""presence.django replaces django-session-security with presence.

Add "presence.django" to INSTALLED_APPS, "presence.django.PresenceMiddleware"
after AuthenticationMiddleware, path("presence/",
include("presence.django.urls")) to the URLs and {% load presence %}{%
presence_script %} to the base template (docs/django.md):

- PresenceMiddleware counts every request of a logged-in session whose
  path is not passive as activity, queued in the process and sent to
  presence by a background thread, never on the request's path; and it
  logs out the requests of sessions presence ended.
- The app's ready() connects receivers of user_logged_in, which tells
  presence of each login (so a session with no tab and no JavaScript
  still times out), and user_logged_out, which ends the session in every
  tab; and registers the system checks (checks.py).
- presence.django.urls routes webhook_view, which receives presence's
  webhook: it records the end and deletes the login session.
- The template tag presence_script renders presence.js's script tag;
  presence_context gives templates the page's token for a tag of their
  own.

Settings are read in presence.django.conf; the logic underneath is the
framework-free presence package.
"""

from .context_processors import presence_context
from .middleware import PresenceMiddleware
from .views import webhook_view

__all__ = ["PresenceMiddleware", "presence_context", "webhook_view"]
