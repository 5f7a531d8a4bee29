"""Per-request context (client IP, request id) that services read without taking a request.

Set by RequestContextMiddleware; Celery tasks and commands run with an empty context.
"""

from contextvars import ContextVar

_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def client_ip() -> str | None:
    return _client_ip.get()


def set_client_ip(ip: str | None):
    return _client_ip.set(ip)


def reset_client_ip(token) -> None:
    _client_ip.reset(token)
