from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("login", views.login),
    path("logout", views.logout),
    path("whoami", views.whoami),
    path("set/<str:key>", views.set_key),
    path("keys", views.keys),
    path("health", views.health),
]
