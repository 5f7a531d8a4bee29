"""Template fragments rendered once per process under a key of everything they show.

For parts of a page that every request renders the same way from the same inputs (the menu, the area
switcher's options, a filter form for given parameters): the template engine costs about 10-20 µs per
variable or tag, which adds up to milliseconds on a page frame. The caller reads the inputs afresh on
every request and passes them, or a faithful summary of them, as the key, so a change in the data shows
on the next request and no cache ever needs clearing; only the rendering is saved. The key must include
the active language when the fragment has translated text, and anything else the template reads.
Nothing with per-request secrets (CSRF tokens) goes into a fragment.
"""

from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

# A full cache is simply emptied: in practice keys are few (role sets x languages x active entries...).
LIMIT = 1024
_rendered: dict[tuple, SafeString] = {}


def rendered(key: tuple, template: str, context: dict | Callable[[], dict]) -> SafeString:
    """`template` rendered with `context` (no request, no context processors), kept under `key`. The
    context may be a function, called only when the fragment is rendered."""
    key = (template, *key)
    html = _rendered.get(key)
    if html is None:
        html = render_to_string(template, context() if callable(context) else context)
        if len(_rendered) >= LIMIT:
            _rendered.clear()
        _rendered[key] = html
    return html


def forget() -> None:
    _rendered.clear()
