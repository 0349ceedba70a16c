"""Inverter link cost per control cycle and the CAN bus load at the default cycle times.

Run with ``./dev bench``. Encode + decode cost are measured on the controller side with the real
codec (cantools, strict, E2E) against a raw-bytes baseline in the same run; bus load is computed
from the DBC cycle times with worst-case bit stuffing.
"""

from __future__ import annotations

import platform
import time

from hal.protocols.dbc_frames import load_database
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import INV_STATUS2_ID, INV_STATUS_ID
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterMode,
    InverterState,
    InverterStatus,
)

BITRATE = 500_000
N = 20_000
# Classic frame, 11-bit ID, 8 data bytes: 44 bits of overhead + 64 data bits, and up to
# (34 + 64 - 1) / 4 stuff bits in the stuffed region (SOF .. CRC).
FRAME_BITS_WORST = 44 + 64 + (34 + 64 - 1) // 4


def per_call_us(fn: object, n: int = N) -> float:
    call = fn  # type: ignore[assignment]
    start = time.perf_counter()
    for i in range(n):
        call(i)  # type: ignore[operator]
    return 1e6 * (time.perf_counter() - start) / n


def main() -> None:
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    codec = InverterCodec()
    status = InverterStatus(InverterState.GRID_FOLLOWING, 380.0, 25.3, 9600.0, 240.1, 60.0,
                            0.0, 41.0, 0, 0)
    frames = {fid: codec.encode_status_frame(fid, status, 3) for fid in (INV_STATUS_ID,
                                                                         INV_STATUS2_ID)}
    # The same status with each alive counter value: what a steady inverter sends.
    counted = [codec.encode_status_frame(INV_STATUS_ID, status, c) for c in range(16)]

    def encode_changing(i: int) -> None:  # a new setpoint every cycle: cantools runs
        codec.encode_command(InverterCommand(InverterMode.GRID_FOLLOWING, True, float(i % 9000),
                                             0.0, 100.0, 100.0), i & 0xF)

    def encode_steady(i: int) -> None:  # the same setpoint: only the counter and CRC change
        codec.encode_command(InverterCommand(InverterMode.GRID_FOLLOWING, True, 5000.0, 0.0,
                                             100.0, 100.0), i & 0xF)

    fresh = InverterCodec()

    def decode_changing(i: int) -> None:
        fresh.forget()  # force the full cantools decode and range checks
        fresh.decode_status(INV_STATUS_ID, frames[INV_STATUS_ID])

    first_sight = InverterCodec()

    def decode_new_counter(i: int) -> None:  # same values, bytes not seen before: the payload
        first_sight.forget(seen_frames_only=True)  # cache answers (no cantools), CRC checked
        first_sight.decode_status(INV_STATUS_ID, counted[i & 0xF])

    def decode_steady(i: int) -> None:  # a steady inverter after 16 frames: seen before
        codec.decode_status(INV_STATUS_ID, counted[i & 0xF])

    def baseline(i: int) -> None:  # the floor: building the 8 bytes by hand
        bytes([i & 0xF, 1, 0x88, 0x13, 0, 0, 100, 100])

    base = per_call_us(baseline)
    rows = [("encode command (new setpoint)", per_call_us(encode_changing)),
            ("encode command (same setpoint)", per_call_us(encode_steady)),
            ("decode status (new values)", per_call_us(decode_changing)),
            ("decode status (same values)", per_call_us(decode_new_counter)),
            ("decode status (seen before)", per_call_us(decode_steady))]
    print(f"{'baseline: 8 bytes by hand':>34}: {base:6.2f} us")
    for label, us in rows:
        print(f"{label:>34}: {us:6.2f} us ({us / base:5.0f}x baseline)")
    cycle_us = rows[0][1] + 2 * rows[2][1]  # one command out, ~2 status frames in per 20 ms
    print(f"{'per 20 ms cycle (worst case)':>34}: {cycle_us:6.1f} us = "
          f"{100 * cycle_us / 20_000:.2f} % of the cycle")
    db = load_database("inverter")
    per_second = 0.0
    for message in db.messages:
        if message.cycle_time:
            per_second += 1000.0 / message.cycle_time
    load = per_second * FRAME_BITS_WORST / BITRATE
    print(f"bus load at the DBC cycle times: {per_second:.0f} frames/s x {FRAME_BITS_WORST} bits "
          f"(worst-case stuffing) = {100 * load:.1f} % of {BITRATE // 1000} kbit/s "
          f"(target < 30 %)")


if __name__ == "__main__":
    main()
