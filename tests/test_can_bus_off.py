"""After a bus-off, command frames queued before it never reach the inverter (issue 15 item 12).

A SocketCAN node that goes bus-off keeps the frames it was given in its transmit queue and sends
them all when it restarts: commands up to ``restart-ms`` old, in a burst. The simulated wire
models that queue (``hal/sim/can_bus.py``). A third node on the virtual bus listens like
``candump``: it sees exactly what went on the wire, tick by tick.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import can

from controller.modes.states import State
from hal.can_link import PythonCanLink
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import INV_CMD_ID
from hal.protocols.inverter_messages import InverterCommand, InverterMode
from hal.sim.can_bus import open_sim_bus, set_bus_off
from harness import Charger

BUS_OFF_S = 0.5
TICK_S = 0.02
MAX_COMMANDS_PER_TICK = 2


def _commands(sniffer: can.BusABC, codec: InverterCodec) -> list[InverterCommand]:
    seen = []
    while (msg := sniffer.recv(timeout=0.0)) is not None:
        if msg.arbitration_id == INV_CMD_ID and not msg.is_error_frame:
            seen.append(codec.decode_command(msg.arbitration_id, bytes(msg.data)).command)
    return seen


def test_no_command_queued_before_a_bus_off_is_sent_after_it(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger()
    c.request("charge", 5000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    c.run(0.5)
    codec = InverterCodec()
    sniffer = open_sim_bus(c.world.can_channels["inverter"])
    try:
        c.run(0.1)
        before = _commands(sniffer, codec)  # everything on the wire before the failure
        assert before and before[-1].mode is InverterMode.GRID_FOLLOWING  # charging
        # The race: the wire fails, the next tick sends its charge command into the transmit
        # queue, and only then does the CAN controller's bus-off error frame arrive.
        set_bus_off(c.world.can_channels["inverter"], True)
        c.sup.tick()
        c.world.can_bus_off(BUS_OFF_S)
        per_tick: list[tuple[float, list[InverterCommand]]] = []
        c.sup.run(duration_s=BUS_OFF_S + 0.5,
                  on_tick=lambda s: per_tick.append((c.now, _commands(sniffer, codec))))
    finally:
        sniffer.shutdown()
    assert c.sup.inverter.bus.bus_offs == 1
    assert "INVERTER_COMM_LOST" in {t.function for t in c.sup.trip_log}
    after = [cmd for _, cmds in per_tick for cmd in cmds]
    assert after, "nothing was sent after the restart"
    # Nothing from before the bus-off: the charge command of the tick that raced it is gone.
    assert all(cmd.mode is InverterMode.OFF for cmd in after), after
    # No burst of queued frames at the restart (it was 11: a full transmit queue and the new
    # one): a tick puts at most two commands on the wire (a tripping tick: the trip path's
    # "off", then the outputs' command).
    assert max(len(cmds) for _, cmds in per_tick) <= MAX_COMMANDS_PER_TICK, [
        (round(t, 3), len(cmds)) for t, cmds in per_tick if len(cmds) > 1]
    # Nothing was handed to the link while it was bus-off: held back and counted instead.
    assert c.sup.inverter.counters["send_failures"] == 0
    assert c.sup.inverter.counters["held_bus_off"] >= round(BUS_OFF_S / TICK_S) - 1
    assert c.sup.inverter.counters["queue_not_dropped"] == 0


def test_a_link_says_whether_it_could_drop_its_transmit_queue() -> None:
    """python-can's plain virtual bus, like SocketCAN, cannot drop queued frames: the link says
    so (the inverter link counts it as ``queue_not_dropped``); the simulated wire can."""
    channel = f"v2x-test-{uuid.uuid4().hex[:8]}"
    plain = PythonCanLink(can.Bus(interface="virtual", channel=channel), "plain")
    sim = PythonCanLink(open_sim_bus(channel + "-sim"), "sim")
    try:
        assert plain.discard_queued() is False
        assert sim.discard_queued() is True
    finally:
        plain.close()
        sim.close()
    assert sim.discard_queued() is False  # closed
