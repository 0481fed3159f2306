"""A pytest plugin (`-p config.pytest_env` in pyproject.toml): the environment the tests run in.

Loaded before pytest-django imports the settings, which refuse the development SECRET_KEY with
DEBUG off; the tests, and the processes they start (which inherit this environment), get a key
of their own instead.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-" + "k" * 40)
