from django.urls import path
from mysite import views
from mysite.urls import urlpatterns as site

urlpatterns = [*site, path("app/", views.index)]
