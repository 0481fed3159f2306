"""System checks that only `manage.py check` reports.

Every command runs the system checks (migrate, runserver, shell...); a reminder meant for the
person running `check` is noise there. The `check` command runs inside `check_command()`, and such
a check returns nothing unless `in_check_command()`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0


@contextmanager
def check_command() -> Iterator[None]:
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def in_check_command() -> bool:
    return _depth > 0
