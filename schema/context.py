"""The request's Context now lives with the resolvers (resolvers/context.py): resolvers
never import schema/. These names stay importable from here for server.py and routes/
until they import resolvers.context themselves."""

from resolvers.context import (
    SESSION_COOKIE,
    BadInput,
    Context,
    Forbidden,
    NotAuthenticated,
    request_session,
)

__all__ = [
    "SESSION_COOKIE",
    "BadInput",
    "Context",
    "Forbidden",
    "NotAuthenticated",
    "request_session",
]
