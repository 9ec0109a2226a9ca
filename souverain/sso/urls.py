from django.urls import path

from . import views

app_name = "sso"
urlpatterns = [
    path("sso/login/", views.start, name="login"),
    path("sso/callback/", views.callback, name="callback"),
]
