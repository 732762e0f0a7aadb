"""Sections of the partner's station home page, contributed by the apps.

Each app that has something to show on the station's home registers a panel in its
AppConfig.ready(); the page shows the panels in order, each computing its own numbers.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StationPanel:
    order: int
    template: str
    context: Callable  # (request, station) -> dict


_panels: list[StationPanel] = []


def register_station_panel(panel: StationPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)
        _panels.sort(key=lambda p: p.order)


def station_panels() -> list[StationPanel]:
    return list(_panels)
