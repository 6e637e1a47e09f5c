"""A Django site whose sessions live in spysession.

    SPYSESSION_STORE=/tmp/sessions gunicorn --pythonpath examples/django_site -w 2 --threads 8 mysite.wsgi

The two lines a site adds are SESSION_ENGINE and SPYSESSION_STORE.
"""

import os

SESSION_ENGINE = "spysession.django"
SPYSESSION_STORE = os.environ.get("SPYSESSION_STORE", "memory:")  # a store URL, or a store object

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret-" + "x" * 30)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "mysite.urls"
# django.contrib.sessions for `manage.py clearsessions`; no database is needed.
INSTALLED_APPS = ["django.contrib.sessions"]
DATABASES: dict = {}
# Only what the example needs; a real site keeps its CSRF middleware (the
# example's POST views are called by scripts).
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
USE_TZ = True
