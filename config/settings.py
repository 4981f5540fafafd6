"""The one settings module: every value comes from the environment (or a `.env` file beside manage.py).

Bad values fail loudly at start-up. Secrets may be given as `NAME_FILE` pointing at a file
(Docker/Kubernetes secrets). SQLite is the embedded default; `DATABASE_URL` selects PostgreSQL.
"""

from __future__ import annotations

import datetime
import itertools
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the contents of the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE={file_name} cannot be read: {error}") from error
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from error


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (env(name) or default).split(",") if item.strip()]


DEBUG = env_bool("GUANAI_DEBUG", False)

SECRET_KEY = env("GUANAI_SECRET_KEY") or ""
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "GUANAI_SECRET_KEY (or GUANAI_SECRET_KEY_FILE) must be set to at least 50 random characters; "
        "`make run` writes one into .env for local use."
    )

ALLOWED_HOSTS = env_list("GUANAI_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("GUANAI_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "guanai.core",
    "guanai.audit",
    "guanai.regions",
    "guanai.accounts",
    "guanai.committees",
    "guanai.minors",
    "guanai.volunteers",
    "guanai.pairings",
    "guanai.mentoring",
    "guanai.cafes",
    "guanai.notifications",
    "guanai.consultations",
    "guanai.imports",
    "guanai.dashboards",
    "guanai.compliance",
    "guanai.rights",
    "guanai.web",
    "guanai.demo",
]

MIDDLEWARE = [
    # First, so that a database gone away answers 503 from wherever it is noticed, never a traceback.
    "guanai.web.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "guanai.accounts.middleware.ActorMiddleware",
    "guanai.accounts.middleware.AccountSecurityMiddleware",
    "guanai.web.middleware.DeclaredPermissionMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanai.web.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'guanai.sqlite3'}",
        conn_max_age=env_int("GUANAI_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work together; IMMEDIATE avoids "database is locked" upgrades.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out accounts before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "guanai.accounts.backends.UsernameOrMobileBackend",
    "guanai.accounts.backends.SmsCodeBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# 等保 2.0 level 3: at least 8 characters of three classes, not one of the last five, changed every 90 days.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "guanai.accounts.passwords.CharacterClassesValidator", "OPTIONS": {"minimum_classes": 3}},
    {"NAME": "guanai.accounts.passwords.PasswordHistoryValidator", "OPTIONS": {"remembered": 5}},
]
GUANAI_PASSWORD_MAX_AGE_DAYS = env_int("GUANAI_PASSWORD_MAX_AGE_DAYS", 90)

# Lockout: 5 failures of one account lock it for 30 minutes (django-axes). The account is the canonical
# username, whether the person typed the username or the mobile number.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Fixed 30 minutes: trying again while locked does not push the release further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "guanai.accounts.lockout.canonical_username"
AXES_LOCKOUT_CALLABLE = "guanai.accounts.lockout.locked_out_response"
AXES_CLIENT_IP_CALLABLE = "guanai.accounts.lockout.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "sms_code", "otp_token"]
# Per-IP rate limits (django-ratelimit), generous enough for a township office behind one address.
GUANAI_LOGIN_RATE_PER_IP = env("GUANAI_LOGIN_RATE_PER_IP") or "30/10m"
GUANAI_SMS_RATE_PER_IP = env("GUANAI_SMS_RATE_PER_IP") or "20/h"
# The public check of a service certificate: enough for an employer, too few to enumerate codes.
GUANAI_CERTIFICATE_VERIFY_RATE_PER_IP = env("GUANAI_CERTIFICATE_VERIFY_RATE_PER_IP") or "30/h"
GUANAI_SMS_RATE_PER_MOBILE = env("GUANAI_SMS_RATE_PER_MOBILE") or "5/h"
GUANAI_SMS_BACKEND = env("GUANAI_SMS_BACKEND") or "guanai.accounts.sms.ConsoleSmsBackend"
GUANAI_SMS_CODE_MINUTES = 5
# How many proxies in front of the application may be trusted for X-Forwarded-For (nginx: 1).
GUANAI_TRUSTED_PROXY_COUNT = env_int("GUANAI_TRUSTED_PROXY_COUNT", 0)

# Two factors (TOTP, with one-time recovery codes) for the administrator roles, see core/access.py.
OTP_TOTP_ISSUER = "智慧关工委"
OTP_TOTP_THROTTLE_FACTOR = 1

# A shared cache (Redis) in production: the rate limits must count across processes. The embedded
# single-process server uses local memory.
# axes.W006 wants the IP address among the lockout parameters; one township office shares one address,
# so addresses are rate limited separately (GUANAI_LOGIN_RATE_PER_IP) rather than locked out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
GUANAI_CACHE_URL = env("GUANAI_CACHE_URL") or ""
if GUANAI_CACHE_URL:
    CACHES = {"default": {"BACKEND": "guanai.core.redis_cache.RedisCache", "LOCATION": GUANAI_CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003"]
RATELIMIT_VIEW = "guanai.web.views.rate_limited"
RATELIMIT_IP_META_KEY = "guanai.core.http.ratelimit_ip"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Signed out after 30 minutes without a request; the page warns five minutes before, and typing counts
# as activity (guanai.js), so nobody is thrown out mid-sentence.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
GUANAI_IDLE_WARNING_SECONDS = 5 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("GUANAI_PRIVATE_MEDIA_ROOT") or BASE_DIR / "var" / "private")

# Production transport security (`manage.py check --deploy` is clean when GUANAI_DEBUG is off).
SECURE_SSL_REDIRECT = env_bool("GUANAI_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("GUANAI_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken (guanai.js)
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy: scripts and styles only from this site, inline scripts only with the nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "object-src": [csp_constants.NONE],
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL") or ""
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
# Without a broker (the embedded default) tasks run in-process, at once.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "verify the audit chain nightly": {"task": "audit.verify_chain", "schedule": datetime.timedelta(days=1)},
    "purge spent SMS codes": {"task": "accounts.purge_sms_codes", "schedule": datetime.timedelta(hours=6)},
    "delete uploaded rosters and error workbooks after a day": {
        "task": "minors.purge_import_files",
        "schedule": datetime.timedelta(hours=6),
    },
    "close aged-out minors, count verifications due": {
        "task": "minors.daily_care",
        "schedule": datetime.timedelta(days=1),
    },
    # In the morning, not at whatever hour the scheduler started: the reminders are text messages to elders.
    "remind volunteers whose background check is due": {
        "task": "volunteers.check_reminders",
        "schedule": crontab(hour=9, minute=30),
    },
    # Before the reminders, so that nobody is reminded of a pairing that has ended.
    "close pairings that can no longer go on": {
        "task": "pairings.close_lapsed",
        "schedule": crontab(hour=8, minute=30),
    },
    "remind volunteers of overdue contacts with their paired children": {
        "task": "pairings.overdue_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    # Every minute: a crisis nobody accepted within ten minutes must not wait for an hourly run.
    "escalate online requests whose service clock ran out": {
        "task": "consultations.run_clocks",
        "schedule": datetime.timedelta(minutes=1),
    },
    "erase finished online requests past their retention period": {
        "task": "consultations.purge_expired",
        "schedule": crontab(hour=3, minute=15),
    },
    "delete attachment files no message names": {
        "task": "consultations.sweep_attachments",
        "schedule": datetime.timedelta(hours=1),
    },
    # The dashboards read the month's snapshot: rebuilt every hour, so a figure is at most an hour old.
    "rebuild this month's indicator snapshots": {
        "task": "dashboards.refresh_snapshots",
        "schedule": crontab(minute=40),
    },
    # In the morning: the county's staff are reminded of data-subject requests due within days or overdue.
    "remind staff of data-subject requests due soon or overdue": {
        "task": "rights.deadline_reminders",
        "schedule": crontab(hour=8, minute=45),
    },
    "delete compiled reports after their retention period": {
        "task": "dashboards.purge_report_files",
        "schedule": crontab(hour=3, minute=45),
    },
}

GUANAI_API_TOKEN_DAYS = env_int("GUANAI_API_TOKEN_DAYS", 90)
# Who holds which role is reviewed periodically (等保 2.0 least privilege: rights no longer needed are
# withdrawn): an assignment not confirmed by an administrator within this many days is listed as due.
GUANAI_ROLE_REVIEW_DAYS = env_int("GUANAI_ROLE_REVIEW_DAYS", 180)
GUANAI_PROVINCE_CODE = env("GUANAI_PROVINCE_CODE") or "33"
if not (len(GUANAI_PROVINCE_CODE) == 2 and GUANAI_PROVINCE_CODE.isdigit()):
    raise ImproperlyConfigured("GUANAI_PROVINCE_CODE must be the two-digit province code, e.g. 33")
GUANAI_SITE_NAME = _("智慧关工委")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("GUANAI_LOG_LEVEL") or "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# The key of the audit trail's hash chain (HMAC-SM3, guanai.audit.chain): whoever can write to the
# database but does not hold this key cannot forge a chain that `manage.py audit_verify` accepts.
# Required in production; with GUANAI_DEBUG on, a key derived from SECRET_KEY stands in. Changing the
# key makes every existing event fail verification.
GUANAI_AUDIT_KEY = env("GUANAI_AUDIT_KEY") or ""
if len(GUANAI_AUDIT_KEY) < 32:
    if not DEBUG:
        raise ImproperlyConfigured(
            "GUANAI_AUDIT_KEY (or GUANAI_AUDIT_KEY_FILE) must be set to at least 32 random characters, "
            "kept apart from the database and its backups."
        )
    GUANAI_AUDIT_KEY = "debug-audit-key-derived-from-secret-key:" + SECRET_KEY
# 网络安全法 art. 21: security logs are kept at least six months; the purge refuses anything younger.
GUANAI_AUDIT_RETENTION_DAYS = env_int("GUANAI_AUDIT_RETENTION_DAYS", 180)
if GUANAI_AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("GUANAI_AUDIT_RETENTION_DAYS must be at least 180 (网络安全法 art. 21)")

# Volunteers (DOMAIN.md §7): confirmed service hours for one to five stars. Local rules differ (the
# common 100/300/600/1000/1500; Beijing 100/200/500/800/1000), so they are configured, five rising numbers.
try:
    GUANAI_STAR_THRESHOLDS = [
        int(hours) for hours in env_list("GUANAI_STAR_THRESHOLDS", "100,300,600,1000,1500")
    ]
except ValueError as error:
    raise ImproperlyConfigured("GUANAI_STAR_THRESHOLDS must be five whole numbers of hours") from error
if len(GUANAI_STAR_THRESHOLDS) != 5 or not all(
    0 < low < high for low, high in itertools.pairwise(GUANAI_STAR_THRESHOLDS)
):
    raise ImproperlyConfigured(
        "GUANAI_STAR_THRESHOLDS must be five rising positive numbers: 100,300,600,1000,1500"
    )

# Pairings (DOMAIN.md §7): the least contact between a volunteer and a paired child, in days (monthly, and
# fortnightly for a child at high risk), and the hours within which a mandatory report (强制报告) is handled.
GUANAI_CONTACT_DAYS = env_int("GUANAI_CONTACT_DAYS", 30)
GUANAI_CONTACT_DAYS_HIGH_RISK = env_int("GUANAI_CONTACT_DAYS_HIGH_RISK", 14)
GUANAI_MANDATORY_REPORT_HOURS = env_int("GUANAI_MANDATORY_REPORT_HOURS", 24)
# A data-subject request (个人信息保护法 art.44–47: access, copy, correction, deletion) is answered
# within this many calendar days of its receipt (guanai.rights). GB/T 35273-2020 §8.7 allows at most 30
# days (or the time a law sets); the committee chooses 15, half of it, since the requests concern children.
GUANAI_SUBJECT_REQUEST_DAYS = env_int("GUANAI_SUBJECT_REQUEST_DAYS", 15)
if not 1 <= GUANAI_SUBJECT_REQUEST_DAYS <= 30:
    raise ImproperlyConfigured("GUANAI_SUBJECT_REQUEST_DAYS must be between 1 and 30 (GB/T 35273-2020 §8.7)")
if not 0 < GUANAI_CONTACT_DAYS_HIGH_RISK <= GUANAI_CONTACT_DAYS:
    raise ImproperlyConfigured("GUANAI_CONTACT_DAYS_HIGH_RISK must be between 1 and GUANAI_CONTACT_DAYS")

# Online legal and psychological help (DOMAIN.md §8). An urgent request (crisis) is accepted within
# GUANAI_CRISIS_ACCEPT_MINUTES or escalates one level (county, then the province's on-duty lead); an online
# message is answered within GUANAI_CONSULTATION_REPLY_HOURS (12348 practice: 24 h). The crisis rules are
# built in (guanai/consultations/crisis_rules.txt); GUANAI_CRISIS_RULES_FILE replaces them with a file of
# the same form. Public intake is rate limited per address and per phone, retrieval per address.
GUANAI_CRISIS_ACCEPT_MINUTES = env_int("GUANAI_CRISIS_ACCEPT_MINUTES", 10)
GUANAI_CONSULTATION_REPLY_HOURS = env_int("GUANAI_CONSULTATION_REPLY_HOURS", 24)
GUANAI_CRISIS_RULES_FILE = env("GUANAI_CRISIS_RULES_FILE") or ""
GUANAI_CONSULTATION_RATE_PER_IP = env("GUANAI_CONSULTATION_RATE_PER_IP") or "10/h"
GUANAI_CONSULTATION_RATE_PER_PHONE = env("GUANAI_CONSULTATION_RATE_PER_PHONE") or "5/d"
GUANAI_RETRIEVAL_RATE_PER_IP = env("GUANAI_RETRIEVAL_RATE_PER_IP") or "30/h"
GUANAI_CONSULTATION_ATTACHMENT_MAX_BYTES = env_int(
    "GUANAI_CONSULTATION_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024
)
GUANAI_CONSULTATION_NOTICE_VERSION = "2026-11"
# What the consent notice promises: a finished request's words, name, contact, messages and attachments are
# erased this many years after it ends (its anonymous figures stay for the statistics).
GUANAI_CONSULTATION_RETENTION_YEARS = env_int("GUANAI_CONSULTATION_RETENTION_YEARS", 3)
if not 1 <= GUANAI_CONSULTATION_RETENTION_YEARS <= 30:
    raise ImproperlyConfigured("GUANAI_CONSULTATION_RETENTION_YEARS must be between 1 and 30")
if not 0 < GUANAI_CRISIS_ACCEPT_MINUTES <= 60:
    raise ImproperlyConfigured("GUANAI_CRISIS_ACCEPT_MINUTES must be between 1 and 60")
if not 0 < GUANAI_CONSULTATION_REPLY_HOURS <= 168:
    raise ImproperlyConfigured("GUANAI_CONSULTATION_REPLY_HOURS must be between 1 and 168")

# Personal-information incidents (个人信息保护法, guanai.compliance): an incident not yet reported to the
# 网信 authority or the competent department this many hours after its discovery is shown as overdue. The
# law asks for notice "immediately" without a number of hours; the national rules on reporting
# cybersecurity incidents (国家网信办, 2025) ask for one hour for the larger classes of incident only.
# Applied to every incident, one hour would mark nearly all ordinary ones (a roster sent to the wrong
# address, a lost notebook) overdue before their facts are known, and an alarm that is always on is not
# read. 24 hours (one working day) keeps the clock meaningful; a province that wants every incident
# reported within the hour sets GUANAI_INCIDENT_REPORT_HOURS=1. A larger incident is still reported at
# once, whatever the clock shows.
GUANAI_INCIDENT_REPORT_HOURS = env_int("GUANAI_INCIDENT_REPORT_HOURS", 24)
if not 1 <= GUANAI_INCIDENT_REPORT_HOURS <= 72:
    raise ImproperlyConfigured("GUANAI_INCIDENT_REPORT_HOURS must be between 1 and 72")

# Backups (`manage.py backup` / `restore`, guanai.core.backup): the SM4 key that encrypts them, 32 hex
# characters (`openssl rand -hex 16`) or the base64 of 16 bytes. Kept apart from the backups and from the
# field keys; the commands refuse to run without it when GUANAI_DEBUG is off (with it on, one is generated
# into var/backup-key). The web server does not need it.
GUANAI_BACKUP_KEY = env("GUANAI_BACKUP_KEY") or ""
