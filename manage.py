#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import gc
import os
import sys


def main() -> None:
    # Start-up creates many long-lived objects and no garbage worth collecting; collecting anyway
    # costs about a tenth of a short command's time. apps.common resumes it once apps are ready.
    gc.disable()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if "--version" in sys.argv[1:]:  # Django would print its own version, not the project's
        from apps.common.version import version_line

        sys.stdout.write(version_line() + "\n")
        return
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a bad setting in the environment: one line, no traceback
        sys.stderr.write(f"ImproperlyConfigured: {exc}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
