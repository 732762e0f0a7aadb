"""Settings for the test suite: the project's own, with test-only secrets and speed-ups."""

import os
import tempfile

os.environ.setdefault("CUNTAO_SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("CUNTAO_DATA_DIR", os.path.join(tempfile.gettempdir(), "cuntao-test-data"))

from cuntao.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; real hashing is Django's to test
ALLOWED_HOSTS = ["*"]

# Pages render {% static %} without a collectstatic run; whitenoise finds files in the apps.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# A file, not SQLite's shared in-memory database: in memory, two connections meet table
# locks that fail at once instead of waiting, unlike the embedded database in use.
# One test database per test process, so two runs on one machine never share one.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405
