"""The Django app of presence: INSTALLED_APPS = [..., "presence.django"]."""

from django.apps import AppConfig


class PresenceConfig(AppConfig):
    """PresenceConfig connects presence's login and logout receivers and
    registers its system checks when Django starts."""

    name = "presence.django"
    label = "presence"
    verbose_name = "presence"
    default = True

    def ready(self) -> None:
        from . import checks, signals

        signals.connect()
        checks.register()
