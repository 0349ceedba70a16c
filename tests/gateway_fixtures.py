"""A simulated controller serving its control socket, for the gateway's end-to-end tests.

The controller is the production supervisor on the simulated plant (tests/harness.py's
``Charger``), paced ``speed`` times faster than real time on its own thread, with the real
control socket in a fresh temporary directory. The asyncio side (the gateway) talks to it only
through that socket. Every check of the controller or the plant runs on the loop's thread
between two ticks (``call``, ``wait_for``), so the supervisor is never touched from two threads,
and every duration a test asserts is measured on the controller's clock, never on the wall.
The plant's safety invariants are checked after every tick (``violations``).

Use::

    import gateway_fixtures
    from gateway_fixtures import SimController, run_async

    sim_controller = gateway_fixtures.sim_controller  # the fixture, in this test module

    def test_something(sim_controller: SimController) -> None:
        async def scenario() -> None:
            async with sim_controller.client() as client:
                reply = await client.claim("schedule", mode="charge", lease_s=30.0)
                await sim_controller.wait_for(lambda sup, world: world.inverter.ac_power_w > 1000,
                                              limit_s=60.0)
        run_async(scenario())

``sim_controller`` is a pytest fixture (import it into the test module); ``SimController(...)``
takes config overrides and plant parameters like the harness, and ``restart()`` stops the
controller (safe shutdown) and starts a new one on the same plant and store.

``SimController(..., lockstep=True)`` is not paced by the wall clock at all: the loop runs on
the plain virtual clock and pauses (still serving its socket and ``call``) whenever its clock
reaches the time the test granted with ``advance_to``; tests/lockstep.py drives the gateway's
services from that same clock, so what they see does not depend on the machine's load.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import pytest

from controller.config.loader import parse_config
from controller.control_socket.server import ControlSocketServer
from controller.modes.states import LATCHED
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from gateway.controller_client import ControllerClient
from hal.registry import open_backend
from hal.sim.backend import simulated
from hal.sim.params import PlantParams
from hal.sim.world import SimWorld
from harness import FakeWorkClock
from simulation.invariants import InvariantChecker, InvariantSettings, Violation

T = TypeVar("T")
Probe = Callable[[Supervisor, SimWorld], T]

DEFAULT_SPEED = 4.0  # plant seconds per wall second: fast, yet the asyncio side keeps up
PAUSE_POLL_S = 0.001  # lockstep: how often a paused loop serves its socket (wall time)
TIME_EPS_S = 1e-6  # lockstep: ticks add up 0.02 s in floating point
RUN_ASYNC_TIMEOUT_S = 120.0  # a hung test fails instead of hanging CI (wall-time guard only)


def run_async(coro: Coroutine[Any, Any, T], timeout_s: float = RUN_ASYNC_TIMEOUT_S) -> T:
    """Run ``coro`` in a fresh event loop (no pytest-asyncio needed)."""

    async def guarded() -> T:
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(guarded())


class SimController:
    """The controller on the simulator, serving the control socket on its own thread."""

    def __init__(self, overrides: Mapping[str, Any] | None = None,
                 plant: PlantParams | None = None, speed: float = DEFAULT_SPEED,
                 lockstep: bool = False) -> None:
        self.dir = tempfile.mkdtemp(prefix="v2x-gw-")  # short: AF_UNIX paths are <= 107 bytes
        self.socket_path = os.path.join(self.dir, "control.sock")
        data: dict[str, Any] = {"store": {"path": os.path.join(self.dir, "state.db")},
                                "control_socket": {"path": self.socket_path}}
        for key, value in (overrides or {}).items():
            data.setdefault(key, {}).update(value)
        self.config = parse_config(data)
        self.hw = open_backend(self.config.hal, plant=plant or PlantParams(),
                               speed=None if lockstep else speed)
        self.world: SimWorld = simulated(self.hw).world
        cfg = self.config
        self.checker = InvariantChecker(self.world, InvariantSettings.for_world(
            self.world, tick_s=cfg.control.tick_s,
            precharge_tolerance_v=cfg.sequence.precharge_tolerance_v,
            reserve_soc_pct=cfg.v2h.reserve_soc_pct,
            cable_max_current_a=cfg.limits.cable_max_current_a,
            inverter_max_dc_current_a=cfg.inverter.max_dc_current_a,
            backup_reserve_soc_pct=cfg.backup.reserve_soc_pct,
            insulation_test_s=cfg.sequence.insulation_test_s))
        self.violations: list[Violation] = []
        self.failure: BaseException | None = None
        self._calls: list[tuple[Probe[Any], concurrent.futures.Future[Any]]] = []
        self._waits: list[tuple[Probe[Any], float, float, concurrent.futures.Future[float]]] = []
        self._lock = threading.Lock()
        # lockstep: the loop pauses once its clock reaches ``_until`` (None: never pauses)
        self._until: float | None = 0.0 if lockstep else None
        self._reached: list[tuple[float, concurrent.futures.Future[float]]] = []
        self._granted = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = self._safe = False
        self.sup: Supervisor
        self.server: ControlSocketServer
        self.starts = 0
        self.start()

    # ----- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        """A controller start on the same plant and store file: its own thread opens the store,
        builds the supervisor and the socket, runs the loop and, when stopped, shuts down."""
        self._stop, self._safe = False, True
        started = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(started,),
                                        name="sim-controller", daemon=True)
        self._thread.start()
        started.wait()
        if self.failure is not None:
            raise RuntimeError("the controller did not start") from self.failure
        self.starts += 1

    def _loop(self, started: threading.Event) -> None:
        store: StateStore | None = None
        try:
            store = StateStore.from_settings(self.config.store)  # SQLite: used on this thread only
            self.sup = Supervisor(self.config, self.hw, store, work_clock=FakeWorkClock())
            self.server = ControlSocketServer(self.sup)
            started.set()
            try:
                self.sup.run(stop=lambda: self._stop, on_tick=self._on_tick)
            finally:
                self.server.close()
                self._fail_waiters("the controller stopped")
            if self._safe:
                self.sup.shutdown(requested_by="the test")
        except BaseException as err:  # the test sees it (``failure``, the fixture's check)
            self.failure = err
        finally:
            started.set()
            if store is not None:
                store.close()

    def stop(self, safe: bool = True) -> None:
        """Stop the loop (then, with ``safe``, the controller's safe shutdown) and the socket."""
        self._stop, self._safe = True, safe
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def restart(self) -> None:
        """A controller restart: safe stop, then a new supervisor (claims are gone)."""
        self.stop()
        self.start()

    async def arestart(self) -> None:
        """:meth:`restart` off the event loop (the safe stop takes seconds of plant time)."""
        await asyncio.to_thread(self.restart)

    def close(self) -> None:
        self.stop()
        self.hw.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, **options: Any) -> ControllerClient:
        """A client of this controller's socket (``async with`` starts and stops it); polls
        often so the tests see the plant move quickly."""
        options.setdefault("poll_interval_s", 0.1)
        options.setdefault("backoff_max_s", 0.5)
        return ControllerClient(self.socket_path, **options)

    # ----- the loop's side ---------------------------------------------------------------
    def _on_tick(self, sup: Supervisor) -> None:
        self.server.on_tick(sup)
        self.violations += self.checker.check(sup.clock.now(), sup.state in LATCHED,
                                              sup.modes.export_permitted)
        self.violations += self.checker.check_controller_record(sup.hot_opens)
        self._serve_probes(sup)
        if self._until is not None:
            self._pause(sup)

    def _pause(self, sup: Supervisor) -> None:
        """Lockstep: while the clock is at the granted time, serve the socket and the probes
        (no tick, so no time passes) until the test grants more or stops the loop."""
        now = sup.clock.now()
        while not self._stop:
            with self._lock:
                until = self._until
                if until is None or now < until - TIME_EPS_S:
                    return
                reached = [r for r in self._reached if r[0] <= now + TIME_EPS_S]
                self._reached = [r for r in self._reached if r not in reached]
            for _, future in reached:
                if not future.done():
                    future.set_result(now)
            with self._granted:
                self._granted.wait(PAUSE_POLL_S)
            self.server.on_tick(sup)
            self._serve_probes(sup)

    def _serve_probes(self, sup: Supervisor) -> None:
        with self._lock:
            calls, self._calls = self._calls, []
            waits = list(self._waits)
        for probe, future in calls:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(probe(sup, self.world))
                except Exception as err:
                    future.set_exception(err)
        now = sup.clock.now()
        for entry in waits:
            probe, start, limit, future = entry
            try:
                done = bool(probe(sup, self.world))
            except Exception as err:
                done, error = True, err
            else:
                error = None
            if done or now - start > limit:
                with self._lock:
                    self._waits.remove(entry)
                if error is not None:
                    future.set_exception(error)
                elif done:
                    future.set_result(now - start)
                else:
                    future.set_exception(AssertionError(
                        f"not reached within {limit} s of controller time (state "
                        f"{sup.modes.state}, t={now:.2f} s)"))

    def _fail_waiters(self, why: str) -> None:
        with self._lock:
            pending = [f for _, f in self._calls] + [w[3] for w in self._waits]
            pending += [f for _, f in self._reached]
            self._calls, self._waits, self._reached = [], [], []
        for future in pending:
            if not future.done():
                future.set_exception(RuntimeError(why))

    # ----- what tests call (from the asyncio side) ---------------------------------------
    async def call(self, probe: Probe[T]) -> T:
        """``probe(sup, world)`` run on the loop's thread after the next tick."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            self._calls.append((probe, future))
        return await asyncio.wrap_future(future)

    async def wait_for(self, probe: Probe[object], limit_s: float) -> float:
        """Controller seconds until ``probe(sup, world)`` holds after a tick; AssertionError
        when ``limit_s`` of controller time passes first."""
        start = await self.call(lambda sup, _w: sup.clock.now())
        future: concurrent.futures.Future[float] = concurrent.futures.Future()
        with self._lock:
            self._waits.append((probe, start, limit_s, future))
        return await asyncio.wrap_future(future)

    async def now(self) -> float:
        return await self.call(lambda sup, _w: sup.clock.now())

    async def advance_to(self, t: float) -> float:
        """Lockstep: let the loop tick until its clock reaches ``t``; the time it paused at.
        Requests sent while it is paused are all answered at that time."""
        if self._until is None:
            raise RuntimeError("advance_to needs SimController(..., lockstep=True)")
        future: concurrent.futures.Future[float] = concurrent.futures.Future()
        with self._lock:
            self._until = max(self._until, t)
            self._reached.append((t, future))
        with self._granted:
            self._granted.notify_all()
        return await asyncio.wrap_future(future)


@pytest.fixture
def sim_controller() -> Iterator[SimController]:
    """A controller on the simulator serving its socket; checked for invariant violations and
    loop failures at the end."""
    sim = SimController()
    try:
        yield sim
    finally:
        sim.close()
    assert sim.failure is None, f"the control loop failed: {sim.failure!r}"
    assert not sim.violations, "\n".join(str(v) for v in sim.violations)
