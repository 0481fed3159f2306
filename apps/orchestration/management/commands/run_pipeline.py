"""manage.py run_pipeline: run a definition, a JSON config file, or the built-in pipeline."""

import json
import re
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.notify.drivers import DRIVERS
from apps.orchestration import progress, rendering
from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.dryrun import dry_run
from apps.orchestration.orchestrator import PipelineOrchestrator
from apps.orchestration.records import failed_count, stored_result
from apps.orchestration.rendering_fixed import fixed_dry_run_text
from apps.orchestration.services import (
    BrokerUnavailable,
    RunError,
    create_run,
    dispatch,
    replay_run,
    resume_run,
    run_sources,
    wait_for_run,
)

from ._run_input import load_definition, load_payload

# Exit status of a run that ended COMPLETED with failed optional nodes (1 is FAILED, 2 is a
# usage error from the argument parser).
PARTIAL_EXIT = 3
TOKEN_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def flag_name(dest: str) -> str:
    return "--async" if dest == "run_async" else "--" + dest.replace("_", "-")


class Command(BaseCommand):
    # System checks import every URLconf (the API, the admin): skipping them keeps start-up fast.
    requires_system_checks: list[str] = []
    help = (
        "Run a pipeline: a stored definition (--definition), a JSON config file (--config), "
        "or the built-in ingest -> check -> analyze -> notify pipeline."
    )

    def add_arguments(self, parser):
        which = parser.add_argument_group("what to run")
        which.add_argument("--definition", help="Name of a PipelineDefinition in the database.")
        which.add_argument("--config", help="Path to a JSON file containing a pipeline config.")
        which.add_argument(
            "--resume", type=int, metavar="RUN_ID", help="Re-run a FAILED run from its failed node."
        )
        which.add_argument(
            "--replay",
            type=int,
            metavar="RUN_ID",
            help="Run a past run's input again as a new run "
            "(with --definition: against that definition).",
        )
        data = parser.add_argument_group("payload")
        data.add_argument("--payload", help="Payload as a JSON string.")
        data.add_argument("--file", help="Path to a JSON file with the payload.")
        data.add_argument(
            "--sample",
            action="store_true",
            help="Use a sample payload of --source's vendor (generic for cli).",
        )
        parser.add_argument(
            "--source",
            default=None,
            help="Where the payload comes from: cli or a vendor name (default: cli).",
        )
        parser.add_argument(
            "--environment",
            default=None,
            help="Environment label recorded on the run (default: development).",
        )
        parser.add_argument("--trace-id", help="Trace id for the run (default: a new one).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show the plan; run nothing."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the run result as one JSON document."
        )
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="Enqueue the run (Celery when CELERY_BROKER_URL is set, else "
            "inline) and print its ids at once.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="With --async: wait for the run and print the normal result.",
        )
        parser.add_argument(
            "--wait-timeout",
            type=float,
            default=None,
            help="With --async --wait: give up waiting after this many seconds (default: 600).",
        )
        parser.add_argument(
            "--checks-only",
            action="store_true",
            help="Built-in pipeline: run only the host checks stage.",
        )
        parser.add_argument(
            "--notify-driver",
            default=None,
            choices=list(DRIVERS),
            help="Built-in pipeline: notify driver (default: console).",
        )

    # -- input ------------------------------------------------------------------------------
    def _check_flags(self, options: dict) -> None:
        """Refuse conflicting or empty flags, then fill in the defaults of the unset ones."""
        for flag in ("definition", "config", "file"):
            if options[flag] is not None and not options[flag].strip():
                raise CommandError(f"--{flag} is empty")
        if options["definition"] and options["config"]:
            raise CommandError("Cannot specify both --definition and --config")
        given = [
            flag for flag in ("payload", "file", "sample") if options[flag] not in (None, False)
        ]
        if len(given) > 1:
            raise CommandError("Use only one of --payload, --file and --sample")
        self._check_past_run_flags(options, given)
        for flag in ("trace_id", "environment"):
            value = options[flag]
            if value is not None and not TOKEN_RE.match(value):
                raise CommandError(
                    f"Invalid --{flag.replace('_', '-')}: {value!r} "
                    "(1-64 letters, digits, '.', '_', ':' or '-')"
                )
        if options["wait"] and not options["run_async"]:
            raise CommandError("--wait goes with --async")
        if options["wait_timeout"] is not None:
            if not options["wait"]:
                raise CommandError("--wait-timeout goes with --async --wait")
            if not 0 < options["wait_timeout"] <= 86400:
                raise CommandError("--wait-timeout must be more than 0 and at most 86400 seconds")
        if options["run_async"] and options["dry_run"]:
            raise CommandError("--async cannot be combined with --dry-run")
        fixed_only = [
            flag for flag in ("checks_only", "notify_driver") if options[flag] not in (None, False)
        ]
        if fixed_only and (options["definition"] or options["config"]):
            flags = " and ".join(flag_name(flag) for flag in fixed_only)
            raise CommandError(f"{flags} only apply to the built-in pipeline, not to a definition")
        options["source"] = "cli" if options["source"] is None else options["source"]
        options["environment"] = options["environment"] or "development"
        options["notify_driver"] = options["notify_driver"] or "console"
        options["wait_timeout"] = options["wait_timeout"] or 600.0
        if options["source"] not in run_sources():
            raise CommandError(
                f"Unknown source: {options['source']} (choose from {', '.join(run_sources())})"
            )

    def _check_past_run_flags(self, options: dict, given: list[str]) -> None:
        """--resume and --replay run what a past run recorded: flags that change it conflict."""
        if options["resume"] is None and options["replay"] is None:
            return
        run_flags = ["dry_run", "run_async", "checks_only", "notify_driver"]
        run_flags += ["source", "trace_id", "environment"]
        if options["resume"] is not None:
            flag, takes = "--resume", ["definition", "config", "replay"]
        else:
            flag, takes = "--replay", ["config"]
        conflicting = [name for name in takes + run_flags if options[name] not in (None, False)]
        if given or conflicting:
            names = ", ".join(flag_name(name) for name in given + conflicting)
            raise CommandError(
                f"{flag} reuses the recorded run's input and settings; it takes no {names}"
            )

    def _progress(self, payload: Any, options: dict) -> AbstractContextManager:
        """Progress lines on stderr, only for a person at a terminal: never in --json mode nor
        when stderr is piped (scripts and the spec's exact blocks see nothing of it)."""
        if options["json"] or not self.stderr.isatty():
            return nullcontext()

        def write(line: str) -> None:  # plain: stderr's default style is the error colour
            self.stderr.write(line, style_func=str)

        lines = rendering.ProgressLines(write, payload, options["source"])
        return progress.listening(lines)

    # -- output -----------------------------------------------------------------------------
    def _emit(self, result: dict, options: dict, fixed: bool = False) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        else:
            self.stdout.write(
                rendering.result_text(result, self.style, options["verbosity"], fixed)
            )
        if result["status"] != "COMPLETED":
            raise CommandError(f"Pipeline failed: {result.get('error')}")
        if result.get("failed_nodes"):  # optional nodes failed: not a success (docs: exit 3)
            raise CommandError(
                f"Pipeline completed with {failed_count(result['failed_nodes'])}",
                returncode=PARTIAL_EXIT,
            )

    def _validate(self, orchestrator: Any) -> None:
        problems = orchestrator.validate()
        if problems:
            raise CommandError(
                "Pipeline definition invalid:\n" + "\n".join(f"  - {p}" for p in problems)
            )

    def _dry_run(
        self, orchestrator: DefinitionBasedOrchestrator, header: str, payload: Any, options: dict
    ) -> None:
        document = dry_run(
            orchestrator,
            payload,
            source=options["source"],
            environment=options["environment"],
            trace_id=options["trace_id"],
        )
        if options["json"]:  # the API's dry-run document, and nothing else on stdout
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=str))
            return
        self.stdout.write(
            rendering.dry_run_text(
                orchestrator.plan, header, options["source"], options["environment"], payload
            )
        )
        self._previews(document)

    def _previews(self, document: dict) -> None:
        """The rendered notifications, on stderr: stdout holds the dry-run block exactly."""
        if document["notifications"]:
            self.stderr.write(
                rendering.previews_text(document["notifications"]), style_func=lambda text: text
            )

    def _fixed_dry_run(
        self, orchestrator: DefinitionBasedOrchestrator, payload: Any, options: dict
    ) -> None:
        """The built-in pipeline's dry-run keeps the blocks of the pipeline it replaces."""
        if options["json"]:
            return self._dry_run(orchestrator, "", payload, options)
        document = dry_run(
            orchestrator,
            payload,
            source=options["source"],
            environment=options["environment"],
            trace_id=options["trace_id"],
        )
        self.stdout.write(
            fixed_dry_run_text(
                orchestrator.plan,
                options["source"],
                options["environment"],
                options["notify_driver"],
                payload,
            )
        )
        self._previews(document)

    # -- main -------------------------------------------------------------------------------
    def handle(self, *args, **options):
        self._check_flags(options)
        if options["resume"] is not None:
            return self._resume(options)
        if options["replay"] is not None:
            return self._replay(options)
        if options["definition"] is not None or options["config"] is not None:
            definition, config_path = load_definition(options)
            orchestrator = DefinitionBasedOrchestrator(definition, config_path=config_path)
            self._validate(orchestrator)
            payload = load_payload(options)
            if options["dry_run"]:
                header = (
                    f"Pipeline Config: {config_path}"
                    if config_path
                    else f"Pipeline Definition: {definition.name}"
                )
                return self._dry_run(orchestrator, header, payload, options)
            if options["run_async"]:
                return self._enqueue(orchestrator, payload, options)
            with self._progress(payload, options):
                result = orchestrator.execute(
                    payload,
                    source=options["source"],
                    trace_id=options["trace_id"],
                    environment=options["environment"],
                )
            return self._emit(result, options)
        fixed = PipelineOrchestrator(options["notify_driver"], options["checks_only"])
        self._validate(fixed)
        payload = load_payload(options)
        if options["dry_run"]:
            return self._fixed_dry_run(fixed.inner, payload, options)
        if options["run_async"]:
            return self._enqueue(fixed.inner, payload, options, fixed=True)
        with self._progress(payload, options):
            result = fixed.run_pipeline(
                payload,
                source=options["source"],
                trace_id=options["trace_id"],
                environment=options["environment"],
            )
        return self._emit(result, options, fixed=True)

    def _enqueue(
        self,
        orchestrator: DefinitionBasedOrchestrator,
        payload: Any,
        options: dict,
        fixed: bool = False,
    ) -> None:
        run = create_run(
            orchestrator.definition if orchestrator.definition.pk else None,
            payload,
            source=options["source"],
            environment=options["environment"],
            trace_id=options["trace_id"],
            orchestrator=orchestrator,
        )
        try:
            dispatch([run.pk], background=False, raise_errors=True)
        except BrokerUnavailable as exc:
            raise CommandError(
                f"Run {run.pk} is stored PENDING but the broker did not take it ({exc}); it will "
                "be retried by the next worker's recovery or sweep_runs --requeue"
            ) from None
        run.refresh_from_db()
        if options["wait"]:
            run = wait_for_run(run.pk, timeout_s=options["wait_timeout"])
            if run.status in ("PENDING", "RUNNING"):
                raise CommandError(
                    f"Run {run.pk} still {run.status} after {options['wait_timeout']:g}s"
                )
            return self._emit(stored_result(run), options, fixed=fixed)
        # With a broker the run is queued (PENDING); without one it already ran inline.
        if options["json"]:
            doc = {"run_id": run.pk, "trace_id": run.trace_id, "status": run.status}
            self.stdout.write(json.dumps(doc))
        else:
            self.stdout.write(f"Run ID: {run.pk}\nTrace ID: {run.trace_id}")
            if run.status != "PENDING":
                self.stdout.write(
                    f"Status: {run.status} (ran inline: CELERY_BROKER_URL is not set)"
                )
        if run.status == "FAILED":  # it ran inline: the exit status says how, as without --async
            raise CommandError(f"Pipeline failed: {run.error}")
        if run.status == "COMPLETED" and run.failed_nodes:
            raise CommandError(
                f"Pipeline completed with {failed_count(run.failed_nodes)}", returncode=PARTIAL_EXIT
            )

    def _resume(self, options: dict) -> None:
        try:
            result = resume_run(options["resume"])
        except RunError as exc:
            raise CommandError(str(exc)) from exc
        self._emit(result, options)

    def _replay(self, options: dict) -> None:
        definition = None
        if options["definition"]:
            definition, _ = load_definition(options)
        try:
            result = replay_run(options["replay"], definition)
        except RunError as exc:
            raise CommandError(str(exc)) from exc
        self._emit(result, options)
