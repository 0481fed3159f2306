"""The graph of a definition's nodes: edges, running order, cycles and reachability.

Nodes are node ids; `succ` maps each id to the ids its `next` names, in the order of the
definition. Order and cycle detection use the standard library's graphlib, fed the nodes in the
order of the definition, so that results are the same from run to run.
"""

from graphlib import CycleError, TopologicalSorter
from heapq import heapify, heappop, heappush
from typing import Any


def successors(nodes: list[Any], index_of: dict[str, int]) -> dict[str, list[str]]:
    """Edges between the known nodes: unknown targets and self-references are left out (those
    are reported as problems of their own)."""
    succ: dict[str, list[str]] = {}
    for node_id, index in index_of.items():
        nxt = nodes[index].get("next")
        targets = [nxt] if isinstance(nxt, str) else nxt if isinstance(nxt, list) else []
        succ[node_id] = [
            t for t in targets if isinstance(t, str) and t in index_of and t != node_id
        ]
    return succ


def _sorter(succ: dict[str, list[str]]) -> TopologicalSorter:
    sorter: TopologicalSorter = TopologicalSorter()
    for node_id in succ:  # every node first, in the definition's order
        sorter.add(node_id)
    for node_id, targets in succ.items():
        for target in targets:
            sorter.add(target, node_id)
    return sorter


def find_cycle(succ: dict[str, list[str]]) -> list[str] | None:
    """One cycle as a list of node ids (the first repeated at the end), or None.

    The cycle is the first one met by a depth-first walk from the nodes in the definition's
    order, following each node's edges in the order they are written."""
    try:
        _sorter(succ).prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return None


def order(succ: dict[str, list[str]], index_of: dict[str, int]) -> list[str]:
    """The nodes in running order: edges first, then position in the definition.

    Raises graphlib.CycleError if the graph has a cycle (validation refuses such graphs)."""
    sorter = _sorter(succ)
    sorter.prepare()
    ready = [(index_of[node_id], node_id) for node_id in sorter.get_ready()]
    heapify(ready)
    result = []
    while ready:
        _, node_id = heappop(ready)
        result.append(node_id)
        sorter.done(node_id)
        for nxt in sorter.get_ready():
            heappush(ready, (index_of[nxt], nxt))
    return result


def reachable(entry: str, succ: dict[str, list[str]]) -> set[str]:
    """The nodes a run starting at entry can reach (entry included)."""
    seen = {entry}
    todo = [entry]
    while todo:
        for nxt in succ[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
