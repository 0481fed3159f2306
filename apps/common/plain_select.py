"""Model instances from a plain SELECT, for the fixed reads every webhook makes.

Building an ORM query (or a raw queryset) for each webhook cost more than the read itself. A
caller keeps its statement text; here each selected column gets the converters the ORM would
apply (the backend's first, then the field's), built once per connection and model columns.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from django.db import models

# connection -> {(model, columns): [(column expression, its converters)]}
_CONVERTERS: weakref.WeakKeyDictionary[Any, dict[tuple, list[tuple[Any, list]]]] = (
    weakref.WeakKeyDictionary()
)


def column_converters(
    connection: Any, model: type[models.Model], attnames: Sequence[str]
) -> list[tuple[Any, list]]:
    key = (model, tuple(attnames))
    known = _CONVERTERS.setdefault(connection, {})
    if key not in known:
        table = model._meta.db_table
        columns = []
        for name in attnames:
            column = model._meta.get_field(name).get_col(table)
            converters = [*connection.ops.get_db_converters(column)]
            converters += column.get_db_converters(connection)
            columns.append((column, converters))
        known[key] = columns
    return known[key]


def instance_from_row(
    connection: Any, model: type[models.Model], attnames: Sequence[str], row: Sequence[Any]
) -> Any:
    """An instance of `model` from the values of `attnames` as the database returned them;
    fields not selected are deferred, as with .only()."""
    values = []
    for (column, converters), value in zip(
        column_converters(connection, model, attnames), row, strict=True
    ):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, list(attnames), values)
