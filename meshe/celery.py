"""The Celery application: web, worker and beat share these settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshe.settings")

app = Celery("meshe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
