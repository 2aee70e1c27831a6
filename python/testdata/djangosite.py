"""A small Django site set up as docs/django.md says, for the live tests:
SQLite, the database cache, presence.django's app, middleware, URLs and
template tag, a login page, a page that loads presence.js and pages that
do not (as /admin/ does not).

It migrates, creates the users alice and bob, then serves with the
threaded WSGI server of runserver on 127.0.0.1 at a free port, printed as
"listening <port>" on stdout. Configured from the environment:
SITE_DIR (where the database goes), PRESENCE_SECRET, PRESENCE_URL,
PRESENCE_API_URL, PRESENCE_API_KEY, and optionally SITE_WARN_AFTER and
SITE_EXPIRE_AFTER (Django's PRESENCE_WARN_AFTER and PRESENCE_EXPIRE_AFTER).

A call of presence's API made while the site serves a request is logged
on stderr as "presence API called while serving a request": the
middleware promises that no request waits on presence, and the live
tests look for the line, which no clock on a busy machine can tell.
"""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

env = os.environ
settings.configure(
    DEBUG=False,
    SECRET_KEY="django-insecure-site-key-for-presence-tests-0123456789",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "presence.django",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "presence.django.PresenceMiddleware",
    ],
    ROOT_URLCONF=__name__,
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
            "loaders": [("django.template.loaders.locmem.Loader", {
                "registration/login.html": (
                    '<form method="post">{% csrf_token %}{{ form.as_p }}<button>Log in</button></form>'),
                "app.html": "<h1>Hello {{ user.username }}</h1>{% load presence %}{% presence_script %}",
            })],
        },
    }],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.path.join(env["SITE_DIR"], "db.sqlite3")}},
    CACHES={"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                        "LOCATION": "presence_cache"}},
    # A hash that costs no CPU: each login would otherwise take seconds on
    # a busy machine, and the tests time what presence does.
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    LOGIN_URL="/accounts/login/",
    LOGIN_REDIRECT_URL="/app/",
    USE_TZ=True,
    PRESENCE_REDIRECT_TO_LOGOUT=True,
    PRESENCE_SECRET=env["PRESENCE_SECRET"],
    PRESENCE_URL=env["PRESENCE_URL"],
    PRESENCE_API_URL=env["PRESENCE_API_URL"],
    PRESENCE_API_KEY=env["PRESENCE_API_KEY"],
    PRESENCE_WARN_AFTER=int(env["SITE_WARN_AFTER"]) if env.get("SITE_WARN_AFTER") else None,
    PRESENCE_EXPIRE_AFTER=int(env["SITE_EXPIRE_AFTER"]) if env.get("SITE_EXPIRE_AFTER") else None,
)
django.setup()

from django.contrib.auth import views as auth_views  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import include, path  # noqa: E402


@login_required
def app(request):
    return render(request, "app.html")


@login_required
def plain(request):
    """A page without presence.js, as Django's admin."""
    return HttpResponse("plain page of %s" % request.user.username)


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/accounts/login/"), name="logout"),
    path("app/", app),
    path("plain/", plain),
    path("presence/", include("presence.django.urls")),
]


serving = threading.local()


def watch_api_calls():
    """Makes presence's API Client log each call made in a thread that
    serves a request."""
    from presence import api

    call = api.Client._call

    def watched(self, method, path, body):
        if getattr(serving, "request", False):
            print("presence API called while serving a request: %s %s" % (method, path), file=sys.stderr, flush=True)
        return call(self, method, path, body)

    api.Client._call = watched


def watch_requests(application):
    """Marks the thread that runs application as serving a request."""

    def wrapped(environ, start_response):
        serving.request = True
        try:
            return application(environ, start_response)
        finally:
            serving.request = False

    return wrapped


def main():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    for name in ("alice", "bob"):
        get_user_model().objects.create_user(name, password="pw-%s-123" % name)
    httpd = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    watch_api_calls()
    httpd.set_app(watch_requests(get_wsgi_application()))
    print("listening %d" % httpd.server_address[1], flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
