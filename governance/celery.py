"""The Celery application.

Settings come from Django settings under the ``CELERY_`` namespace; tasks are
discovered in every installed app's ``tasks.py``. The periodic schedule lives in
``settings.CELERY_BEAT_SCHEDULE`` (one place, in code).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
