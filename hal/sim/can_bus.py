"""The simulator's CAN wire: python-can's virtual bus, with a cheaper copy of each frame.

``can.interfaces.virtual.VirtualBus.send`` hands every listener its own copy of the frame made
with ``copy.deepcopy``, which for a ``bytearray`` payload goes through the generic reduce
protocol: at a simulated day of frames it is the largest single cost of the simulator. This
subclass sends exactly what the virtual bus sends (a new :class:`can.Message` per listener with
the sender's fields, the channel id, ``is_rx`` and the timestamp) but builds the copy directly.
Its receive queue is a plain deque (:class:`FrameQueue`) instead of a ``queue.Queue``: every
end of the simulated wire is read without blocking (``recv(timeout=0)``: in virtual time there
is nothing to wait for), so the queue needs no condition variables. The channel registry and
``recv`` are python-can's own, so the production :class:`hal.can_link.PythonCanLink` runs
unchanged on it.

Bus-off (:func:`set_bus_off`): while a channel's wire is bus-off, every node's frames wait in its
own transmit queue (the CAN controller's and the kernel's, at most :data:`TX_QUEUE_LEN` frames,
then ``send`` fails as SocketCAN's ENOBUFS does), in order; when the bus comes back they all go
out at once, as a SocketCAN node sends its queue after the restart. ``flush_tx_buffer`` (the
python-can hook) drops them. Error frames are the node's own controller reporting, never queued.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from typing import Any, Final

import can
from can.interfaces.virtual import VirtualBus, channels_lock

TX_QUEUE_LEN: Final = 10  # SocketCAN's default txqueuelen for CAN devices

_DOWN: set[str] = set()  # channels whose wire is bus-off
_NODES: dict[str, list[SimVirtualBus]] = {}  # every open end of each channel


def set_bus_off(channel: str, down: bool) -> None:
    """The wire of ``channel`` goes bus-off (``down``) or comes back: then every node's queued
    frames go out, in the order they were sent."""
    if down:
        _DOWN.add(channel)
        return
    _DOWN.discard(channel)
    for node in list(_NODES.get(channel, ())):
        node.release_queued()


class FrameQueue:
    """The part of ``queue.Queue`` the virtual bus uses, without blocking: ``put`` raises
    ``queue.Full`` at ``maxsize`` (0 = unbounded), ``get`` raises ``queue.Empty`` at once."""

    def __init__(self, maxsize: int = 0) -> None:
        self._frames: deque[can.Message] = deque()
        self._maxsize = maxsize

    def put(self, item: can.Message, block: bool = True, timeout: float | None = None) -> None:
        if not self.offer(item):
            raise queue.Full

    def offer(self, item: can.Message) -> bool:
        """``put`` without the exception: False (and ``item`` dropped) at ``maxsize``."""
        if self._maxsize and len(self._frames) >= self._maxsize:
            return False
        self._frames.append(item)  # deque.append/popleft are atomic in CPython
        return True

    def get(self, block: bool = True, timeout: float | None = None) -> can.Message:
        try:
            return self._frames.popleft()
        except IndexError:
            raise queue.Empty from None

    def take(self) -> can.Message | None:
        """The oldest frame, or None when empty (no exception: a drain ends on an empty
        queue every time, and raising costs more than the rest of the read)."""
        return self._frames.popleft() if self._frames else None


class SimVirtualBus(VirtualBus):
    """A python-can virtual bus on ``channel`` (every bus on the same channel hears it)."""

    def __init__(self, channel: str, rx_queue_size: int = 0, **kwargs: Any) -> None:
        super().__init__(channel=channel, rx_queue_size=rx_queue_size, **kwargs)
        with channels_lock:  # swap our registered queue for the non-blocking one
            index = next(i for i, q in enumerate(self.channel) if q is self.queue)
            self._frames = FrameQueue(rx_queue_size)
            self.queue = self._frames  # type: ignore[assignment]
            self.channel[index] = self.queue
        self._tx_queued: deque[can.Message] = deque()
        _NODES.setdefault(channel, []).append(self)

    def flush_tx_buffer(self) -> None:
        """Drop every frame still waiting in this node's transmit queue (python-can's hook)."""
        self._tx_queued.clear()

    def release_queued(self) -> None:
        """The bus is back: send what waited, in order."""
        while self._tx_queued and not self._is_shutdown:
            self._deliver(self._tx_queued.popleft(), None)

    def shutdown(self) -> None:
        nodes = _NODES.get(str(self.channel_id), [])
        if self in nodes:
            nodes.remove(self)
        super().shutdown()

    def recv(self, timeout: float | None = None) -> can.Message | None:
        """python-can's ``recv`` without its per-call timing and logging: every end of the
        simulated wire is read with ``timeout=0`` (the queue never blocks); with filters set,
        python-can's own ``recv`` runs."""
        if self._filters is not None:
            return super().recv(timeout)
        if not self._open:
            self._check_if_open()  # raises, as python-can's own check
        return self._frames.take()

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        self._check_if_open()
        try:
            msg = self.queue.get(block=True, timeout=timeout)
        except queue.Empty:
            return None, False
        # With no filters set, python-can's filter check passes every frame: skip it.
        return msg, self._filters is None

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        if not self._open:
            self._check_if_open()  # raises, as python-can's own check
        if self.channel_id in _DOWN and not msg.is_error_frame:
            if len(self._tx_queued) >= TX_QUEUE_LEN:
                raise can.CanOperationError("No buffer space available (bus-off, queue full)")
            self._tx_queued.append(msg)
            return
        self._deliver(msg, timeout)

    def _deliver(self, msg: can.Message, timeout: float | None) -> None:
        timestamp = msg.timestamp if self.preserve_timestamps else time.time()
        all_sent = True
        queues: list[Any] = self.channel  # FrameQueues, or python-can's Queues (a plain bus)
        for bus_queue in queues:
            if bus_queue is self.queue and not self.receive_own_messages:
                continue
            copy = _copy_frame(msg, timestamp, self.channel_id, bus_queue is not self.queue)
            if type(bus_queue) is FrameQueue:  # every end of the simulated wire: no exception
                all_sent = bus_queue.offer(copy) and all_sent
                continue
            try:
                bus_queue.put(copy, block=True, timeout=timeout)
            except queue.Full:
                all_sent = False
        if not all_sent:
            raise can.CanOperationError("Could not send message to one or more recipients")


# can.Message's fields (its __slots__ but the weak reference): _copy_frame fills each of them.
_MESSAGE_FIELDS: Final = frozenset({
    "timestamp", "arbitration_id", "is_extended_id", "is_remote_frame", "is_error_frame",
    "channel", "dlc", "data", "is_fd", "is_rx", "bitrate_switch", "error_state_indicator"})
_FIELDS_KNOWN: Final = set(can.Message.__slots__) - {"__weakref__"} == _MESSAGE_FIELDS
_new_message = can.Message.__new__


def _copy_frame(msg: can.Message, timestamp: float, channel: Any, is_rx: bool) -> can.Message:
    """A receiver's copy of ``msg`` as the virtual bus makes it (its own data, the channel,
    ``is_rx``, the timestamp). ``can.Message.__init__`` re-derives what a sent frame already
    holds (the DLC from the data, the checks it skips by default) at twice the cost, so the
    copy's fields are set directly, each of them; should python-can's Message gain a field
    (``_FIELDS_KNOWN`` false), the constructor is used instead."""
    if not _FIELDS_KNOWN:  # positional, in can.Message's parameter order
        return can.Message(
            timestamp, msg.arbitration_id, msg.is_extended_id, msg.is_remote_frame,
            msg.is_error_frame, channel, msg.dlc, bytearray(msg.data), msg.is_fd, is_rx,
            msg.bitrate_switch, msg.error_state_indicator)
    copy = _new_message(can.Message)
    copy.timestamp = timestamp
    copy.arbitration_id = msg.arbitration_id
    copy.is_extended_id = msg.is_extended_id
    copy.is_remote_frame = msg.is_remote_frame
    copy.is_error_frame = msg.is_error_frame
    copy.channel = channel
    copy.dlc = msg.dlc
    copy.data = bytearray(msg.data)
    copy.is_fd = msg.is_fd
    copy.is_rx = is_rx
    copy.bitrate_switch = msg.bitrate_switch
    copy.error_state_indicator = msg.error_state_indicator
    return copy


def data_frame(arbitration_id: int, data: bytes) -> can.Message:
    """``can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=False)``: the
    frame a simulated sender (the inverter's status, the car's frames) puts on the wire, built
    as :func:`_copy_frame` builds a copy, each field set directly to what the constructor sets
    (its defaults; the data as a new ``bytearray``, the DLC its length), at half the
    constructor's cost; the constructor itself should python-can's Message gain a field."""
    if not _FIELDS_KNOWN:
        return can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=False)
    frame = _new_message(can.Message)
    frame.timestamp = 0.0
    frame.arbitration_id = arbitration_id
    frame.is_extended_id = False
    frame.is_remote_frame = False
    frame.is_error_frame = False
    frame.channel = None
    frame.is_fd = False
    frame.is_rx = True
    frame.bitrate_switch = False
    frame.error_state_indicator = False
    frame.data = bytearray(data)
    frame.dlc = len(frame.data)
    return frame


def open_sim_bus(channel: str, **options: Any) -> SimVirtualBus:
    """One end of the simulated wire ``channel``."""
    return SimVirtualBus(channel=channel, **options)
