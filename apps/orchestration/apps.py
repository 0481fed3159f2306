from django.apps import AppConfig


class OrchestrationConfig(AppConfig):
    name = "apps.orchestration"
    label = "orchestration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.common.metrics import WAITING_WORK

        WAITING_WORK["pending_runs"] = count_pending_runs


def count_pending_runs() -> int:
    from .models import PipelineRun, RunStatus

    return PipelineRun.objects.filter(status=RunStatus.PENDING).count()
