"""Warnings apps add to /healthz (generic; core imports no app).

An app registers, in AppConfig.ready(), a function returning a list of messages (empty when all is well):

    register_health_warning("cases.calendar", "yiwang.cases.workcal.calendar_warnings")

/healthz lists them under "warnings". They do not make the probe fail: they need an operator, not a
restart (e.g. the working calendar has no holidays for next year yet).
"""

import logging

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
_WARNINGS: dict[str, str] = {}


def register_health_warning(name: str, function_path: str) -> None:
    _WARNINGS[name] = function_path


def health_warnings() -> list[str]:
    messages = []
    for name, path in _WARNINGS.items():
        try:
            messages += [str(message) for message in import_string(path)()]
        except Exception as exc:  # a broken check is itself a warning, never a failed probe
            logger.exception("health warning %s failed", name)
            messages.append(f"{name}: check failed ({exc.__class__.__name__})")
    return messages
