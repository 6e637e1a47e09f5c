"""examples/django_site as the HTTP tests run it (settings: django_test_settings)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "django_site"))
os.environ["DJANGO_SETTINGS_MODULE"] = "django_test_settings"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
