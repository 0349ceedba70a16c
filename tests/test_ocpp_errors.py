"""Malformed and unknown messages get the right CallError and change nothing (OCPP-J 4.2.3)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.ocpp_rig import rig

CASES = [
    # (raw frame, the error code, the message id the answer must carry)
    ('[2, "a1", "Reset", {"type": "Whenever"}]', "PropertyConstraintViolation", "a1"),
    ('[2, "a2", "Reset", {}]', "OccurrenceConstraintViolation", "a2"),
    ('[2, "a3", "Reset", {"type": 5}]', "TypeConstraintViolation", "a3"),
    ('[2, "a4", "Reset", {"type": "Immediate", "colour": "red"}]', "FormatViolation", "a4"),
    ('[2, "a5", "FlyToTheMoon", {}]', "NotSupported", "a5"),
    ('[2, "a6", "UpdateFirmware", {"requestId": 1, "firmware": {"location": "x", '
     '"retrieveDateTime": "2026-12-03T12:00:00Z"}}]', "NotImplemented", "a6"),
    ('[2, "a7", "SetChargingProfile", {"evseId": 1, "chargingProfile": {"id": 1, '
     '"stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", '
     '"chargingProfileKind": "Relative", "chargingSchedule": [{"id": 1, '
     '"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, '
     '"limit": NaN}]}]}}]', "SetChargingProfile:Rejected", "a7"),
    ('[7, "a8", "Reset", {}]', "MessageTypeNotSupported", "a8"),
    ("this is not json", "RpcFrameworkError", "-1"),
    ('{"not": "a list"}', "RpcFrameworkError", "-1"),
    ("[2]", "RpcFrameworkError", "-1"),
]


@pytest.mark.parametrize(("frame", "code", "message_id"), CASES,
                         ids=[c[1] + "-" + c[2] for c in CASES])
def test_a_bad_message_gets_the_right_callerror_and_changes_nothing(
        tmp_path: Path, frame: str, code: str, message_id: str) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.advance(2)
            claims_before = dict(r.charger.sup.arbiter.claims)
            answer = await r.csms.send_raw(frame)
            assert answer[1] == message_id
            if code.startswith("SetChargingProfile:"):
                # schema-valid JSON with a NaN limit: a CallResult that rejects, with the reason
                assert answer[0] == 3 and answer[2]["status"] == "Rejected"
                assert "finite" in answer[2]["statusInfo"]["additionalInfo"]
            else:
                assert answer[0] == 4, answer
                assert answer[2] == code, answer
                assert isinstance(answer[4], dict)
            assert not r.station.profiles.profiles
            assert dict(r.charger.sup.arbiter.claims) == claims_before
            assert r.station.link.connects == 1, "the connection survives"
            # and the station still answers a good request
            reply = await r.csms.call("GetLocalListVersion")
            assert reply.version_number == 0
            assert json.dumps(answer)

    asyncio.run(main())
