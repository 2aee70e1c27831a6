"""The Django the test_django* modules share: settings, a URLconf, a fake
presence API, and a TestCase base. Django is configured once per process,
at the first import; without Django the importing module is skipped.

presence's API is a fake here; live_test.go and package_test.go run real
Django sites against the real presence."""

import logging
import unittest

try:
    import django
except ImportError:
    raise unittest.SkipTest("Django is not installed for this interpreter")

from fakes import API_KEY, SECRET, SID_SECRET, FakePresence  # noqa: E402

FAKE = FakePresence()
# The sender's reports of a presence that hangs (one test makes it hang)
# are not these modules' subject.
logging.getLogger("presence").addHandler(logging.NullHandler())
logging.getLogger("presence").propagate = False

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY=SID_SECRET.decode(),
    ALLOWED_HOSTS=["testserver"],
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                    "presence.django"],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "presence.django.PresenceMiddleware"],
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"],
            "loaders": [("django.template.loaders.locmem.Loader", {
                "base.html": "<title>t</title>{% load presence %}{% presence_script %}",
                "login.html": "<form method=\"post\">{% csrf_token %}{{ form }}</form>",
            })],
        },
    }],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    SILENCED_SYSTEM_CHECKS=["presence.W002"],
    ROOT_URLCONF=__name__,
    LOGIN_URL="/login/",
    SESSION_COOKIE_AGE=1209600,
    PRESENCE_SECRET=SECRET.decode(),
    PRESENCE_URL="https://p.example.com",
    PRESENCE_API_URL=FAKE.url,
    PRESENCE_API_KEY=API_KEY,
    # The fake answers at once, but a busy machine can hold its thread past
    # the default 2 s; the sender would then send the batch again, and the
    # fake hear it twice.
    PRESENCE_API_TIMEOUT=10,
    PRESENCE_WARN_AFTER=20,
    PRESENCE_EXPIRE_AFTER=30,
    PRESENCE_PASSIVE_URLS=["/poll/", "/live/*"],
    PRESENCE_PASSIVE_URL_NAMES=["dashboard"],
)
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.contrib.auth.views import LoginView, LogoutView  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import include, path  # noqa: E402

import presence  # noqa: E402
from presence.django import conf  # noqa: E402


@login_required
def page(request):
    return HttpResponse("page of %s" % request.user.username)


def data(request):
    return JsonResponse({"user": request.user.username})


def base(request):
    return render(request, "base.html")


urlpatterns = [
    path("login/", LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", LogoutView.as_view(next_page="/login/"), name="logout"),
    path("page/", page),
    path("data/", data),
    path("poll/", base),
    path("live/feed/", page),
    path("dashboard/", base, name="dashboard"),
    path("base/", base),
    path("presence/", include("presence.django.urls")),
]

_migrated = False


def setUpModule():
    """Creates the tables and the user alice, once per process."""
    global _migrated
    if not _migrated:
        call_command("migrate", run_syncdb=True, verbosity=0)
        get_user_model().objects.create_user("alice", password="pw-alice-123")
        _migrated = True


def sid_of(client):
    return presence.session_id(SID_SECRET, client.cookies["sessionid"].value)


class DjangoCase(unittest.TestCase):
    """DjangoCase starts each test with an empty cache and a fake presence
    that has heard nothing."""

    def setUp(self):
        cache.clear()
        conf.sender().flush()
        FAKE.answer = FAKE.all_active
        with FAKE.lock:
            FAKE.requests.clear()

    def sent(self):
        """Every activity entry presence received since setUp, after a
        flush."""
        conf.sender().flush()
        return [e for b in FAKE.batches() for e in b]

    def login(self, client=None):
        client = client or Client()
        resp = client.post("/login/", {"username": "alice", "password": "pw-alice-123"})
        self.assertEqual(resp.status_code, 302, resp.content[:200])
        return client
