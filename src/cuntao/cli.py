"""The `cuntao` console script: the project's manage.py.

Django is set up only when a command runs, so `cuntao --help` stays cheap and an
import of the package never touches settings.
"""

import os
import sys

# Commands that may run without a production secret: they serve or build a local,
# embedded demo, never a deployment.
DEMO_COMMANDS = {"demo"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cuntao.settings")
    if len(argv) > 1 and argv[1] in DEMO_COMMANDS:
        os.environ.setdefault("CUNTAO_DEMO", "1")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as error:
        # A configuration mistake deserves its message, not a traceback.
        sys.exit(f"cuntao: {error}")
