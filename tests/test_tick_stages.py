"""The tick is one-way: only its output stage writes hardware (issue 18 item 1).

A recording wrapper around the simulated HAL notes, for every write (a contactor command, a
dropped coil, a CAN frame, the watchdog kick), the stage of the tick that made it
(``Supervisor.stage``). Driven through a start, a charge, an E-stop (the trip path's forced
safe state), its reset, a restart into charge and a shutdown, every write must come from the
output stage, and the watchdog kick from the watchdog step after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from controller.modes.states import LATCHED, State
from hal.interfaces.contactor import Contactor
from harness import Charger


@dataclass
class WriteLog:
    stage: Callable[[], str]
    writes: list[tuple[str, str]] = field(default_factory=list)  # (stage, what)

    def note(self, what: str) -> None:
        self.writes.append((self.stage(), what))

    def stages(self, prefix: str = "") -> set[str]:
        return {stage for stage, what in self.writes if what.startswith(prefix)}


class RecordingContactor:
    """The real contactor, with every command noted."""

    def __init__(self, name: str, inner: Contactor, log: WriteLog) -> None:
        self._name, self._inner, self._log = name, inner, log

    def set_closed(self, closed: bool) -> None:
        self._log.note(f"contactor {self._name} {'close' if closed else 'open'}")
        self._inner.set_closed(closed)

    def de_energise(self) -> None:
        self._log.note(f"contactor {self._name} de-energise")
        self._inner.de_energise()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def record_writes(c: Charger) -> WriteLog:
    log = WriteLog(stage=lambda: c.sup.stage)
    contactors = c.hw.contactors
    assert isinstance(contactors, dict)
    for name, contactor in list(contactors.items()):
        contactors[name] = RecordingContactor(name, contactor, log)
    for bus, link in c.hw.can.items():
        send = link.send

        def recorded(arbitration_id: int, data: bytes, bus: str = bus,
                     send: Callable[[int, bytes], None] = send) -> None:
            log.note(f"can {bus} 0x{arbitration_id:x}")
            send(arbitration_id, data)

        link.send = recorded  # type: ignore[method-assign]
    watchdog = c.hw.watchdog
    assert watchdog is not None
    toggle = watchdog.toggle

    def kicked() -> None:
        log.note("watchdog kick")
        toggle()

    watchdog.toggle = kicked  # type: ignore[method-assign]
    return log


def test_only_the_output_stage_writes_hardware(make_charger: Callable[..., Charger]) -> None:
    c = make_charger()
    log = record_writes(c)
    c.request("charge", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    c.run(2.0)
    c.world.press_estop()  # an EMERGENCY: the trip path forces every output safe
    c.run_until(lambda: c.state is State.ESTOP, limit_s=1.0)
    c.world.release_estop()
    c.run(1.0)
    c.sup.request_reset("operator")
    c.run_until(lambda: c.state not in LATCHED, limit_s=1.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=10.0)
    assert c.sup.shutdown()
    kinds = {what.split()[0] for _, what in log.writes}
    assert {"contactor", "can", "watchdog"} <= kinds, kinds  # the wrapper saw every kind
    assert any("de-energise" in what for _, what in log.writes)  # the forced safe state
    assert any(what.startswith("can inverter") for _, what in log.writes)
    # Settings frames (0x3xx pages) and commands alike: from the output stage only.
    assert log.stages("contactor") == {"outputs"}, log.stages("contactor")
    assert log.stages("can") == {"outputs"}, log.stages("can")
    assert log.stages("watchdog") == {"watchdog"}, log.stages("watchdog")


def test_an_aborted_tick_still_forces_the_outputs_from_the_output_stage(
        make_charger: Callable[..., Charger]) -> None:
    """An error in the estimate stage aborts the tick: the trip path's forced safe state is
    still written by the output stage, in the same tick."""
    c = make_charger()
    log = record_writes(c)
    c.request("charge", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    update = c.sup.estimator.update

    def broken(reading: Any) -> Any:
        raise ZeroDivisionError("estimator bug")

    c.sup.estimator.update = broken  # type: ignore[method-assign]
    first = len(log.writes)
    c.sup.tick()
    c.sup.estimator.update = update  # type: ignore[method-assign]
    assert c.state is State.FAULT
    assert "INTERNAL_ERROR" in c.sup.status().faults
    forced = log.writes[first:]
    assert any("de-energise" in what for _, what in forced), forced
    assert {stage for stage, _ in forced} == {"outputs"}, forced
