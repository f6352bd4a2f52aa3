"""The Celery application: web, worker and beat share these settings."""

import functools
import logging
import os
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshe.settings")

logger = logging.getLogger(__name__)


class OnCommitTask(DjangoTask):
    """Enqueues on commit, and survives a broker that is down at that moment.

    The transaction has committed by then, so raising would turn a done action into a 500.
    Every task enqueued this way has a database record a periodic sweep finds again (claim
    e-mails, bulk jobs, deliveries and notices: see CELERY_BEAT_SCHEDULE), so the work is
    delayed, not lost, and a warning says so.
    """

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        transaction.on_commit(functools.partial(self._enqueue, args, kwargs, {}))

    def apply_async_on_commit(self, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        transaction.on_commit(functools.partial(self._enqueue, args, kwargs, options))

    def _enqueue(self, args: Any, kwargs: Any, options: dict[str, Any]) -> None:
        given = {"args": args, "kwargs": kwargs}
        try:
            self.apply_async(**{k: v for k, v in given.items() if v is not None}, **options)
        except (BrokerUnavailable, ConnectionError) as exc:
            logger.warning("Queue unavailable, %s left to its sweep: %s", self.name, exc)


app = Celery("meshe", task_cls=OnCommitTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
