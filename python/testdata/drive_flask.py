"""Drives the minimal Flask application of docs/flask.md, saved as app.py
in the working folder (package_test.go), with SITE_ADDR where presence's
webhook reaches it: it logs in through the application's login form with
Flask's test client and shows its page; then answers the Go test's
commands (drive.py)."""

import os
import sys

sys.path.insert(0, os.getcwd())  # app.py
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))

from drive import loop, say, serve  # noqa: E402

from app import app  # noqa: E402


def main():
    serve(app, os.environ["SITE_ADDR"])
    client = app.test_client()
    resp = client.post("/login", data={"username": "alice", "password": "demo"})
    if resp.status_code != 302:
        raise SystemExit("the login answered %d" % resp.status_code)
    with client.session_transaction() as s:
        sid = s.get("_presence_sid")
    say({"sid": sid, "page": client.get("/").get_data(as_text=True)})

    def get(path):
        r = client.get(path)
        return r.status_code, r.headers.get("Location"), r.get_data(as_text=True)

    loop(get)


if __name__ == "__main__":
    main()
