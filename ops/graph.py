"""The state machine as a picture: an SVG drawn from the ASL itself (the definition Step
Functions ran), with one execution's path on it. No JavaScript, no build step: the console
inlines the markup, and a test can read it.

Layout: states in rows by their distance from StartAt along Next/Default/Choices; states
reached only through Catch come after the latest state that catches into them. Forward
edges between neighbouring rows are straight; longer, backward and Catch edges are curves
in lanes on the sides (Catch dashed). Marks: states visited, transitions taken, retries
(`xN`), the state it waits in, the state that failed and the Fail state reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

NODE_W, NODE_H = 176, 38
COL_W, ROW_H = 212, 74
MARGIN_X, MARGIN_TOP, LANE = 120, 24, 14

COLORS = {
    "node": ("#ffffff", "#9aa5b1"),
    "visited": ("#dbeafe", "#1d4ed8"),
    "waiting": ("#fef3c7", "#b45309"),
    "failed": ("#fee2e2", "#b91c1c"),
}
EDGE = "#b8c0cc"
TAKEN = "#1d4ed8"


@dataclass
class Marks:
    """What one execution did on the machine."""

    path: list[str] = field(default_factory=list)  # states in the order entered
    attempts: dict[str, int] = field(default_factory=dict)  # state -> most attempts in a visit
    waiting: str | None = None
    failed: str | None = None  # the state whose error ended the flow

    @property
    def visited(self) -> set[str]:
        return set(self.path)

    @property
    def taken(self) -> set[tuple[str, str]]:
        return set(zip(self.path, self.path[1:], strict=False))


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # next | choice | default | catch
    label: str = ""


def edges_of(states: dict[str, Any]) -> list[Edge]:
    edges: list[Edge] = []
    for name, state in states.items():
        if state.get("Next"):
            edges.append(Edge(name, state["Next"], "next"))
        for choice in state.get("Choices", []):
            edges.append(Edge(name, choice["Next"], "choice", _choice_label(choice)))
        if state.get("Default"):
            edges.append(Edge(name, state["Default"], "default", "default"))
        for catch in state.get("Catch", []):
            edges.append(Edge(name, catch["Next"], "catch", ", ".join(catch["ErrorEquals"])))
    return [edge for edge in edges if edge.target in states]


def _choice_label(choice: dict[str, Any]) -> str:
    variable = str(choice.get("Variable", ""))
    for key, value in choice.items():
        if key not in ("Variable", "Next"):
            return f"{variable} {key} {value}"[:60]
    return variable


def ranks(definition: dict[str, Any]) -> dict[str, int]:
    """Each state's row: BFS along Next/Choices/Default, then Catch-only states below the
    deepest state that catches into them."""
    states: dict[str, Any] = definition["States"]
    edges = edges_of(states)
    rank: dict[str, int] = {definition["StartAt"]: 0}

    def spread(start: list[str]) -> None:
        queue = list(start)
        while queue:
            current = queue.pop(0)
            for edge in edges:
                if edge.source == current and edge.kind != "catch" and edge.target not in rank:
                    rank[edge.target] = rank[current] + 1
                    queue.append(edge.target)

    spread([definition["StartAt"]])
    while len(rank) < len(states):
        pending = [name for name in states if name not in rank]
        placed = False
        for name in pending:
            sources = [e.source for e in edges if e.target == name and e.source in rank]
            if sources:
                rank[name] = max(rank[s] for s in sources) + 1
                spread([name])
                placed = True
                break
        if not placed:  # unreachable states: a row of their own at the bottom
            bottom = max(rank.values()) + 1
            for name in pending:
                rank[name] = bottom
    return rank


def render_svg(definition: dict[str, Any], marks: Marks | None = None, title: str = "") -> str:
    marks = marks or Marks()
    states: dict[str, Any] = definition["States"]
    rank = ranks(definition)
    rows: dict[int, list[str]] = {}
    for name in states:  # definition order within a row
        rows.setdefault(rank[name], []).append(name)
    widest = max(len(names) for names in rows.values())
    width = MARGIN_X * 2 + widest * COL_W
    height = MARGIN_TOP * 2 + (max(rows) + 1) * ROW_H + 40
    center: dict[str, tuple[float, float]] = {}
    for row, names in rows.items():
        for index, name in enumerate(names):
            x = width / 2 + (index - (len(names) - 1) / 2) * COL_W
            center[name] = (x, MARGIN_TOP + row * ROW_H + NODE_H / 2)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f"<title>{escape(title or 'State machine')}</title>",
        f"<defs>{_marker('arrow', EDGE)}{_marker('arrow-taken', TAKEN)}</defs>",
    ]
    edges = edges_of(states)
    lanes = {"left": 0, "right": 0}
    drawn: list[str] = []
    for edge in sorted(edges, key=lambda e: (e.source, e.target) in marks.taken):
        drawn.append(_edge(edge, center, rank, marks, lanes))
    parts.extend(drawn)
    for name, state in states.items():
        parts.append(_node(name, state, center[name], marks))
    parts.append(_legend(width, height))
    parts.append("</svg>")
    return "\n".join(parts)


def _marker(name: str, color: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
    )


def _edge(
    edge: Edge,
    center: dict[str, tuple[float, float]],
    rank: dict[str, int],
    marks: Marks,
    lanes: dict[str, int],
) -> str:
    (x1, y1), (x2, y2) = center[edge.source], center[edge.target]
    taken = (edge.source, edge.target) in marks.taken
    stroke, marker = (TAKEN, "arrow-taken") if taken else (EDGE, "arrow")
    dash = ' stroke-dasharray="5 4"' if edge.kind == "catch" else ""
    width = 3 if taken else 1.4
    step = rank[edge.target] - rank[edge.source]
    if step == 1 and edge.kind != "catch":
        d = f"M{x1:.0f},{y1 + NODE_H / 2:.0f} L{x2:.0f},{y2 - NODE_H / 2 - 2:.0f}"
    else:
        side = "left" if step <= 0 else "right"
        lanes[side] += 1
        offset = NODE_W / 2 + 18 + lanes[side] * LANE
        sign = -1 if side == "left" else 1
        lane_x = max(x1, x2) + offset if side == "right" else min(x1, x2) - offset
        sx = x1 + sign * NODE_W / 2
        tx = x2 + sign * NODE_W / 2
        d = (
            f"M{sx:.0f},{y1:.0f} C{lane_x:.0f},{y1:.0f} {lane_x:.0f},{y2:.0f} "
            f"{tx + sign * 2:.0f},{y2:.0f}"
        )
    label = f"{edge.source} → {edge.target}" + (f" ({edge.label})" if edge.label else "")
    css = "edge taken" if taken else f"edge {edge.kind}"
    return (
        f'<path class="{css}" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}" '
        f'd="{d}" fill="none" stroke="{stroke}" stroke-width="{width}"{dash} '
        f'marker-end="url(#{marker})"><title>{escape(label)}</title></path>'
    )


def _node(name: str, state: dict[str, Any], at: tuple[float, float], marks: Marks) -> str:
    x, y = at
    kind = state.get("Type", "Task")
    status = "node"
    if name in marks.visited:
        status = "visited"
    if name == marks.failed or (kind == "Fail" and name in marks.visited):
        status = "failed"
    if name == marks.waiting:
        status = "waiting"
    fill, stroke = COLORS[status]
    strong = status != "node"
    radius = 19 if kind in ("Succeed", "Fail") else (4 if kind == "Choice" else 8)
    classes = f"state {status} type-{kind.lower()}"
    attempts = marks.attempts.get(name, 0)
    if attempts > 1:
        classes += " retried"
    shape = (
        f'<rect x="{x - NODE_W / 2:.0f}" y="{y - NODE_H / 2:.0f}" width="{NODE_W}" '
        f'height="{NODE_H}" rx="{radius}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{2.5 if strong else 1.2}"'
        + (' stroke-dasharray="4 3"' if kind == "Choice" else "")
        + "/>"
    )
    text = (
        f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" '
        f'font-weight="{600 if strong else 400}" fill="#111827">{escape(name)}</text>'
    )
    extra = ""
    if attempts > 1:
        extra += (
            f'<g class="retries"><rect x="{x + NODE_W / 2 - 40:.0f}" y="{y - NODE_H / 2 - 10:.0f}" '
            f'width="50" height="18" rx="9" fill="#f59e0b"/><text x="{x + NODE_W / 2 - 15:.0f}" '
            f'y="{y - NODE_H / 2 + 3:.0f}" text-anchor="middle" font-size="11" '
            f'font-weight="700" fill="#ffffff">&#215;{attempts}</text></g>'
        )
    if status == "waiting":
        extra += (
            f'<text x="{x:.0f}" y="{y + NODE_H / 2 + 14:.0f}" text-anchor="middle" '
            f'font-size="11" fill="#b45309" font-weight="700">waiting here</text>'
        )
    if status == "failed" and kind != "Fail":
        extra += (
            f'<text x="{x:.0f}" y="{y + NODE_H / 2 + 14:.0f}" text-anchor="middle" '
            f'font-size="11" fill="#b91c1c" font-weight="700">failed here</text>'
        )
    tip = f"{name} ({kind})" + (f", {attempts} attempts" if attempts > 1 else "")
    return (
        f'<g class="{classes}" data-state="{escape(name)}"><title>{escape(tip)}</title>'
        f"{shape}{text}{extra}</g>"
    )


def _legend(width: float, height: float) -> str:
    y = height - 22
    items = [
        ("visited", "path taken"),
        ("waiting", "waiting"),
        ("failed", "failed"),
    ]
    parts = ['<g class="legend" font-size="11">']
    x = 16.0
    for status, label in items:
        fill, stroke = COLORS[status]
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="14" height="14" rx="3" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
            f'<text x="{x + 20:.0f}" y="{y + 1:.0f}" fill="#374151">{label}</text>'
        )
        x += 34 + len(label) * 6.5
    parts.append(
        f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="26" height="14" rx="7" fill="#f59e0b"/>'
        f'<text x="{x + 13:.0f}" y="{y + 1:.0f}" text-anchor="middle" fill="#fff" '
        f'font-weight="700">&#215;N</text><text x="{x + 32:.0f}" y="{y + 1:.0f}" '
        f'fill="#374151">attempts (retries)</text>'
    )
    x += 150
    parts.append(
        f'<line x1="{x:.0f}" y1="{y - 3:.0f}" x2="{x + 30:.0f}" y2="{y - 3:.0f}" '
        f'stroke="{EDGE}" stroke-width="1.4" stroke-dasharray="5 4"/>'
        f'<text x="{x + 36:.0f}" y="{y + 1:.0f}" fill="#374151">on error (Catch)</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def marks_of(timeline: Any) -> Marks:
    """The marks of an ops Timeline (path, attempts, waiting, failed state)."""
    attempts: dict[str, int] = {}
    for step in timeline.steps:
        attempts[step.state] = max(attempts.get(step.state, 0), step.attempts)
    return Marks(
        path=list(timeline.path),
        attempts=attempts,
        waiting=timeline.waiting_in,
        failed=timeline.failed_state,
    )


def definition_for(ctx: Any, execution_arn: str, machine_arn: str) -> dict[str, Any]:
    """The ASL the execution ran (falls back to the machine's current definition)."""
    import json

    try:
        described = ctx.sfn.describe_state_machine_for_execution(executionArn=execution_arn)
    except Exception:
        described = ctx.sfn.describe_state_machine(stateMachineArn=machine_arn)
    definition: dict[str, Any] = json.loads(described["definition"])
    return definition
