"""Drawings of a validated definition's graph: text, Mermaid, Graphviz dot and inline SVG."""

import json
from dataclasses import dataclass

from django.utils.html import escape

from .spec import Plan

FORMATS = ("text", "mermaid", "dot", "svg")


def _node_settings(plan: Plan, node_id: str) -> list[str]:
    """The node-level keys that differ from their defaults, as 'key: value' lines."""
    node = plan.nodes[node_id]
    lines = []
    if node.when:
        lines.append(f"when: {node.when}")
    if not node.required:
        lines.append("required: no")
    if not node.enabled:
        lines.append("enabled: no")
    for key in ("retries", "retry_backoff_s", "timeout_s"):
        value = getattr(node, key)
        if value is not None:
            lines.append(f"{key}: {value:g}")
    return lines


def text(plan: Plan) -> str:
    """Nodes in execution order with type, config, next and conditions."""
    defaults = plan.spec.defaults
    lines = [
        f"Entry: {plan.entry}",
        f"Defaults: retries={defaults.retries} retry_backoff_s={defaults.retry_backoff_s:g} "
        f"timeout_s={defaults.timeout_s:g}",
        "",
        f"Nodes ({len(plan.order)}):",
    ]
    for number, node_id in enumerate(plan.order, start=1):
        node = plan.nodes[node_id]
        lines.append(f"  {number}. [{node.type}] {node.id}")
        lines.append(f"     config: {json.dumps(node.config, ensure_ascii=False)}")
        lines += [f"     {line}" for line in _node_settings(plan, node_id)]
        preds = plan.predecessors[node_id]
        if len(preds) > 1:
            lines.append(f"     after: {', '.join(preds)}")
        targets = node.next_ids()
        lines.append(f"     → next: {', '.join(targets)}" if targets else "     → end")
    return "\n".join(lines)


def _edges(plan: Plan) -> list[tuple[str, str]]:
    return [
        (node_id, target) for node_id in plan.order for target in plan.nodes[node_id].next_ids()
    ]


def _mermaid_label(value: str) -> str:
    return value.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(plan: Plan) -> str:
    """A Mermaid flowchart; node ids are aliased (n1, n2...) because ids may hold '-' or '.'."""
    alias = {node_id: f"n{i}" for i, node_id in enumerate(plan.order, start=1)}
    lines = ["flowchart TD"]
    for node_id in plan.order:
        node = plan.nodes[node_id]
        parts = [node.id, node.type] + ([] if node.required else ["(optional)"])
        parts += [] if node.enabled else ["(disabled)"]
        label = "<br/>".join(_mermaid_label(part) for part in parts)
        shape = ('{{"', '"}}') if node.when else ('["', '"]')
        lines.append(f"    {alias[node_id]}{shape[0]}{label}{shape[1]}")
    for source, target in _edges(plan):
        when = plan.nodes[target].when
        arrow = f'-->|"when: {_mermaid_label(when)}"|' if when else "-->"
        lines.append(f"    {alias[source]} {arrow} {alias[target]}")
    return "\n".join(lines)


def _dot_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(plan: Plan, name: str = "pipeline") -> str:
    """A Graphviz digraph: `dot -Tsvg` draws it."""
    lines = [
        f"digraph {_dot_quote(name)} {{",
        "    rankdir=TB;",
        '    node [shape=box, fontname="Helvetica"];',
    ]
    for node_id in plan.order:
        node = plan.nodes[node_id]
        attrs = [f"label={_dot_quote(node.id + chr(10) + node.type)}"]
        if not node.required:
            attrs.append("style=dashed")
        if not node.enabled:
            attrs.append("color=gray, fontcolor=gray")
        if node.when:
            attrs.append("shape=hexagon")
        lines.append(f"    {_dot_quote(node_id)} [{', '.join(attrs)}];")
    for source, target in _edges(plan):
        when = plan.nodes[target].when
        label = f" [label={_dot_quote('when: ' + when)}]" if when else ""
        lines.append(f"    {_dot_quote(source)} -> {_dot_quote(target)}{label};")
    lines.append("}")
    return "\n".join(lines)


# -- SVG ----------------------------------------------------------------------------------------
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 50, 30, 50, 20
TYPE_COLOURS = {
    "ingest": "#e3f2fd",
    "context": "#e8f5e9",
    "intelligence": "#f3e5f5",
    "notify": "#fff3e0",
    "transform": "#eceff1",
}


@dataclass
class Box:
    node_id: str
    x: int
    y: int


def layers(plan: Plan) -> list[list[str]]:
    """Nodes grouped by depth: a node sits one layer below its deepest predecessor."""
    depth: dict[str, int] = {}
    for node_id in plan.order:
        preds = plan.predecessors[node_id]
        depth[node_id] = max((depth[p] + 1 for p in preds), default=0)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node_id in plan.order:
        grouped[depth[node_id]].append(node_id)
    return grouped


def _layout(plan: Plan) -> tuple[dict[str, Box], int, int]:
    rows = layers(plan)
    widest = max((len(row) for row in rows), default=1)
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X
    boxes = {}
    for level, row in enumerate(rows):
        row_width = len(row) * BOX_W + (len(row) - 1) * GAP_X
        left = (width - row_width) // 2
        for i, node_id in enumerate(row):
            boxes[node_id] = Box(
                node_id, left + i * (BOX_W + GAP_X), MARGIN + level * (BOX_H + GAP_Y)
            )
    height = MARGIN * 2 + len(rows) * BOX_H + max(len(rows) - 1, 0) * GAP_Y
    return boxes, width, height


def _short(value: str, limit: int = 22) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# A run's drawing colours each node by what happened to it (the console's run page).
STATUS_FILLS = {
    "SUCCEEDED": "#c8e6c9",
    "FAILED": "#ffcdd2",
    "RUNNING": "#bbdefb",
    "PENDING": "#eeeeee",
    "SKIPPED": "#efebe9",
    "NOT_RUN": "#fafafa",
}


def _svg_node(plan: Plan, box: Box, status: str = "") -> str:
    node = plan.nodes[box.node_id]
    fill = TYPE_COLOURS.get(node.type, "#ffffff") if node.enabled else "#f5f5f5"
    if status:
        fill = STATUS_FILLS.get(status, "#ffffff")
    dash = ' stroke-dasharray="5,3"' if not node.required else ""
    tooltip = "\n".join(
        [
            f"{node.id} [{node.type}]",
            *([status] if status else []),
            *_node_settings(plan, box.node_id),
        ]
    )
    cx = box.x + BOX_W // 2
    return (
        f'<g class="node" data-node="{escape(node.id)}" data-status="{escape(status)}">'
        f"<title>{escape(tooltip)}</title>"
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" '
        f'stroke="#455a64"{dash}/>'
        f'<text x="{cx}" y="{box.y + 21}" text-anchor="middle" font-weight="bold">'
        f"{escape(_short(node.id))}</text>"
        f'<text x="{cx}" y="{box.y + 38}" text-anchor="middle" fill="#546e7a">'
        f"{escape(node.type)}{' · when' if node.when else ''}"
        f"{' · ' + escape(status.lower()) if status else ''}</text></g>"
    )


def _svg_edge(source: Box, target: Box) -> str:
    x1, y1 = source.x + BOX_W // 2, source.y + BOX_H
    x2, y2 = target.x + BOX_W // 2, target.y - 2
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#455a64" marker-end="url(#arrow)"/>'
    )


def svg(plan: Plan, statuses: dict[str, str] | None = None) -> str:
    """A self-contained SVG (no scripts, no external resources); all text is escaped.

    statuses: node id -> a run's node status, to colour the nodes by it instead of by type."""
    statuses = statuses or {}
    boxes, width, height = _layout(plan)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pipeline-graph" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#455a64"/></marker></defs>',
    ]
    parts += [_svg_edge(boxes[s], boxes[t]) for s, t in _edges(plan)]
    parts += [_svg_node(plan, boxes[n], statuses.get(n, "")) for n in plan.order]
    parts.append("</svg>")
    return "".join(parts)


def draw(plan: Plan, fmt: str, name: str = "pipeline") -> str:
    if fmt == "text":
        return text(plan)
    if fmt == "mermaid":
        return mermaid(plan)
    if fmt == "dot":
        return dot(plan, name)
    if fmt == "svg":
        return svg(plan)
    raise ValueError(f"Unknown graph format: {fmt} (choose from {', '.join(FORMATS)})")
