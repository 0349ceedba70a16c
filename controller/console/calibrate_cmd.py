"""``calibrate``: the measurement calibration procedure (controller/measurement/calibration.py).

A technician reads a reference instrument and types its value; the console pairs it with what
the controller measured at that tick (raw, uncorrected) as one reference point. One point gives
a gain, two give gain and offset. ``save`` computes, validates (refusing implausible results) and
stores the calibration with the instrument's name and the date; ``clear`` withdraws it. Points
live in the session until saved or discarded.

    calibrate list
    calibrate CHANNEL REFERENCE          record a point (e.g. calibrate meter.voltage 240.3)
    calibrate CHANNEL save INSTRUMENT... compute, validate, store
    calibrate CHANNEL clear              withdraw the stored calibration
    calibrate CHANNEL discard            forget this session's points
"""

from __future__ import annotations

from datetime import UTC, datetime

from controller.console.context import CommandContext, Reply, ok, refuse
from controller.console.numbers import parse_number
from controller.measurement.calibration import (
    MAX_POINTS,
    CalibrationRefused,
    ReferencePoint,
    calibrate,
    check_channel,
)

MAX_REFERENCE = 1e6  # no channel reads a million of its unit (V, A, W, var, degC)
USAGE = ("usage: calibrate list | calibrate CHANNEL REFERENCE | calibrate CHANNEL save "
         "INSTRUMENT... | calibrate CHANNEL clear | calibrate CHANNEL discard")


def handle(ctx: CommandContext, args: list[str]) -> Reply:
    if not args:
        return refuse(USAGE)
    if args[0].lower() == "list":
        return _list(ctx)
    channel, rest = args[0], args[1:]
    try:
        check_channel(channel, ctx.bridge.analog_names())
    except CalibrationRefused as err:
        return refuse(f"refused: {err}")
    if not rest:
        return refuse(USAGE)
    action = rest[0].lower()
    if action == "save":
        return _save(ctx, channel, " ".join(rest[1:]))
    if action == "clear":
        date = datetime.fromtimestamp(ctx.bridge.wall_time(), tz=UTC).isoformat()
        ctx.bridge.calibrations().clear(channel, date)
        ctx.bridge.reload_calibration()
        return ok(f"{channel}: calibration withdrawn; it reads uncorrected from the next tick",
                  channel=channel)
    if action == "discard":
        ctx.session.cal_points.pop(channel, None)
        return ok(f"{channel}: points discarded", channel=channel)
    if len(rest) != 1:
        return refuse(USAGE)
    return _point(ctx, channel, rest[0])


def _point(ctx: CommandContext, channel: str, text: str) -> Reply:
    reference = parse_number(text, f"calibrate {channel}", -MAX_REFERENCE, MAX_REFERENCE)
    if isinstance(reference, str):
        return refuse(reference.replace(": must", ": REFERENCE must")
                      + " (what the reference instrument reads now)")
    measured = ctx.bridge.measured_raw(channel)
    if isinstance(measured, str):
        return refuse(f"refused: {measured}")
    points = ctx.session.cal_points.setdefault(channel, [])
    if len(points) >= MAX_POINTS:
        return refuse(f"refused: {channel} has {MAX_POINTS} points already; `calibrate "
                      f"{channel} save INSTRUMENT` or `calibrate {channel} discard`")
    points.append(ReferencePoint(reference, measured))
    return ok(f"{channel}: point {len(points)}: reference {reference:g}, measured (raw) "
              f"{measured:.6g}", channel=channel, reference=reference, measured=measured,
              points=len(points))


def _save(ctx: CommandContext, channel: str, instrument: str) -> Reply:
    points = ctx.session.cal_points.get(channel, [])
    if not points:
        return refuse(f"refused: no points for {channel}: `calibrate {channel} REFERENCE` first")
    date = datetime.fromtimestamp(ctx.bridge.wall_time(), tz=UTC)
    try:
        cal = calibrate(channel, points, instrument, date, ctx.bridge.analog_names())
    except CalibrationRefused as err:
        return refuse(f"refused, nothing stored: {err}")
    ctx.bridge.calibrations().save(cal)
    ctx.bridge.reload_calibration()
    ctx.session.cal_points.pop(channel, None)
    return ok(f"{channel}: gain {cal.gain:.6f}, offset {cal.offset:.6g} stored against "
              f"{cal.reference}; in force from the next tick and after every restart",
              channel=channel, gain=cal.gain, offset=cal.offset, date=cal.date)


def _list(ctx: CommandContext) -> Reply:
    loaded = ctx.bridge.calibrations().load()
    rows = [{"channel": c.channel, "gain": c.gain, "offset": c.offset,
             "reference": c.reference, "date": c.date}
            for c in loaded.calibrations.channels.values()]
    lines = [f"{r['channel']:<22} gain {r['gain']:.6f} offset {r['offset']:.6g} "
             f"({r['reference']}, {r['date']})" for r in rows] or ["no stored calibrations"]
    lines += [f"refused at load: {why}" for why in loaded.refused]
    pending = {ch: len(p) for ch, p in ctx.session.cal_points.items() if p}
    if pending:
        lines.append("points in this session: " + ", ".join(f"{c} ({n})"
                                                          for c, n in pending.items()))
    return ok("\r\n".join(lines), calibrations=rows, refused=loaded.refused, pending=pending)
