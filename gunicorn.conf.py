"""gunicorn's settings for MESHE's web processes: the Dockerfile, docker-compose.yml and
bench/verify_load.py all start `gunicorn meshe.wsgi:application -c gunicorn.conf.py`.

Threaded workers keep connections alive (a sync worker closes each one after its response, so
every request pays a new TCP connection) and let a request waiting on PostgreSQL or Redis give
the core to another. Three processes of two threads suit a 2-core machine; set
WEB_CONCURRENCY and MESHE_WEB_THREADS for a larger one (about 2 x cores + 1 processes).
"""

import os

bind = os.environ.get("MESHE_WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("MESHE_WEB_THREADS", "2"))
# Behind the proxy, idle client connections are closed after this many seconds.
keepalive = 5
accesslog = "-"


def post_worker_init(worker: object) -> None:
    """Hand the GIL between threads every 0.5 ms instead of CPython's 5 ms. A thread spending CPU
    on a costly document (up to its work budget) otherwise keeps the GIL 5 ms at a time, and a
    page thread of the same process waits that long again after each database answer: a page of
    twenty queries took 0.1 s longer (the convoy effect, measured by bench/soak.py).

    Then start the worker's canonicalising processes (meshe/heavy_work.py), so that the first
    costly document does not wait for them."""
    import sys

    from django.conf import settings

    from meshe import heavy_work

    sys.setswitchinterval(0.0005)
    if settings.MESHE_HEAVY_WORK_IN_SUBPROCESSES:
        heavy_work.canonicalizing_processes().warm()
