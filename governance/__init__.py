"""Project package (settings, URLs, Celery app) and the governance framework app."""

from governance.celery import app as celery_app

__all__ = ("celery_app",)
