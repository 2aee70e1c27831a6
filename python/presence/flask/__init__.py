"""presence.flask gives a Flask application what presence.django gives a
Django site (docs/flask.md):

    from presence.flask import Presence

    presence = Presence(app)        # or presence.init_app(app)

    @app.post("/login")
    def login():
        ...                         # the application's own login
        presence.login(user.id)     # registers the session with presence

    @app.post("/logout")
    def logout():
        presence.logout()           # ends the session in every tab
        session.clear()

and {{ presence_script() }} in the base template. Requests of the session
count as activity, those of an ended session find flask.session cleared,
and presence's webhook is received at /presence/webhook/.
"""

from .extension import Presence

__all__ = ["Presence"]
