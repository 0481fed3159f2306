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
    from django.db import InterfaceError, OperationalError, ProgrammingError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a bad setting in the environment: one line, no traceback
        sys.stderr.write(f"ImproperlyConfigured: {exc}\n")
        sys.exit(1)
    except BrokenPipeError:  # `... | head`: the reader left; what it did not read is not needed
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that flushing at exit does not raise again
        sys.exit(1)
    except (OperationalError, InterfaceError, ProgrammingError) as exc:
        # unreachable, missing, not migrated; any other database error is a bug: its traceback
        if "--traceback" in sys.argv or (
            isinstance(exc, ProgrammingError) and not not_migrated(str(exc))
        ):
            raise
        sys.stderr.write(database_error(exc) + "\n")
        sys.exit(1)


def not_migrated(detail: str) -> bool:
    return "no such table" in detail or ("relation" in detail and "does not exist" in detail)


def database_error(exc: BaseException) -> str:
    """One line for a database the command cannot use, with the likely fix."""
    from django.conf import settings

    detail = " ".join(str(exc).split()) or type(exc).__name__
    where = settings.DATABASES["default"]
    name = where.get("NAME", "")
    server = f"{where.get('HOST') or 'localhost'}:{where.get('PORT') or 5432}/{name}"
    shown = str(name) if "sqlite" in where.get("ENGINE", "") else server
    hint = "run `manage.py migrate` first" if not_migrated(detail) else "check DATABASE_URL"
    return f"DatabaseError: {type(exc).__name__} on {shown}: {detail[:300]} ({hint})"


if __name__ == "__main__":
    main()
