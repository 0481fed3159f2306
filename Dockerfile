# One image for every process: web (gunicorn), Celery worker and Celery beat.
# docker-compose.yml picks the process with `command:`; the default is the web server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The project and its dependencies. The llm extra adds the OpenAI, Anthropic and Ollama SDKs;
# build with `--build-arg EXTRAS=` for an image without them.
ARG EXTRAS=llm
COPY pyproject.toml README.md manage.py ./
COPY config ./config
COPY apps ./apps
COPY pipelines ./pipelines
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
    && python -m compileall -q /app/apps /app/config

# Run from the source tree in /app (pipelines/ and manage.py live there); PYTHONPATH makes every
# process (gunicorn, celery, manage.py) import the same copy of the code.
ENV PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings \
    DATA_DIR=/data

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app \
    && mkdir -p /data \
    && chown app:app /data

USER app
EXPOSE 8000

CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--timeout", "120", "--access-logfile", "-"]
