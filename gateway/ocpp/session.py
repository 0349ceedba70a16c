"""One websocket session: the ``ocpp`` library's ChargePoint with this station's handlers.

The library parses, routes and schema-validates every message in both directions (2.0.1 or 2.1,
whichever subprotocol the CSMS chose). This class adds what a station must answer that the
library does not: a message that is not valid OCPP-J gets an RpcFrameworkError (or
MessageTypeNotSupported) CallError with its message id, or "-1" when the id cannot be read,
an action without a handler gets NotImplemented (known to the version) or NotSupported, in
2.1 too (the library stays silent there), and a payload that breaks its schema gets the code
OCPP-J 2.0.1 section 4.3 names for the rule it broke. Nothing else changes on a bad message.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from ocpp.messages import Call, CallError, MessageType, get_validator, unpack
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21.enums import Action as Action21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201.enums import Action as Action201

from gateway.ocpp.handlers import Handlers

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from gateway.ocpp.station import Station

LOG = logging.getLogger("gateway.ocpp")
UNREADABLE_ID = "-1"
# OCPP-J 2.0.1 section 4.3: which schema rule a payload broke decides the error code (the
# library reports a missing field as ProtocolError and a bad enum value as FormatViolation).
ERROR_OF_RULE = {
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "enum": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "additionalProperties": "FormatViolation",
}


def schema_error(message: Call, version: str) -> tuple[str, str] | None:
    """(error code, cause) when the request breaks its schema, None when it is valid."""
    try:
        validator = get_validator(message.message_type_id, message.action, version)
    except (OSError, ValueError):
        return None  # no schema: the library answers NotImplemented
    for error in sorted(validator.iter_errors(message.payload), key=lambda e: e.path):
        return ERROR_OF_RULE.get(str(error.validator), "FormatViolation"), error.message[:200]
    return None


def _message_id(raw: str) -> str:
    """The message id of a message that did not unpack, or "-1"."""
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return UNREADABLE_ID
    if isinstance(data, list) and len(data) > 1 and isinstance(data[1], str) and data[1]:
        return data[1]
    return UNREADABLE_ID


class _Robust:
    """Mixed into the library's ChargePoint ahead of it (see the module doc)."""

    route_map: dict[str, Any]
    _ocpp_version: str

    async def route_message(self, raw_msg: str) -> None:
        try:
            msg = unpack(raw_msg)
        except Exception as err:
            code = "RpcFrameworkError"
            text = str(raw_msg)
            if "MessageTypeId" in str(getattr(err, "details", "")) and "isn't valid" in str(
                    getattr(err, "details", "")):
                code = "MessageTypeNotSupported"
            LOG.warning("unreadable message from the CSMS (%s): %.200s", code, text)
            error = CallError(_message_id(text), code, "message is not valid OCPP-J",
                              {"cause": str(getattr(err, "details", err))[:200]})
            await self._send(error.to_json())  # type: ignore[attr-defined]
            return
        if msg.message_type_id == MessageType.Call and msg.action not in self.route_map:
            known = Action21 if self._ocpp_version == "2.1" else Action201
            try:
                known(msg.action)
                code, text = "NotImplemented", f"{msg.action} is not implemented by this station"
            except ValueError:
                version = self._ocpp_version
                code, text = "NotSupported", f"{msg.action} is not an OCPP {version} action"
            assert isinstance(msg, Call)
            await self._send(  # type: ignore[attr-defined]
                CallError(msg.unique_id, code, text, {}).to_json())
            return
        if msg.message_type_id == MessageType.Call:
            assert isinstance(msg, Call)
            broken = schema_error(msg, self._ocpp_version)
            if broken is not None:
                code, cause = broken
                await self._send(  # type: ignore[attr-defined]
                    CallError(msg.unique_id, code, f"{msg.action}: {cause}",
                              {"cause": cause}).to_json())
                return
        await super().route_message(raw_msg)  # type: ignore[misc]


class Session201(_Robust, Handlers, ChargePoint201):  # type: ignore[misc]
    version_21 = False


class Session21(_Robust, Handlers, ChargePoint21):  # type: ignore[misc]
    version_21 = True


Session = Session201 | Session21


def make_session(subprotocol: str, station: Station, ws: ClientConnection) -> Session:
    """The session for the subprotocol the CSMS chose (2.0.1 when it named none)."""
    cls = Session21 if subprotocol == "ocpp2.1" else Session201
    session = cls(station.settings.station_id, ws,
                  response_timeout=station.settings.response_timeout_s)
    session.station = station
    return session

