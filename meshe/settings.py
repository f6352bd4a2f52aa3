"""MESHE settings. Everything that differs between installations comes from the environment."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from meshe.environment import (
    env_bool,
    env_int,
    env_json_list,
    env_list,
    env_overrides,
    env_secret,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / env_str("MESHE_VAR_DIR", "var")  # relative to the project, or absolute

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret(
    "SECRET_KEY", debug=DEBUG, store=VAR_DIR / "dev-secrets.json", min_length=50
)
# Encrypts institutions' private signing keys at rest; losing it means re-keying.
MESHE_KEY_ENCRYPTION_SECRET = env_secret(
    "MESHE_KEY_ENCRYPTION_SECRET", debug=DEBUG, store=VAR_DIR / "dev-secrets.json"
)

# The public address of this node: did:web identifiers and links in credentials derive from it.
# `make run PORT=…` sets it to http://127.0.0.1:<PORT>; this default is `make run`'s own.
MESHE_BASE_URL = env_url("MESHE_BASE_URL", "http://127.0.0.1:8000")
_base = urlsplit(MESHE_BASE_URL)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [_base.hostname or "localhost"] + (["localhost", "127.0.0.1"] if DEBUG else [])
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_base.scheme}://{_base.netloc}"])
# Browsers share cookies between the ports of one host: nodes side by side on 127.0.0.1 (the
# exchange demo, bin/exchange-demo) name theirs apart, or signing in to one signs out the other.
SESSION_COOKIE_NAME = env_str("MESHE_SESSION_COOKIE_NAME", "sessionid")
CSRF_COOKIE_NAME = env_str("MESHE_CSRF_COOKIE_NAME", "csrftoken")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "meshe",
    "accounts",
    "learners",
    "institutions",
    "credentials",
    "exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # allauth's lock after repeated failed sign-ins answers 429 with Retry-After, not 200.
    "accounts.middleware.LoginLockoutMiddleware",
    # Costly canonicalisation runs in a few slots per host, so that pages keep their cores.
    "meshe.heavy_work.HeavyWorkGateMiddleware",
]

ROOT_URLCONF = "meshe.urls"
WSGI_APPLICATION = "meshe.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "institutions.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite for a laptop, PostgreSQL (DATABASE_URL) for everything real.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'meshe.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests share a file, not memory, so a Celery worker process can see their rows.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis (REDIS_URL) serves as broker and cache; without it the broker is a folder and the
# cache a directory, both shared by the web and worker processes of one machine.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// or rediss:// URL, not {REDIS_URL!r}.")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down must not take pages down: see meshe/cache.py.
            "BACKEND": "meshe.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable host costs a page at most this long per cache call.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # The folder transport ignores the host; naming one keeps kombu from warning on every command.
    CELERY_BROKER_URL = "filesystem://localhost/"
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # The folder is polled; kombu's default of once a second also holds back each worker
        # process that finishes a task until the next poll, so a busy worker managed about
        # one task a second per process (2 deliveries/s between two nodes, whatever they cost).
        "polling_interval": 0.1,
    }
    for _folder in ("queue", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)

# Set to "pdf" on the processes that enqueue, and run a worker for that queue that recycles
# itself (weasyprint grows with each render): celery -A meshe worker -Q pdf
# --max-tasks-per-child=200. Empty: the default worker renders certificates too.
MESHE_PDF_QUEUE = env_str("MESHE_PDF_QUEUE", "")
# Claim e-mails to learners go on their own queue, so a bulk job never waits behind the
# e-mails of the jobs before it. A worker started without -Q consumes every queue named here
# (make run, CI); in production the default worker takes -Q celery and a mail worker -Q mail.
MESHE_MAIL_QUEUE = env_str("MESHE_MAIL_QUEUE", "mail")
# Signed messages to partner nodes: a send mostly waits for the partner to verify and answer,
# so in production a worker of threads takes this queue and keeps several in flight
# (celery -A meshe worker -Q exchange --pool=threads --concurrency=8).
MESHE_EXCHANGE_QUEUE = env_str("MESHE_EXCHANGE_QUEUE", "exchange")
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name)
    for name in dict.fromkeys(["celery", MESHE_MAIL_QUEUE, MESHE_EXCHANGE_QUEUE, MESHE_PDF_QUEUE])
    if name
]
_MAIL = {"queue": MESHE_MAIL_QUEUE or CELERY_TASK_DEFAULT_QUEUE}
_EXCHANGE = {"queue": MESHE_EXCHANGE_QUEUE or CELERY_TASK_DEFAULT_QUEUE}
CELERY_TASK_ROUTES = {
    "credentials.issuing.tasks.notify_holders": _MAIL,
    "credentials.issuing.tasks.resend_claim_link": _MAIL,
    "exchange.tasks.deliver": _EXCHANGE,
    "exchange.tasks.deliver_batch": _EXCHANGE,
    "exchange.tasks.notice_send": _EXCHANGE,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Retries of deliveries and notices are messages with an ETA (up to 1.5 times the retry cap,
# or a partner's Retry-After), held by a worker until then. With Redis, a message not acked
# within the transport's visibility_timeout (one hour by default) is delivered again, so a long
# retry may come twice: harmless, since sending claims the row with a compare-and-set and the
# second copy finds it sent or not due. The folder broker's worker holds ETA messages too.
# Exchange between nodes. Deliveries and notices are retried with exponential backoff and
# jitter (base, doubling up to the cap), and marked failed, with the admins alerted, once
# MESHE_DELIVERY_GIVE_UP_SECONDS have passed since the first try.
MESHE_DELIVERY_RETRY_BASE_SECONDS = env_int("MESHE_DELIVERY_RETRY_BASE_SECONDS", 30, minimum=1)
MESHE_DELIVERY_RETRY_CAP_SECONDS = env_int("MESHE_DELIVERY_RETRY_CAP_SECONDS", 3600, minimum=1)
MESHE_DELIVERY_GIVE_UP_SECONDS = env_int("MESHE_DELIVERY_GIVE_UP_SECONDS", 3 * 86400, minimum=1)
MESHE_OUTBOX_SWEEP_SECONDS = env_int("MESHE_OUTBOX_SWEEP_SECONDS", 60, minimum=1)
MESHE_CATALOGUE_SYNC_SECONDS = env_int("MESHE_CATALOGUE_SYNC_SECONDS", 15 * 60, minimum=10)
# Work whose queue message was lost (a worker killed, the broker down when it was enqueued) is
# found in the database and enqueued again: claim e-mails not sent after this many seconds, and
# bulk jobs whose last chunk is older than MESHE_BULK_STALL_SECONDS (a chunk takes seconds).
MESHE_WORK_SWEEP_SECONDS = env_int("MESHE_WORK_SWEEP_SECONDS", 300, minimum=10)
MESHE_BULK_STALL_SECONDS = env_int("MESHE_BULK_STALL_SECONDS", 600, minimum=10)
# Web requests whose documents take the general canonicalisation path (a shape this node has not
# compiled) run at most this many at once on the host (meshe/heavy_work.py); one that waits longer
# than the milliseconds below for a slot is answered 503 with Retry-After.
MESHE_HEAVY_WORK_SLOTS = env_int(
    "MESHE_HEAVY_WORK_SLOTS", max(1, (os.cpu_count() or 2) // 2), minimum=1
)
MESHE_HEAVY_WORK_WAIT_MS = env_int("MESHE_HEAVY_WORK_WAIT_MS", 2000, minimum=0)
# That work runs in a few lower-priority processes beside each web process, not in its threads.
MESHE_HEAVY_WORK_IN_SUBPROCESSES = env_bool("MESHE_HEAVY_WORK_IN_SUBPROCESSES", True)

# Periodic jobs, each with why it runs.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Sends deliveries and notices whose scheduled retry message was lost (their next try is
    # long past), and those a lost worker left half-sent. Retries themselves go at their time.
    "exchange-outbox-sweep": {
        "task": "exchange.tasks.outbox_sweep",
        "schedule": float(MESHE_OUTBOX_SWEEP_SECONDS),
    },
    # Pulls each agreed partner's catalogue feed for changes since the last sync.
    "exchange-catalogues-sync": {
        "task": "exchange.tasks.catalogues_sync",
        "schedule": float(MESHE_CATALOGUE_SYNC_SECONDS),
    },
    # Enqueues again bulk jobs that stopped moving: their worker or queue message was lost.
    "credentials-bulk-jobs-resume": {
        "task": "credentials.issuing.tasks.bulk_jobs_resume",
        "schedule": float(MESHE_WORK_SWEEP_SECONDS),
    },
    # Sends claim e-mails that were never enqueued, e.g. while the broker was down.
    "credentials-holders-notify-sweep": {
        "task": "credentials.issuing.tasks.holders_notify_sweep",
        "schedule": float(MESHE_WORK_SWEEP_SECONDS),
    },
    # E-mails learners partners' recognition decisions that were never enqueued.
    "exchange-decisions-notify-sweep": {
        "task": "exchange.tasks.decisions_notify_sweep",
        "schedule": float(MESHE_WORK_SWEEP_SECONDS),
    },
    # Checks again the endorsements of our offers that were received or recorded: an endorser
    # outside MESHE tells nobody when it revokes one, its status list does.
    "credentials-endorsements-recheck": {
        "task": "credentials.issuing.tasks.endorsements_recheck",
        "schedule": 86400.0,
    },
    # Forgets request nonces older than the signature window; replays of them fail on `created`.
    "exchange-nonces-forget": {
        "task": "exchange.tasks.nonces_forget",
        "schedule": 600.0,
    },
}

# Outbound requests (did:web, partner nodes) never reach private networks; plain http to
# loopback is allowed only for development and tests with two local nodes.
MESHE_OUTBOUND_ALLOW_LOOPBACK = env_bool("MESHE_OUTBOUND_ALLOW_LOOPBACK", DEBUG)
# ESCO skills for the type-ahead, built by bin/build-esco-index (which mirrors this default).
# A PEM file of CA certificates whose e-seals the verifier trusts on sealed European Digital
# Credentials, standing in for the EU trusted lists (which cannot be fetched here); "" trusts none.
# A file that holds an e-seal certificate itself trusts that certificate alone (pinning).
MESHE_EDC_TRUST_ANCHORS = env_str("MESHE_EDC_TRUST_ANCHORS", "")
MESHE_ESCO_INDEX = BASE_DIR / env_str("MESHE_ESCO_INDEX", "build/esco/skills.tsv.gz")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "learners.forms.SignupDetailsForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MESHE] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _base.scheme
# allauth's forms relabelled in MESHE's words ("E-mail address", "Remember me"), from the
# project catalogue, so French and German read like the rest of the portal.
# Signs allauth's e-mails with the portal's name and address (templates/account/email/).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
    "add_email": "accounts.forms.AddEmailForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "MESHE"
# allauth's own abuse limits, spelt out rather than inherited; "/ip" counts per client address
# (MESHE_TRUSTED_PROXY_COUNT below), "/key" per e-mail address. MESHE_ACCOUNT_RATE_LIMITS, a JSON
# object such as {"signup": "5/m/ip"}, overrides some of them.
ACCOUNT_RATE_LIMITS = env_overrides(
    "MESHE_ACCOUNT_RATE_LIMITS",
    {
        "login": "30/m/ip",
        # Failed sign-ins: per address, and per account so a botnet cannot guess one password.
        "login_failed": "10/m/ip,5/300s/key",
        "signup": "20/m/ip",
        "reset_password": "20/m/ip,5/m/key",
        "reset_password_from_key": "20/m/ip",
        "change_password": "5/m/user",
        "manage_email": "10/m/user",
        "reauthenticate": "10/m/user",
        "confirm_email": "1/180s/key",
    },
)
# Each institution decides whether its staff need a second factor; this forces it for all.
MESHE_STAFF_REQUIRE_MFA = env_bool("MESHE_STAFF_REQUIRE_MFA", False)

# Institutional login (eduGAIN-style): OIDC and SAML identity providers come from JSON.
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
_oidc = env_json_list("MESHE_OIDC_PROVIDERS")
if _oidc:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": provider["id"],
                "name": provider["name"],
                "client_id": provider["client_id"],
                "secret": provider.get("secret", ""),
                "settings": {"server_url": provider["server_url"]},
            }
            for provider in _oidc
        ],
        "OAUTH_PKCE_ENABLED": True,
    }
_saml = env_json_list("MESHE_SAML_PROVIDERS")
if _saml:
    SOCIALACCOUNT_PROVIDERS["saml"] = {"APPS": _saml}

# E-mail: SMTP in production, the console in development.
_mail_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_mail_options: dict[str, object] = {}
if _mail_backend.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587, minimum=1),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": 20,
    }
elif _mail_backend.endswith("filebased.EmailBackend"):
    _mail_options = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
MAILERS = {"default": {"BACKEND": _mail_backend, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MESHE <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# English dates in the European order; French and German keep Django's own formats.
FORMAT_MODULE_PATH = ["meshe.formats"]
LANGUAGE_CODE = "en"
# The interface's languages: those locale/ has catalogues for, which the switcher offers.
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
]
# The languages staff may write a specification's title and description in, and the
# catalogue filters by: more than the interface speaks.
MESHE_CONTENT_LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
    ("nl", _("Dutch")),
    ("pl", _("Polish")),
    ("pt", _("Portuguese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The footer's language switcher remembers the choice for a year, not just for the session.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
USE_I18N = True
TIME_ZONE = "Europe/Brussels"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("MESHE_STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Bulk-issue spreadsheets: the largest upload, the most learner rows, and how large an XLSX
# (a zip) may grow once inflated, so a small "zip bomb" is refused before it is unpacked.
MESHE_SPREADSHEET_MAX_BYTES = env_int("MESHE_SPREADSHEET_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
MESHE_SPREADSHEET_MAX_ROWS = env_int("MESHE_SPREADSHEET_MAX_ROWS", 50_000, minimum=1)
MESHE_SPREADSHEET_MAX_INFLATED_BYTES = env_int(
    "MESHE_SPREADSHEET_MAX_INFLATED_BYTES", 100 * 1024 * 1024, minimum=1
)
# Work budget of one read (credentials.issuing.spreadsheets): the header may name at most
# MAX_COLUMNS columns, a row hold at most MAX_ROW_CELLS cells, the file MAX_CELLS cells and
# MAX_TEXT_CHARS characters; reading stops at the first cap exceeded.
MESHE_SPREADSHEET_MAX_COLUMNS = env_int("MESHE_SPREADSHEET_MAX_COLUMNS", 16, minimum=6)
MESHE_SPREADSHEET_MAX_ROW_CELLS = env_int("MESHE_SPREADSHEET_MAX_ROW_CELLS", 64, minimum=6)
MESHE_SPREADSHEET_MAX_CELLS = env_int("MESHE_SPREADSHEET_MAX_CELLS", 400_000, minimum=1)
MESHE_SPREADSHEET_MAX_TEXT_CHARS = env_int(
    "MESHE_SPREADSHEET_MAX_TEXT_CHARS", 20_000_000, minimum=1
)

# Security: HTTPS everywhere outside development.
_secure = env_bool("MESHE_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
LANGUAGE_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# How many proxies in front of the portal append to X-Forwarded-For: the client address used
# for abuse limits is the one the outermost of them saw. 0 (the default) ignores the header,
# which anyone can send; behind one reverse proxy, set 1, or every client shares one budget.
MESHE_TRUSTED_PROXY_COUNT = env_int("MESHE_TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = MESHE_TRUSTED_PROXY_COUNT
# Abuse limits (meshe.rate_limits): "COUNT/PERIOD", PERIOD being s, m, h, d or e.g. 300s;
# "off" switches one off. MESHE_RATE_LIMITS, a JSON object such as {"verify": "30/m"},
# overrides some of them. Refusals are 429 with Retry-After.
MESHE_RATE_LIMITS = env_overrides(
    "MESHE_RATE_LIMITS",
    {
        # Per client address: POST /api/v1/verify, the VC-API verifiers and the verify page.
        "verify": "60/m",
        # Per signed-in learner (else address): opening and using claim links.
        "claim": "20/10m",
        # Per API token: the issuer API and the VC-API calls that need a token.
        "api": "600/m",
        # Per partner DID, once its signature is checked: exchange requests from one partner.
        # A partner sends a cohort at once: 1,000 credentials must pass within a minute.
        "exchange": "6000/m",
        # Per client address, before any signature is checked: every exchange request.
        "exchange_ip": "12000/m",
    },
)
if env_bool("MESHE_BEHIND_PROXY", False):
    # The proxy terminates TLS and says so in this header; trust it only when told to.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Claim, confirmation and reset links carry secrets in their URLs, which Django logs.
    "filters": {"redact_urls": {"()": "meshe.log_redaction.RedactSecretUrls"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_urls"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers (console in debug, mail_admins) would see URLs unredacted:
        # its records go to the root's console instead, runserver's request lines too.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG it logs whole template contexts, which can hold a just-made token.
        "django.template": {"level": "INFO"},
        # weasyprint narrates every render at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
