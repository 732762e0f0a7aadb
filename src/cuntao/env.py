"""Typed readers of the environment; the only place settings come from."""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def get_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def get_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be a yes/no value such as 1 or 0, not {raw!r}.")


def get_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def get_mandatory_secret(name: str, *, fallback: str | None) -> str:
    """Return the secret, or the fallback where one is allowed (demo, debug, tests).

    A deployment without the secret must not start with a guessable one.
    """
    value = os.environ.get(name, "")
    if value:
        return value
    if fallback is not None:
        return fallback
    raise ImproperlyConfigured(
        f"{name} is not set. Set it to a long random string before starting cuntao "
        f"outside the demo, for example:\n  export {name}=$(python3 -c "
        f"'import secrets; print(secrets.token_urlsafe(50))')"
    )
