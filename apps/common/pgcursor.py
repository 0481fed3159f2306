"""PostgreSQL cursors for the statements that server-side binding cannot send.

With DATABASE_SERVER_SIDE_BINDING (the default on PostgreSQL) psycopg sends each statement
and its parameters separately, and prepares the ones a connection repeats: the server parses
them once. Such a message holds one statement only; a caller that sends several in
one message (one round trip, one implicit transaction) asks for a client-side cursor here."""

from typing import Any


def one_message_cursor(connection: Any) -> Any:
    """A cursor that binds parameters on the client, so several statements with parameters
    can go in one message; query logging and error wrapping as with connection.cursor()."""
    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        return connection.cursor()
    from django.db.backends.postgresql.base import Cursor  # psycopg's client-side binding

    connection.ensure_connection()
    # _prepare_cursor is what connection.cursor() wraps a new cursor with (debug logging,
    # thread checks); only the cursor class differs.
    return connection._prepare_cursor(Cursor(connection.connection))
