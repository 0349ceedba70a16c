"""The simulator's mock pins keep a bounded history (issue 20 item 4).

gpiozero's ``MockPin`` appends every state change to a list forever; the watchdog pin toggles
every tick, so a simulated charger grew by ~100 bytes a tick (80 MB after 30 min of
``v2xctl run``). A :class:`PlantPin` keeps only its last ``HISTORY_LIMIT`` changes: enough for
every test that reads a history, flat over days.
"""

from __future__ import annotations

from hal.sim.plant_pins import HISTORY_LIMIT, plant_pin_factory


def test_a_toggling_output_keeps_only_its_last_changes() -> None:
    factory = plant_pin_factory()
    pin = factory.pin(22)
    pin.function = "output"
    for i in range(HISTORY_LIMIT * 5):
        pin.state = i % 2 == 0
    assert len(pin.states) <= HISTORY_LIMIT
    assert pin.states[-1].state is False  # the newest change is kept
    assert pin.states[-2].state is True
    factory.close()


def test_a_short_history_is_complete() -> None:
    factory = plant_pin_factory()
    pin = factory.pin(23)
    pin.function = "output"
    for high in (True, False, True):
        pin.state = high
    pin.assert_states([False, True, False, True])  # gpiozero's own check still works
    factory.close()
