"""Before/after windows around an event: half-open UTC intervals, cut at the neighbouring events.

Place in the flow: ``pipeline.report`` plans the two windows here, then measures inside them
(``analysis.hourly``). The event's uncertainty window is left out of both; each window stops at
the nearest neighbouring anchor event (the notes say where and why); events marked
``anchor = false`` stay inside and are listed as possible confounders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.events import Event, events_between

__all__ = ["Window", "plan_windows"]


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval and what shaped it."""

    label: str
    start: datetime
    end: datetime
    notes: tuple[str, ...] = ()
    confounders: tuple[str, ...] = ()  # other events inside the window (ids)

    @property
    def days(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds() / 86400)


def plan_windows(
    event: Event,
    events: Sequence[Event],
    days: float = 7.0,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[Window, Window]:
    """Before and after windows around ``event``, its uncertainty window left out of both.

    Default: ``days`` each side, cut at the nearest anchor events (the notes say where and why).
    ``start``/``end`` set a side's outer edge explicitly; that side is then not cut, and events
    inside it are listed as confounders. The event a window was cut at is not a confounder.
    """
    cut_ids: set[str] = set()
    b_start = start or event.start - timedelta(days=days)
    a_end = end or event.end + timedelta(days=days)
    b_end, a_start = event.start, event.end
    b_notes: list[str] = []
    a_notes: list[str] = []
    if event.estimated:
        note = (
            f"the event time is estimated: {event.start:%Y-%m-%d %H:%M}–{event.end:%H:%M} UTC is left out "
            "of both windows"
        )
        b_notes.append(note)
        a_notes.append(note)
    anchors = [o for o in events if o.id != event.id and o.anchor]
    if start is None:
        earlier = [o for o in anchors if o.start < event.start and o.end > b_start]
        if earlier:
            cut = max(earlier, key=lambda o: o.end)
            cut_ids.add(cut.id)
            if cut.end >= b_end:
                b_notes.append(
                    f"overlaps the window of {cut.id} ({cut.start:%Y-%m-%d %H:%M}–{cut.end:%H:%M} UTC): "
                    "nothing is left before"
                )
                b_start = b_end
            else:
                b_start = cut.end
                b_notes.append(f"cut at {cut.id} ({cut.end:%Y-%m-%d %H:%M} UTC) so it does not mix in")
    if end is None:
        later = [o for o in anchors if o.end > event.end and o.start < a_end]
        if later:
            cut = min(later, key=lambda o: o.start)
            cut_ids.add(cut.id)
            if cut.start <= a_start:
                a_notes.append(
                    f"overlaps the window of {cut.id} ({cut.start:%Y-%m-%d %H:%M}–{cut.end:%H:%M} UTC): "
                    "nothing is left after"
                )
                a_end = a_start
            else:
                a_end = cut.start
                a_notes.append(f"cut at {cut.id} ({cut.start:%Y-%m-%d %H:%M} UTC) so it does not mix in")

    def others(s: datetime, e: datetime) -> tuple[str, ...]:
        inside = events_between(events, s, e) if e > s else []
        return tuple(x.id for x in inside if x.id != event.id and x.id not in cut_ids)

    return (
        Window("before", b_start, max(b_start, b_end), tuple(dict.fromkeys(b_notes)), others(b_start, b_end)),
        Window("after", a_start, max(a_start, a_end), tuple(dict.fromkeys(a_notes)), others(a_start, a_end)),
    )
