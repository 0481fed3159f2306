"""The HTTP API (django-ninja) for pipeline definitions and runs, mounted at /api/."""
