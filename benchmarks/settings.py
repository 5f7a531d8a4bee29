"""Settings for benchmark runs: the production settings (DEBUG off, no demo shortcuts) plus a URLconf
that adds the baseline view. Only the database and a fixed key differ from a real deployment."""

import os

os.environ.setdefault("YIWANG_DEMO", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-not-for-production")
os.environ.setdefault("YIWANG_FIELD_KEY", "benchmark-field-key-not-for-production")
os.environ.setdefault("SECURE_COOKIES", "0")  # plain http on loopback
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("CELERY_BROKER_URL", "")
# Rollups as production keeps them (a broker there): queued by the request, drained every few seconds by
# a process beside gunicorn (benchmarks/drainer.py, started by server.Server). The SQLite smoke recounts
# in the request, as the embedded default does.
if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    os.environ.setdefault("YIWANG_ROLLUPS", "queued")

from config.settings import *  # noqa: E402,F403

ROOT_URLCONF = "benchmarks.urls"
# Benchmark users sign in with API tokens or prepared sessions; TOTP would need a device per user.
YIWANG_REQUIRE_2FA = False
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "ERROR"}}
MEDIA_ROOT = BASE_DIR / "var" / "bench-media"  # noqa: F405
