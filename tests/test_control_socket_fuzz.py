"""10,000 random messages on the control socket: the controller neither crashes nor slows.

Three clients send a seeded mix of random bytes, overlong lines, framed requests with random
words, numbers (NaN, infinity, 1e400, negatives) and bad checksums, and well-formed claims and
releases, while the controller charges on the simulator. Judged on the controller's own
counters and clock and on the plant: every tick ran on time (the tick count over the virtual
time is exactly the tick rate, no overrun, no failing tick, no INTERNAL_ERROR), each line got
exactly one reply, the requests answered per tick stayed within the budget, and no safety
invariant broke.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from socket_client import RawClient, ask

from controller.console.framing import crc16, frame
from controller.control_socket.server import ControlSocketServer
from controller.modes.states import LATCHED
from hal.sim.invariants import InvariantChecker, InvariantSettings
from harness import Charger

MESSAGES = 10_000
CLIENTS = 3
PER_ROUND = 8  # lines each client sends per round
TICKS_PER_ROUND = 2  # the server answers LINES_PER_TICK per tick per client
SEED = 21
DOCUMENTED_LINES_PER_TICK = 4  # docs/gateway.md: requests answered per client per tick
WORDS = ["status", "faults", "log", "limits", "version", "whoami", "events", "on", "off",
         "claims", "claim", "release", "help", "schedule", "grid_operator", "technician",
         "user", "safety", "idle", "charge", "v2h", "v2g", "v2l", "-", "0", "1", "30", "60",
         "3500", "nan", "NaN", "inf", "-inf", "1e400", "-5", "1e-300", "99999999999999999999",
         "reset", "config", "set", "login", "1111", "service", ":", "*", "$", ":ABC", "0x10"]


def _message(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.2:  # raw bytes, anything but a line end
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))
        return b"#" + data.replace(b"\n", b"")
    if kind < 0.25:  # longer than max_line_bytes
        return b"$" + b"A" * rng.randrange(1100, 3000)
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 7)))
    if kind < 0.35:  # a checksum that does not match
        return f"${body}*{(crc16(body) + 1) % 0x10000:04X}".encode()
    if kind < 0.5:  # a claim or release that may well be valid
        who = rng.choice(["schedule", "grid_operator"])
        if rng.random() < 0.2:
            return frame(f"release {who}").encode()
        mode = rng.choice(["idle", "charge", "v2h", "-"])
        power = rng.choice(["-", "0", "2500", "7000", "nan", "-1"])
        body = f"claim {who} {mode} {power} {rng.choice(['0.5', '5', '30', '61', 'inf'])}"
    if rng.random() < 0.3:
        body += f" :{rng.randrange(10**8)}"
    return frame(body).encode()


def test_ten_thousand_random_messages_neither_crash_nor_slow_the_loop(
        make_charger: Callable[..., Charger]) -> None:
    directory = Path(tempfile.mkdtemp(prefix="v2x-fz-"))
    try:
        path = str(directory / "control.sock")
        charger = make_charger({"control_socket": {"path": path, "max_lease_s": 60.0}})
        cfg = charger.config
        checker = InvariantChecker(charger.world, InvariantSettings.for_world(
            charger.world, tick_s=cfg.control.tick_s,
            precharge_tolerance_v=cfg.sequence.precharge_tolerance_v,
            reserve_soc_pct=cfg.v2h.reserve_soc_pct,
            cable_max_current_a=cfg.limits.cable_max_current_a,
            inverter_max_dc_current_a=cfg.inverter.max_dc_current_a,
            backup_reserve_soc_pct=cfg.backup.reserve_soc_pct,
            insulation_test_s=cfg.sequence.insulation_test_s))
        server = ControlSocketServer(charger.sup)
        violations = []

        def on_tick(sup: object) -> None:
            server.on_tick()
            violations.extend(checker.check(charger.now, charger.sup.state in LATCHED,
                                            charger.sup.modes.export_permitted))

        charger.request("charge")
        charger.sup.run(duration_s=10.0, on_tick=on_tick)
        rng = random.Random(SEED)
        clients = [RawClient(path) for _ in range(CLIENTS)]
        sent = [0] * CLIENTS
        replies = [0] * CLIENTS
        start_t, start_ticks = charger.now, charger.sup.ticks
        total = 0
        while total < MESSAGES:
            for i, client in enumerate(clients):
                batch = [_message(rng) for _ in range(min(PER_ROUND, MESSAGES - total))]
                total += len(batch)
                sent[i] += len(batch)
                client.sock.setblocking(True)
                client.send(b"".join(line + b"\n" for line in batch))
                client.sock.setblocking(False)
            charger.sup.run(duration_s=TICKS_PER_ROUND * cfg.control.tick_s, on_tick=on_tick)
            for i, client in enumerate(clients):
                replies[i] += sum(1 for r in client.lines() if "event" not in r)
        for _ in range(100):  # let the last lines be answered
            charger.sup.run(duration_s=cfg.control.tick_s, on_tick=on_tick)
            for i, client in enumerate(clients):
                replies[i] += sum(1 for r in client.lines() if "event" not in r)
        elapsed = charger.now - start_t
        sup = charger.sup
        assert sum(sent) == MESSAGES
        assert replies == sent, "every line gets exactly one reply"
        assert not any(c.closed for c in clients)
        assert sup.ticks - start_ticks == round(elapsed / cfg.control.tick_s)  # on time
        assert sup.overruns == 0 and sup.healthy
        assert not {"INTERNAL_ERROR", "LOOP_OVERRUN"} & set(sup.faults.codes)
        assert server.busiest_tick <= DOCUMENTED_LINES_PER_TICK * CLIENTS
        assert not violations, violations[:3]
        # and the socket still answers a newcomer within a tick
        fresh = RawClient(path)
        assert ask(charger, server, fresh, "status")["ok"]
        server.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
