"""How a station wakes a vehicle that does not draw although the pilot lets it: sans-I/O.

Some stations, when the vehicle stays idle after the current returns (typically after a long
pause), try to wake it by interrupting the pilot; labs record which method a vehicle needed.
The simulated station offers an escalation, :attr:`StationConfig.wake_up
<simulators.station.config.StationConfig.wake_up>` (empty: it never tries):

* :attr:`WakeUpMethod.PILOT_TOGGLE` — stop the PWM for ``wake_up_toggle_s`` (steady +9 V, the
  vehicle goes C → B) and start it again (B → C);
* :attr:`WakeUpMethod.STATE_F` — hold the pilot at −12 V (state F) for
  ``wake_up_interrupt_s`` (ISO 15118-3's ``T_step_EF`` is about 4 s), then resume.

A :class:`WakeUpTracker` per EVSE decides: once the pilot has offered current (≥ 6 A) for
``wake_up_after_s`` with the vehicle not drawing, the next method of the escalation runs;
each method gets its own ``wake_up_after_s``. The episode ends when the vehicle draws (it
records what woke it: the last method tried, or none) or when the offer stops (a pause).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["WakeUpEpisode", "WakeUpMethod", "WakeUpTracker"]


class WakeUpMethod(StrEnum):
    """A way a station wakes a vehicle (``none`` names "no wake-up was needed")."""

    NONE = "none"
    PILOT_TOGGLE = "pilot_toggle"
    STATE_F = "state_f"


@dataclass(frozen=True, slots=True)
class WakeUpEpisode:
    """One stretch of "current offered, vehicle idle" on an EVSE that needed the station's
    attention: the methods tried in order (with their times), and the one after which the
    vehicle drew (``woken_by``: :attr:`WakeUpMethod.NONE` when it drew without one;
    ``None`` while the vehicle has not drawn)."""

    started_at: datetime
    tried: tuple[tuple[WakeUpMethod, datetime], ...] = ()
    woken_by: WakeUpMethod | None = None


@dataclass(slots=True)
class WakeUpTracker:
    """The wake-up decision for one EVSE (see the module docstring)."""

    methods: tuple[WakeUpMethod, ...]
    after_s: float
    idle_since: datetime | None = None
    episode: WakeUpEpisode | None = None
    history: list[WakeUpEpisode] = field(default_factory=list)

    def observe(
        self, *, now: datetime, offering: bool, busy: bool, drawing: bool
    ) -> WakeUpMethod | None:
        """Feed the EVSE's state at ``now``; returns the method to run now, if any.

        ``offering``: the pilot lets the vehicle draw (a current of at least 6 A);
        ``busy``: a wake-up is running (the pilot is toggled or held in F), so ``offering``
        is false only because of it; ``drawing``: the vehicle draws power.
        """
        if busy:
            self.idle_since = None
            return None
        if drawing:
            self._close(WakeUpMethod.NONE if self.episode is None else self.episode.tried[-1][0])
            self.idle_since = None
            return None
        if not offering:
            self._close(None)  # a pause (or the end of the session) ends the episode
            self.idle_since = None
            return None
        if self.idle_since is None:
            self.idle_since = now
            return None
        tried = () if self.episode is None else self.episode.tried
        if len(tried) >= len(self.methods) or now < self.idle_since + self._after:
            return None
        method = self.methods[len(tried)]
        start = now if self.episode is None else self.episode.started_at
        self.episode = WakeUpEpisode(start, (*tried, (method, now)))
        self.idle_since = None
        return method

    def deadline(self) -> datetime | None:
        """When :meth:`observe` may next start a method (``None``: nothing pending)."""
        if self.idle_since is None:
            return None
        tried = 0 if self.episode is None else len(self.episode.tried)
        return self.idle_since + self._after if tried < len(self.methods) else None

    def since(self, at: datetime) -> WakeUpEpisode | None:
        """The latest episode (running or closed) that started at or after ``at``."""
        episodes = [*self.history, *([] if self.episode is None else [self.episode])]
        later = [e for e in episodes if e.started_at >= at]
        return later[-1] if later else None

    @property
    def _after(self) -> timedelta:
        return timedelta(seconds=self.after_s)

    def _close(self, woken_by: WakeUpMethod | None) -> None:
        if self.episode is not None:
            self.history.append(
                WakeUpEpisode(self.episode.started_at, self.episode.tried, woken_by)
            )
            self.episode = None
