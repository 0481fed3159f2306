"""manage.py pipelines: list, show, validate, import, export, graph, schema and diff definitions."""

import difflib
import glob
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import OuterRef, Subquery

from apps.common.text import one_line
from apps.orchestration import graph, portability
from apps.orchestration.definition import validate_definition
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.rules import schema
from apps.orchestration.secrets import mask
from apps.orchestration.spec import Plan, Problem, build_plan

NONE = "-"
WHOLE = sys.maxsize  # messages are put on one line here, never cut


def looks_like_path(target: str) -> bool:
    return target.endswith(".json") or "/" in target or "\\" in target


class Command(BaseCommand):
    help = "Manage pipeline definitions: list, show, validate, import, export, graph, schema, diff."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        sub.add_parser("list", help="Table of stored definitions with their last run status.")
        show = sub.add_parser("show", help="The graph of a definition as text.")
        show.add_argument("name", help="A stored definition name or a JSON file path.")
        validate = sub.add_parser("validate", help="Validate definitions; exit 1 on any problem.")
        validate.add_argument(
            "targets",
            nargs="+",
            metavar="NAME|FILE",
            help="Stored definition names or JSON file paths.",
        )
        validate.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON list with the result of every target.",
        )
        imp = sub.add_parser("import", help="Create or update definitions from JSON files.")
        imp.add_argument(
            "files",
            nargs="+",
            metavar="FILE",
            help="Export-format or bare definition files (glob patterns allowed).",
        )
        export = sub.add_parser("export", help="Print a stored definition as one JSON document.")
        export.add_argument("name", help="A stored definition name.")
        draw = sub.add_parser("graph", help="Draw a definition's graph.")
        draw.add_argument("name", help="A stored definition name or a JSON file path.")
        draw.add_argument(
            "--format",
            default="mermaid",
            choices=graph.FORMATS,
            help="Drawing format (default: mermaid).",
        )
        sub.add_parser("schema", help="Print the JSON Schema of the definition format.")
        diff = sub.add_parser("diff", help="Unified diff of two versions of a definition's config.")
        diff.add_argument("name", help="A stored definition name.")
        diff.add_argument("v1", type=int, help="The older version number.")
        diff.add_argument("v2", type=int, help="The newer version number.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        handler = getattr(self, f"do_{action}")
        handler(options)

    # -- loading ------------------------------------------------------------------------------
    def stored(self, name: str) -> PipelineDefinition:
        definition = PipelineDefinition.objects.filter(name=name).first()
        if definition is None:
            raise CommandError(f"Pipeline definition not found: {name}")
        return definition

    def document(self, target: str) -> tuple[portability.Document | None, list[Problem]]:
        """A stored definition or a file, as a Document plus its problems."""
        if not target.strip():
            return None, [Problem("not_found", "Empty definition name or file path")]
        if not looks_like_path(target):
            definition = PipelineDefinition.objects.filter(name=target).first()
            if definition is not None:
                problems = validate_definition(definition.config)
                doc = portability.Document(definition.name, definition.config, source=target)
                return doc, problems
            if not Path(target).is_file():
                return None, [Problem("not_found", f"Pipeline definition not found: {target}")]
        return portability.load_file(target)

    def plan_of(self, target: str, verb: str) -> tuple[str, Plan]:
        document, problems = self.document(target)
        if problems or document is None:
            first = problems[0].message if problems else "unknown problem"
            more = (
                f" (and {len(problems) - 1} more; run: pipelines validate {target})"
                if len(problems) > 1
                else ""
            )
            label = target if target.strip() else repr(target)
            raise CommandError(f"Cannot {verb} {label}: {one_line(first, WHOLE)}{more}")
        return document.name, build_plan(document.config)

    # -- list ---------------------------------------------------------------------------------
    def do_list(self, options: dict) -> None:
        last_status = PipelineRun.objects.filter(definition=OuterRef("pk")).order_by("-id")
        definitions = PipelineDefinition.objects.annotate(
            last_status=Subquery(last_status.values("status")[:1])
        ).order_by("priority", "name")
        if not definitions:
            self.stdout.write(
                "No pipeline definitions stored. Add some with: manage.py pipelines import FILE..."
            )
            return
        rows = [
            [
                d.name,
                str(d.version),
                "yes" if d.is_active else "no",
                self.match_text(d.match),
                str(d.priority),
                d.last_status or NONE,
            ]
            for d in definitions
        ]
        self.write_table(["NAME", "VERSION", "ACTIVE", "MATCH", "PRIORITY", "LAST RUN"], rows)

    @staticmethod
    def match_text(match: Any, limit: int = 48) -> str:
        if not match:
            return NONE
        text = json.dumps(match, ensure_ascii=False, separators=(",", ":"))
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def write_table(self, header: list[str], rows: list[list[str]]) -> None:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        self.stdout.write(self.style.MIGRATE_HEADING(self.pad(header, widths)))
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
            cells[2] = (self.style.SUCCESS if row[2] == "yes" else self.style.WARNING)(cells[2])
            cells[5] = self.status_style(row[5])(cells[5])
            self.stdout.write("  ".join(cells).rstrip())

    @staticmethod
    def pad(cells: list[str], widths: list[int]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    def status_style(self, status: str) -> Any:
        if status == "COMPLETED":
            return self.style.SUCCESS
        if status == "FAILED":
            return self.style.ERROR
        return lambda text: text

    # -- show / graph / schema ------------------------------------------------------------------
    def do_show(self, options: dict) -> None:
        target = options["name"]
        name, plan = self.plan_of(target, "show")
        definition = (
            None
            if looks_like_path(target)
            else PipelineDefinition.objects.filter(name=target).first()
        )
        if definition is not None:
            state = "active" if definition.is_active else "inactive"
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    f"Definition: {definition.name} v{definition.version} ({state})"
                )
            )
        else:
            self.stdout.write(self.style.MIGRATE_HEADING(f"File: {target}"))
        if plan.spec.description:
            self.stdout.write(f"Description: {plan.spec.description}")
        self.stdout.write(graph.text(plan))

    def do_graph(self, options: dict) -> None:
        name, plan = self.plan_of(options["name"], "draw")
        self.stdout.write(graph.draw(plan, options["format"], name))

    def do_schema(self, options: dict) -> None:
        self.stdout.write(json.dumps(schema(), indent=2, ensure_ascii=False))

    # -- validate -----------------------------------------------------------------------------
    def do_validate(self, options: dict) -> None:
        results = []
        for target in options["targets"]:
            _, problems = self.document(target)
            results.append(
                {
                    "target": target,
                    "valid": not problems,
                    "problems": [p.as_dict() for p in problems],
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False))
        else:
            for result in results:
                self.write_validation(result)
        invalid = sum(1 for result in results if not result["valid"])
        if invalid:
            raise CommandError(f"{invalid} of {len(results)} definition(s) invalid")

    def write_validation(self, result: dict) -> None:
        if result["valid"]:
            self.stdout.write(self.style.SUCCESS(f"✓ {result['target']}: valid"))
            return
        count = len(result["problems"])
        self.stdout.write(self.style.ERROR(f"✗ {result['target']}: {count} problem(s)"))
        for problem in result["problems"]:
            where = f" [{problem['path']}]" if problem["path"] else ""
            self.stdout.write(f"  - {one_line(problem['message'], WHOLE)}{where}")

    # -- import / export ------------------------------------------------------------------------
    @staticmethod
    def expand(patterns: list[str]) -> list[str]:
        files: list[str] = []
        for pattern in patterns:
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else []
            files += matches or [pattern]
        return list(dict.fromkeys(files))

    def do_import(self, options: dict) -> None:
        files = self.expand(options["files"])
        documents, failed = self.read_all(files)
        if failed:
            raise CommandError(f"Nothing imported: {failed} of {len(files)} file(s) invalid")
        counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
        with transaction.atomic():  # all files or none
            outcomes = [(path, portability.store(doc)) for path, doc in documents]
        rows = [
            [
                outcome.action,
                outcome.definition.name,
                f"v{outcome.definition.version}",
                path,
                f"changed: {', '.join(outcome.changed)}" if outcome.changed else "",
            ]
            for path, outcome in outcomes
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            counts[row[0]] += 1
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[4]]
            action_style = self.style.WARNING if row[0] == "unchanged" else self.style.SUCCESS
            cells[0] = action_style(cells[0])
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
        summary = ", ".join(f"{n} {action}" for action, n in counts.items())
        self.stdout.write(f"Imported {len(outcomes)} file(s): {summary}")

    def read_all(self, files: list[str]) -> tuple[list[tuple[str, portability.Document]], int]:
        """Every file read and validated; the invalid ones are reported, the count returned."""
        documents: list[tuple[str, portability.Document]] = []
        seen: dict[str, str] = {}
        failed = 0
        for path in files:
            document, problems = self.read_one(path, seen)
            if problems or document is None:
                failed += 1
                dicts = [p.as_dict() for p in problems]
                self.write_validation({"target": path, "valid": False, "problems": dicts})
                continue
            seen[document.name] = path
            documents.append((path, document))
        return documents, failed

    @staticmethod
    def read_one(path: str, seen: dict[str, str]) -> tuple[portability.Document | None, list]:
        if glob.has_magic(path) and not Path(path).exists():
            return None, [Problem("not_found", f"No file matches: {path}")]
        document, problems = portability.load_file(path)
        if document is not None and document.name in seen:
            message = f"Definition '{document.name}' is also defined in {seen[document.name]}"
            return None, [Problem("duplicate_name", message)]
        return document, problems

    def do_export(self, options: dict) -> None:
        definition = self.stored(options["name"])
        self.stdout.write(portability.dumps(portability.export_document(definition)))

    # -- diff ---------------------------------------------------------------------------------
    def do_diff(self, options: dict) -> None:
        definition = self.stored(options["name"])
        configs = {rev.version: mask(rev.config) for rev in definition.revisions.all()}
        configs[definition.version] = mask(definition.config)
        texts = []
        for version in (options["v1"], options["v2"]):
            if version not in configs:
                known = ", ".join(str(v) for v in sorted(configs))
                raise CommandError(
                    f"Version {version} of {definition.name} not found (known: {known})"
                )
            texts.append(json.dumps(configs[version], indent=2, ensure_ascii=False, sort_keys=True))
        lines = list(
            difflib.unified_diff(
                texts[0].splitlines(),
                texts[1].splitlines(),
                lineterm="",
                fromfile=f"{definition.name} v{options['v1']}",
                tofile=f"{definition.name} v{options['v2']}",
            )
        )
        if not lines:
            self.stdout.write(f"No differences between v{options['v1']} and v{options['v2']}")
            return
        for line in lines:
            self.stdout.write(self.diff_style(line)(line))

    def diff_style(self, line: str) -> Any:
        if line.startswith(("+++", "---")):
            return self.style.MIGRATE_HEADING
        if line.startswith("+"):
            return self.style.SUCCESS
        if line.startswith("-"):
            return self.style.ERROR
        if line.startswith("@@"):
            return self.style.HTTP_INFO
        return lambda text: text
