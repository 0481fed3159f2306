from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from apps.alerts import silences
from apps.alerts.actions import Actor, apply_status, reopen_clash
from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent, InhibitionRule, Silence
from apps.common import cron
from apps.common.matchers import MatcherError, from_dicts, parse_all, render


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "reason", "trace_id", "created_at")


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "via", "reason", "trace_id")
    readonly_fields = fields


class AlertInline(admin.TabularInline):
    model = Alert
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("name", "status", "severity", "host", "source", "updated_at")
    readonly_fields = fields
    show_change_link = True


class IncidentForm(forms.ModelForm):
    """Only the status is edited here, with a reason for the incident's timeline."""

    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the status changes; recorded on the incident's timeline with your name.",
    )

    class Meta:
        model = Incident
        fields = ("status",)

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if (
            instance.pk
            and "status" in self.changed_data
            and cleaned.get("status") == Incident.Status.OPEN
            and self.initial.get("status") == Incident.Status.RESOLVED
        ):
            clash = reopen_clash(instance)
            if clash:
                raise forms.ValidationError(
                    f"Incident {clash} is already active for this group; this one cannot reopen."
                )
        return cleaned


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = ("id", "title", "status", "severity", "source", "host", "updated_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("title", "host", "group_key")
    fields = ("title", "status", "reason", "severity", "source", "host", "group_key")
    readonly_fields = (
        "title",
        "severity",
        "source",
        "host",
        "group_key",
        "created_at",
        "updated_at",
        "acknowledged_at",
        "resolved_at",
    )
    inlines = [AlertInline, IncidentEventInline]

    def has_add_permission(self, request) -> bool:
        return False  # incidents come from alerts

    def save_model(self, request, obj: Incident, form, change: bool) -> None:
        """A status change made here is recorded like one from the console, CLI or API."""
        previous = form.initial.get("status", "")
        if not change or "status" not in form.changed_data or previous == obj.status:
            super().save_model(request, obj, form, change)
            return
        actor = Actor(request.user.get_username(), "admin")
        with transaction.atomic():
            apply_status(obj, previous, obj.status, actor, form.cleaned_data.get("reason", ""))


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "status", "severity", "source", "host", "incident", "updated_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("name", "host", "fingerprint")
    raw_id_fields = ("incident",)
    readonly_fields = ("fingerprint", "fingerprint_fields", "group_key", "content_hash")
    inlines = [AlertEventInline]


class SilenceForm(forms.ModelForm):
    """Matchers are typed as Alertmanager strings and stored parsed; schedules are checked."""

    matcher_text = forms.CharField(
        label="Matchers",
        help_text='Alertmanager syntax, ANDed: alertname=DiskFull,host=~"web-0[1-7]"',
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = Silence
        fields = ("matcher_text", "starts_at", "ends_at", "schedule", "duration_s",
                  "time_zone", "comment", "created_by", "expired_at")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["matcher_text"].initial = render(from_dicts(self.instance.matchers))

    def clean(self):
        data = super().clean()
        try:
            data["parsed"] = parse_all(data.get("matcher_text") or "")
        except MatcherError as exc:
            self.add_error("matcher_text", str(exc))
        if data.get("schedule"):
            try:
                cron.parse_new_schedule(data["schedule"])
                cron.parse_zone(data.get("time_zone") or "UTC")
            except cron.CronError as exc:
                self.add_error("schedule", str(exc))
            if not data.get("duration_s"):
                self.add_error("duration_s", "a recurring window needs a duration")
        elif not data.get("ends_at"):
            self.add_error("ends_at", "a one-off silence needs an end")
        return data

    def save(self, commit=True):
        self.instance.matchers = [m.as_dict() for m in self.cleaned_data["parsed"]]
        return super().save(commit)


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    form = SilenceForm
    list_display = ("id", "shown_matchers", "state", "starts_at", "ends_at", "schedule",
                    "created_by", "comment")  # fmt: skip
    search_fields = ("comment", "created_by")
    readonly_fields = ("expired_by",)

    def save_model(self, request, obj, form, change) -> None:
        if "expired_at" in form.changed_data:  # who ended it, as the console and CLI record
            obj.expired_by = request.user.get_username() if obj.expired_at else ""
        super().save_model(request, obj, form, change)

    @admin.display(description="matchers")
    def shown_matchers(self, silence: Silence) -> str:
        return render(from_dicts(silence.matchers))

    @admin.display(description="state")
    def state(self, silence: Silence) -> str:
        return silences.state(silence, timezone.now())


@admin.register(InhibitionRule)
class InhibitionRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "source_matchers", "target_matchers", "equal", "enabled")
    list_filter = ("enabled",)
    search_fields = ("name", "comment")
    readonly_fields = ("created_at",)
