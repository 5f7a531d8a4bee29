"""The API's content negotiation (REST_FRAMEWORK["DEFAULT_CONTENT_NEGOTIATION_CLASS"]).

A module of its own: DRF imports its default classes while rest_framework.views is being imported, so this
one must not import that module (yiwang.core.api does, for the exception handler).
"""

from rest_framework.negotiation import DefaultContentNegotiation


class RememberedNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, which parses the Accept header (and builds the query dict for `?format=`)
    on every request: a noticeable share of a small write's API work. Clients send a handful of Accept
    headers, so DRF's answer for (the view's renderers, the header) is remembered per process: which of the
    renderers it chose and the media type, exactly as DRF returned them. Only requests without a query string
    or format suffix are answered from memory; headers longer than MAX_HEADER and errors (406, 404) always go
    through DRF, and at most MAX_REMEMBERED answers are kept, so no client can grow it."""

    MAX_REMEMBERED = 64
    MAX_HEADER = 256
    _remembered: dict = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        meta = getattr(request, "_request", request).META
        accept = meta.get("HTTP_ACCEPT")
        if format_suffix or meta.get("QUERY_STRING") or (accept is not None and len(accept) > self.MAX_HEADER):
            return super().select_renderer(request, renderers, format_suffix)
        key = (accept, *[(type(r), r.media_type, r.format) for r in renderers])
        known = self._remembered.get(key)
        if known is not None:
            return renderers[known[0]], known[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(self._remembered) < self.MAX_REMEMBERED:
            self._remembered[key] = (next(i for i, r in enumerate(renderers) if r is renderer), media_type)
        return renderer, media_type
