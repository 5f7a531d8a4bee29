"""Area detail panels: each app contributes a section to an area's detail page.

Geography owns the page but knows nothing of staff, residents or cases; apps above it register
a panel in AppConfig.ready():

    register_area_panel("staff", staff_panel, order=10)

A panel is a callable (area, actor) -> AreaPanel | None (None hides it for this viewer).
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class AreaPanel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    counts: list[tuple[str, int]] = field(default_factory=list)


_panels: dict[str, tuple[int, Callable]] = {}


def register_area_panel(key: str, builder: Callable, order: int = 100) -> None:
    _panels[key] = (order, builder)


def area_panels(area, actor) -> list[AreaPanel]:
    built = []
    for _order, builder in sorted(_panels.values(), key=lambda item: item[0]):
        panel = builder(area, actor)
        if panel is not None:
            built.append(panel)
    return built
