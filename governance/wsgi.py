"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
application = get_wsgi_application()

# A web process starting (a restarted server, a gunicorn worker replacing one that was
# killed) removes the upload files that dead processes left (accounts/upload_temp.py).
from accounts.upload_temp import upload_temp_sweep  # noqa: E402

upload_temp_sweep()
