"""The OCPP station on the simulated charger, with a real CSMS on localhost, on virtual time.

:class:`SimController` is the station's :class:`gateway.api.ControllerApi` over the real
controller (supervisor, arbitration, protection) on the simulator, in-process: a claim goes to
``Supervisor.claim`` with the requester, mode, power and lease exactly as the control socket
passes them, and held claims are renewed at half their lease, as the socket client does. The
station's clock is the simulator's, moved on together (:meth:`Rig.advance`); the websocket
traffic between station and CSMS is real.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from gateway.api import ClaimReply, ControllerEvent, ControllerStatus, Mode, Requester
from gateway.ocpp.clock import VirtualClock
from gateway.ocpp.settings import OcppSettings
from gateway.ocpp.station import Station
from hal.sim.params import PlantParams
from tests.csms import Csms
from tests.harness import Charger

EPOCH = 1_796_299_200.0  # 2026-12-03T12:00:00Z: the virtual wall clock at simulator t = 0
STATION_ID = "v2x-test-1"
PASSWORD = "correct-horse-battery"  # 16..40 characters, as OCPP wants
STEP_S = 1.0


@dataclass
class _Held:
    mode: str | None
    power_w: float | None
    lease_s: float
    t: float


class SimController:
    """ControllerApi over an in-process :class:`tests.harness.Charger`."""

    def __init__(self, charger: Charger) -> None:
        self.charger = charger
        self.held: dict[str, _Held] = {}
        self.replies: list[tuple[str, ClaimReply]] = []
        self.import_wh = 0.0
        self.export_wh = 0.0
        self.refusals: dict[str, str] = {}  # mode -> reason: a controller configured to refuse

    @property
    def connected(self) -> bool:
        return True

    @property
    def status(self) -> ControllerStatus | None:
        st = self.charger.sup.status()
        return ControllerStatus(
            t=st.t, state=st.state, mode=st.request, mode_winner=st.request_source,
            power_limit_w=st.power_limit_w, power_winner=st.power_winner,
            grid_voltage_v=st.grid_voltage_v, grid_frequency_hz=st.grid_frequency_hz,
            grid_ok=st.grid_ok, grid_reason=st.grid_reason, ev_soc_pct=st.ev_soc_pct,
            grid_power_w=st.grid_power_w, home_power_w=st.home_power_w,
            ev_power_w=st.ev_power_w, pv_power_w=st.pv_power_w,
            commanded_power_w=st.commanded_power_w, faults=st.faults, blocked=st.blocked,
            energy_import_wh=round(self.import_wh, 1), energy_export_wh=round(self.export_wh, 1),
            ev_phase=st.ev_phase)

    async def claim(self, requester: Requester, *, mode: Mode | None = None,
                    power_limit_w: float | None = None, lease_s: float) -> ClaimReply:
        if mode in self.refusals:
            return ClaimReply(False, self.refusals[mode])
        decision = self.charger.sup.claim(requester, mode, power_limit_w, lease_s)
        reply = ClaimReply(decision.accepted, decision.reason)
        self.replies.append((requester, reply))
        if decision.accepted:
            self.held[requester] = _Held(mode, power_limit_w, lease_s, self.charger.now)
        return reply

    async def release(self, requester: Requester) -> ClaimReply:
        self.held.pop(requester, None)
        released = self.charger.sup.release(requester)
        return ClaimReply(True, "released" if released else "no claim held")

    def events(self) -> AsyncIterator[ControllerEvent]:
        async def nothing() -> AsyncIterator[ControllerEvent]:
            return
            yield  # pragma: no cover

        return nothing()

    def step(self, seconds: float) -> None:
        """Run the controller ``seconds``; renew held claims at half their lease (the client's
        job); count the EV's energy both ways."""
        self.charger.run(seconds)
        ev_w = self.charger.sup.status().ev_power_w or 0.0
        self.import_wh += max(ev_w, 0.0) * seconds / 3600.0
        self.export_wh += max(-ev_w, 0.0) * seconds / 3600.0
        now = self.charger.now
        for requester, held in list(self.held.items()):
            if now - held.t >= held.lease_s / 2:
                self.charger.sup.claim(requester, held.mode, held.power_w, held.lease_s)
                held.t = now


def settings(csms: Csms, database: str, **changes: Any) -> OcppSettings:
    values: dict[str, Any] = {
        "enabled": True, "csms_url": csms.url, "station_id": STATION_ID, "password": PASSWORD,
        "database": database, "response_timeout_s": 10.0, "reconnect_min_s": 2.0,
        "reconnect_max_s": 30.0, "evaluate_interval_s": 1.0, "tx_updated_interval_s": 60.0,
        "reserve_soc_pct": 40.0, "max_charge_w": 11_000.0, "max_discharge_w": 11_000.0}
    return OcppSettings(**{**values, **changes})


class Rig:
    """Charger + SimController + CSMS + Station, all on one virtual time line."""

    def __init__(self, charger: Charger, csms: Csms, station_settings: OcppSettings) -> None:
        self.charger = charger
        self.api = SimController(charger)
        self.csms = csms
        self.clock = VirtualClock(EPOCH + charger.now)
        self.settings = station_settings
        self.station = Station(station_settings, self.clock)
        self.stations = [self.station]  # every one started (a killed one is not closed)
        self.task: asyncio.Task[None] | None = None

    @property
    def world(self) -> Any:
        return self.charger.world

    def start(self) -> None:
        self.task = asyncio.create_task(self.station.run(self.api))

    async def kill(self) -> None:
        """Stop the station where it is (a killed gateway: no goodbye, nothing flushed)."""
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def restart(self) -> None:
        """A new station process on the same store."""
        self.station = Station(self.settings, self.clock)
        self.stations.append(self.station)
        self.start()

    async def settle(self) -> None:
        """Let the station finish what it started (real I/O to the CSMS, bounded)."""
        for _ in range(5):
            await asyncio.sleep(0)
        async with asyncio.timeout(20):
            while self._busy():
                await asyncio.sleep(0.002)
        for _ in range(5):
            await asyncio.sleep(0)

    def _busy(self) -> bool:
        session = self.station.link.session
        if session is None:
            return False
        if session._call_lock.locked():
            return True  # a request in flight (a boot too)
        return self.station.link.online and len(self.station.store) > 0

    async def advance_clock(self, seconds: float, step_s: float = 10.0) -> None:
        """Only the station's clock on by ``seconds`` (the controller stands still): for tests
        of the protocol alone, where running the plant would only cost time."""
        end = self.clock.t + seconds - 1e-9
        while self.clock.t < end:
            self.clock.advance(min(step_s, end - self.clock.t + 1e-9))
            await self.settle()

    async def clock_until(self, predicate: Any, limit_s: float, what: str) -> float:
        """The station's clock on a second at a time (with a moment of real time for the
        station's I/O after each) until ``predicate()``; virtual seconds it took, or fails
        naming ``what`` after ``limit_s``."""
        start = self.clock.t
        while not predicate():
            assert self.clock.t - start < limit_s, f"{what}: not within {limit_s} s"
            self.clock.advance(1.0)
            await self.settle()
            await asyncio.sleep(0.02)
        return self.clock.t - start

    async def advance_until(self, predicate: Any, limit_s: float, what: str) -> float:
        """Plant, controller and clock on a second at a time until ``predicate()``."""
        start = self.charger.now
        while not predicate():
            assert self.charger.now - start < limit_s, f"{what}: not within {limit_s} s"
            await self.advance(1.0)
            await asyncio.sleep(0.01)
        return self.charger.now - start

    async def advance(self, seconds: float, step_s: float = STEP_S) -> None:
        """Plant, controller and station clock on by ``seconds``, in steps."""
        end = self.charger.now + seconds - 1e-9
        while self.charger.now < end:
            dt = min(step_s, end - self.charger.now + 1e-9)
            self.api.step(dt)
            self.clock.advance(max(0.0, EPOCH + self.charger.now - self.clock.t))
            await self.settle()


@contextlib.asynccontextmanager
async def rig(tmp_path: Any, *, plant: PlantParams | None = None,
              overrides: dict[str, Any] | None = None, versions: tuple[str, ...] = (
                  "ocpp2.1", "ocpp2.0.1"), online: bool = True,
              boots: tuple[str, ...] = (), boot_interval: int = 300,
              **changes: Any) -> AsyncIterator[Rig]:
    csms = Csms(STATION_ID, versions=versions, password=PASSWORD)
    csms.boot_statuses[:] = boots
    csms.boot_interval = boot_interval
    await csms.start()
    charger = Charger(overrides=overrides, plant=plant)
    station_settings = settings(csms, str(tmp_path / "ocpp.sqlite3"), **changes)
    test_rig = Rig(charger, csms, station_settings)
    try:
        test_rig.start()
        if online:
            await csms.wait_for(lambda: test_rig.station.link.online, "the station is online")
        yield test_rig
    finally:
        if test_rig.task is not None and not test_rig.task.done():
            await test_rig.kill()
        for station in test_rig.stations:
            station.close()
        await csms.stop()
        charger.close()
