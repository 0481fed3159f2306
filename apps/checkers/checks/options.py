"""--option parsing shared by the check commands and the agent (no Django here)."""


def parse_options(raw: list[str], *, check: str | None = None) -> dict[str, dict[str, str]]:
    """['disk.paths=/,/var'] -> {'disk': {'paths': '/,/var'}}; with `check`, 'key=value' form.

    ValueError with a one-line message for an item of the wrong shape.
    """
    shape = "key=value" if check else "check.key=value"
    options: dict[str, dict[str, str]] = {}
    for item in raw:
        target, sep, value = item.partition("=")
        name, key = (check, target) if check else target.partition(".")[::2]
        if not sep or not name or not key.strip():
            raise ValueError(f"--option must look like {shape}, got {item!r}")
        options.setdefault(name.strip(), {})[key.strip()] = value.strip()
    return options
