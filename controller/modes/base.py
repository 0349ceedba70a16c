"""The mode machine's own state, shared by its guards and callbacks, and the per-tick timers.

:meth:`ModeBase.observe` runs once per tick, before any trigger fires: it advances the condition
timers (the insulation monitor's history, the V2L overload, the contactor test's response) on
the new context, so the guards that read them are pure (``controller/modes/guards.py``).
"""

from __future__ import annotations

from controller.config.model import Config
from controller.modes.checks import insulation_ok
from controller.modes.intents import FaultIntent, Refusal, TransitionRecord
from controller.modes.plan import OutputPlan
from controller.modes.states import State
from controller.protection.debounce import HeldFor
from controller.values.context import TickContext

STATE_BY_NAME: dict[str, State] = {state.value: state for state in State}
SAMPLE_EPSILON_S = 1e-9  # a sample read at the tick a state began predates it (float sums)


class ModeBase:
    """Attributes and helpers of :class:`controller.modes.machine.ModeLogic`."""

    current: State  # the machine's state as the enum: kept with ``state`` (its setter)
    _state: str

    def __init__(self, config: Config, plan: OutputPlan) -> None:
        self.config = config
        self.plan = plan
        self.ctx: TickContext | None = None
        self.t = 0.0  # the loop time of this tick (transitions are recorded at it)
        self.entered_at = 0.0
        self.reason = ""  # why the transition under way happens (set by before callbacks)
        self.last_energised: State | None = None
        self.backup_start = False  # a cold start for backup is under way (from ev_connected)
        self.test_contactor: str | None = None  # the contactor under a service test
        self.cleared_at: float | None = None  # a reset cleared the latched faults at this time
        # Condition timers, advanced once per tick by observe() (guards only read them):
        self._overload = HeldFor()  # the V2L outlet above its rating (energised_v2l)
        self.overload_s = 0.0
        self._imd_ok = HeldFor()  # the insulation monitor reporting OK (the insulation test)
        self.imd_ok_s = 0.0
        # ...and reporting OK without a break while the DC side is open (every tick, any state):
        # the insulation test's own conditions, credited to a cold start for backup.
        self._imd_history = HeldFor()
        self.imd_history_s = 0.0
        self.test_response_s: float | None = None  # the tested contactor's aux followed after
        # What this step asks of the supervisor (controller/modes/intents.py):
        self._records: list[TransitionRecord] = []
        self._faults: list[FaultIntent] = []
        self._refusals: list[Refusal] = []
        self.pending = False  # something above is waiting for ``ModeLogic.take``

    @property
    def state(self) -> str:
        """The state's name; transitions sets it (its ``model_attribute``)."""
        return self._state

    @state.setter
    def state(self, name: str) -> None:
        # ``current`` is read a score of times a tick: looked up once per state change here
        # (State(name) is an enum call), not per read.
        self.current = STATE_BY_NAME[name]
        self._state = name

    def _c(self) -> TickContext:
        if self.ctx is None:
            raise RuntimeError("mode machine used before the first tick context")
        return self.ctx

    def time_in_state(self) -> float:
        return self.t - self.entered_at

    def sample_since_entry(self, name: str) -> float | None:
        """ADC channel ``name`` if fresh and read after the tick this state began, else None.

        The ADC visits each channel only every few ticks, so the newest sample can predate
        the state: a state's exit is judged by evidence from within it (a DC current read
        before the AC side opened, or an inlet read before the vehicle closed, says nothing
        about now)."""
        snap = self._c().snapshot
        sample = snap.analog.get(name)
        if (sample is None or snap.t - sample.t > self.config.protection.sensor_max_age_s
                or sample.t <= self.entered_at + SAMPLE_EPSILON_S):
            return None
        return sample.value

    def _closed(self, name: str) -> bool:
        view = self._c().snapshot.contactors[name]
        return view.feedback_closed if view.feedback_closed is not None else view.commanded_closed

    def _imd_history_ok(self) -> bool:
        """The insulation monitor reports OK and K_DC and K_PRE are confirmed open."""
        snap = self._c().snapshot
        dc, precharge = snap.contactors.get("dc"), snap.contactors.get("precharge")
        dc_open = (dc is not None and dc.feedback_closed is False
                   and precharge is not None and precharge.feedback_closed is False)
        return dc_open and insulation_ok(snap)

    def observe(self, ctx: TickContext) -> None:
        """Take this tick's context and advance the condition timers on it (once per tick)."""
        self.ctx = ctx
        self.t = now = ctx.snapshot.t
        self.imd_history_s = self._imd_history.held(now, self._imd_history_ok())
        state = self.current
        if state is State.STARTING_INSULATION_TEST:
            self.imd_ok_s = self._imd_ok.held(now, insulation_ok(ctx.snapshot))
        elif state is State.ENERGISED_V2L:
            status = ctx.snapshot.inverter
            drawn = -status.ac_power_w if status is not None else 0.0
            self.overload_s = self._overload.held(now, drawn > self.config.v2l.rated_power_w)
        elif state is State.SERVICE_TEST and self.test_contactor is not None:
            view = ctx.snapshot.contactors[self.test_contactor]
            if (self.test_response_s is None and view.feedback_closed is not None
                    and view.feedback_closed == view.commanded_closed):
                self.test_response_s = self.time_in_state()

    def restart_timer(self, which: str) -> None:
        """An enter callback starts a condition timer afresh (``imd_ok`` or ``overload``)."""
        if which == "imd_ok":
            self._imd_ok, self.imd_ok_s = HeldFor(), 0.0
        else:
            self._overload, self.overload_s = HeldFor(), 0.0
