"""presence's URLs in the application: path("presence/",
include("presence.django.urls")).

webhook/ receives presence's expiry webhook: give presence its full
address, with the trailing slash, as -webhook-url
(https://app.example.com/presence/webhook/).
"""

from django.urls import path

from .views import webhook_view

app_name = "presence"

urlpatterns = [
    path("webhook/", webhook_view, name="webhook"),
]
