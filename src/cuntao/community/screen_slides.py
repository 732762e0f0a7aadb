"""Slides of the station screen (服务站大屏), contributed by community's subdomains and other apps.

The screen (centre) shows rotating slides; training registers its upcoming sessions
here, the centre its parcels, events, products and notices. A source gets the station
and returns plain JSON-able slides, already in the active language:

    {"kind": "trainings", "title": "…", "items": [{"primary": "…", "secondary": "…"}]}

A source returns an empty list when it has nothing to show. No names in full: the
screen hangs in a public room.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenSlideSource:
    order: int
    kind: str
    slides: Callable[[object], list[dict]]  # (station) -> slides


_sources: list[ScreenSlideSource] = []


def register_screen_slides(source: ScreenSlideSource) -> None:
    if all(s.kind != source.kind for s in _sources):
        _sources.append(source)
        _sources.sort(key=lambda s: s.order)


def screen_slide_sources() -> list[ScreenSlideSource]:
    return list(_sources)
