"""A definition's secrets: its notify nodes' inline secrets are sealed whenever the definition
is stored (whatever stores it: the API, the admin, `pipelines import`), run snapshots copy the
sealed form, and every view shows `***` (apps.common.sealed.mask). The notify node decrypts
them when it sends.
"""

from typing import Any

from apps.common.sealed import mask

__all__ = ["mask", "seal_definition", "shown_node_config"]


def shown_node_config(node_type: str, config: Any) -> Any:
    """A node's config to show (dry-runs, plans): a notify node's secrets as ***, clear or not."""
    from apps.notify.sealing import hidden

    return hidden(config) if node_type == "notify" else mask(config)


def _notify_configs(config: Any) -> dict[Any, Any]:
    nodes = config.get("nodes") if isinstance(config, dict) else None
    if not isinstance(nodes, list):
        return {}
    return {
        node.get("id"): node.get("config")
        for node in nodes
        if isinstance(node, dict) and node.get("type") == "notify"
    }


def seal_definition(config: Any, previous: Any = None) -> Any:
    """A copy of config with the notify nodes' secrets sealed. `previous` is the stored config
    being replaced: a `***` keeps its secret at the same node and key, and an unchanged value
    keeps its token (so the config compares equal and is no new version)."""
    from apps.notify.sealing import seal_config

    if not isinstance(config, dict) or not isinstance(config.get("nodes"), list):
        return config
    stored = _notify_configs(previous)
    nodes = []
    for node in config["nodes"]:
        if isinstance(node, dict) and node.get("type") == "notify":
            sealed = seal_config(node.get("config"), stored.get(node.get("id")))
            node = {**node, "config": sealed} if "config" in node else node
        nodes.append(node)
    return {**config, "nodes": nodes}
