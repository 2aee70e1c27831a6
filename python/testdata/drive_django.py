"""Drives a project made by django-admin startproject with the steps of
docs/django.md applied (package_test.go): from the project's folder,
with DJANGO_SETTINGS_MODULE set and SITE_ADDR where presence's webhook
reaches it. It creates a superuser, logs in through the admin's login
form with Django's test client, and shows the admin's index page; then
answers the Go test's commands (drive.py)."""

import os
import sys

sys.path.insert(0, os.getcwd())  # the project
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.test import Client  # noqa: E402

from drive import loop, say, serve  # noqa: E402
from presence import session_id  # noqa: E402


def main():
    get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-admin-123")
    serve(get_wsgi_application(), os.environ["SITE_ADDR"])
    # The host runserver allows with DEBUG and no ALLOWED_HOSTS, as the
    # project is: the test client's own, testserver, needs a test runner.
    client = Client(HTTP_HOST="127.0.0.1")
    resp = client.post("/admin/login/?next=/admin/",
                       {"username": "admin", "password": "pw-admin-123", "next": "/admin/"})
    if resp.status_code != 302:
        raise SystemExit("the admin's login answered %d" % resp.status_code)
    page = client.get("/admin/")
    say({"sid": session_id(settings.SECRET_KEY, client.cookies["sessionid"].value),
         "page": page.content.decode()})

    def get(path):
        r = client.get(path)
        return r.status_code, r.get("Location"), r.content.decode()

    loop(get)


if __name__ == "__main__":
    main()
