"""The example site's settings plus the harness's clock, lifetime, cookie
path, and the counter under /app/ (the session path test)."""

import os

from file_clock import test_options
from mysite.settings import *  # noqa: F401,F403

SPYSESSION_OPTIONS = test_options()
if os.environ.get("SPYSESSION_TEST_LIFETIME"):
    SESSION_COOKIE_AGE = int(os.environ["SPYSESSION_TEST_LIFETIME"])
if os.environ.get("SPYSESSION_TEST_PATH"):
    SESSION_COOKIE_PATH = os.environ["SPYSESSION_TEST_PATH"]
ROOT_URLCONF = "django_test_urls"
