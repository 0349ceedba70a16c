"""``run_doctor``: every check in order, without energising anything.

It builds the backend as ``v2xctl run`` does (the built-in simulator when no config is given) but
never constructs the supervisor, never sends the inverter a command and never drives a coil:
contactors are constructed de-energised and only inputs are read. Whatever it opened is closed
again at the end. A check that crashes becomes a FAIL line; the run carries on.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.doctor import can_checks, config_check, gpio_checks, host_checks, i2c_checks
from controller.doctor.devices import Devices, from_hardware, unreachable
from controller.doctor.environment import environment_checks
from controller.doctor.report import Check, Emit, Report, failed, passed
from controller.store.retention import Retention, bounded_bytes
from hal.interfaces.hardware import Hardware
from hal.registry import open_backend
from hal.settings import HalSettings

Prepare = Callable[[Hardware], None]  # runs on the built hardware before any check
NAME_BACKEND = "backend"
REPORT_HINT = "this is a defect of the doctor or the simulator: report it with this output"


def run_doctor(config_path: str | None = None, *, prepare: Prepare | None = None,
               emit: Emit | None = None) -> Report:
    """Run every check; ``emit`` gets each result as soon as it is known.

    ``prepare(hardware)`` runs right after the backend is built and before any check (tests and
    ``--sim-fault`` plant simulator faults there); it is not called when the backend fails.
    """
    report = Report(emit)
    report.add(_guard("environment", environment_checks))
    loaded = config_check.load(config_path)
    report.add(loaded.check)
    if loaded.config is None:
        report.config_unusable = True
        return report
    config = loaded.config
    devices = _open(config.hal, report, prepare)
    try:
        report.add(_guard("gpio.claim", lambda: [gpio_checks.claim_check(devices)]))
        report.add(_guard("input", lambda: gpio_checks.input_checks(devices)))
        report.add(_guard("contactor", lambda: gpio_checks.contactor_checks(devices)))
        report.add(_guard("i2c", lambda: i2c_checks.i2c_checks(devices)))
        report.add(_guard("can", lambda: can_checks.interface_checks(devices)))
        report.add(_guard("inverter.answers", lambda: [can_checks.inverter_check(
            devices, config.protection.inverter_status_timeout_s)]))
        report.add(_guard("serial.ports", lambda: [host_checks.serial_check(
            config.hal.serial.ports, devices.simulated, devices.serial)]))
        report.add(_guard("state.dir", lambda: [host_checks.state_dir_check(
            config.store.path, bounded_bytes(Retention.from_settings(config.store)))]))
        report.add(_guard("watchdog", lambda: [host_checks.watchdog_check(devices.simulated)]))
    finally:
        devices.close()
    return report


def _guard(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    try:
        return run()
    except Exception as err:  # the doctor reports; it never dies halfway
        return [failed(name, f"the check itself failed: {type(err).__name__}: {err}",
                       REPORT_HINT)]


def _open(settings: HalSettings, report: Report, prepare: Prepare | None) -> Devices:
    """Build the backend; when that fails, fall back to each device on its own (Pi)."""
    try:
        hardware = open_backend(settings)
    except Exception as err:  # setup errors, and anything else the build threw
        if settings.backend == "pi":
            report.add(failed(
                NAME_BACKEND, f"pi backend did not build: {err}",
                "every device is checked on its own below: fix each FAIL there, first to "
                "last; if the controller service is running, stop it first (it holds the "
                "pins and buses)"))
            from controller.doctor.pi_devices import open_separately

            return open_separately(settings)
        report.add(failed(NAME_BACKEND, f"{settings.backend} backend did not build: {err}",
                          REPORT_HINT))
        return unreachable(settings, f"the {settings.backend} backend did not build")
    report.add(passed(NAME_BACKEND, hardware.description))
    if prepare is not None:
        _prepare(hardware, prepare)
    return from_hardware(hardware, settings)


def _prepare(hardware: Hardware, prepare: Prepare) -> None:
    try:
        prepare(hardware)
    except BaseException:
        hardware.close()
        raise
