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
