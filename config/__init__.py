# The Celery app lives in config/celery.py. It is imported where tasks are sent (see
# apps.orchestration.services.celery_app) and by `celery -A config`, not here: importing Celery
# costs ~0.4 s, and every management command would pay it.
