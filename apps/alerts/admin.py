from django import forms
from django.contrib import admin
from django.utils import timezone

from apps.alerts import silences
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
    can_delete = False
    readonly_fields = ("from_status", "to_status", "reason", "trace_id", "created_at")


class AlertInline(admin.TabularInline):
    model = Alert
    extra = 0
    can_delete = False
    fields = ("name", "status", "severity", "host", "source", "updated_at")
    readonly_fields = fields
    show_change_link = True


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "status", "severity", "source", "host", "updated_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("title", "host", "group_key")
    readonly_fields = ("group_key", "created_at", "updated_at", "acknowledged_at", "resolved_at")
    inlines = [AlertInline, IncidentEventInline]


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
                cron.parse_schedule(data["schedule"])
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
