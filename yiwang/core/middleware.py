from django.conf import settings

from .context import reset_client_ip, set_client_ip


def request_client_ip(request) -> str | None:
    """The client's address; X-Forwarded-For is trusted only behind a configured proxy."""
    if getattr(settings, "YIWANG_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_client_ip(request_client_ip(request))
        try:
            return self.get_response(request)
        finally:
            reset_client_ip(token)
