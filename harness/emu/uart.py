"""An emulated board's UART as a TCP connection, read through pyserial's socket port.

Both emulators put the console UART on a socket: QEMU dials the harness, the harness dials Renode.
Either way the connection is made before the guest runs, and is adopted by pyserial as it is:
pyserial's own `socket://` open would flush input, and its close pauses for a reconnect.
"""
from __future__ import annotations

import socket

import serial
from serial.urlhandler.protocol_socket import Serial as SocketSerial


class UartClosed(Exception):
    """The emulator closed its end of the UART."""


class SocketUart(SocketSerial):  # type: ignore[misc]  # pyserial ships no type information
    """pyserial's socket port over a connection already made. Opening it keeps every byte already
    received, and closing it does not pause (pyserial's socket:// close sleeps 0.3 s)."""

    def __init__(self, connection: socket.socket, url: str):
        self.logger = None  # pyserial's socket port sets this while parsing a URL we never parse
        super().__init__()  # no port yet: nothing is opened
        self._connection = connection
        self.port = url
        self.open()

    def open(self) -> None:
        self._socket = self._connection
        self._socket.setblocking(False)
        self.is_open = True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None  # type: ignore[assignment]  # pyserial's own close does the same
        self.is_open = False

    def take(self, timeout: float) -> bytes:
        """Wait up to `timeout` for one byte, then take whatever else is ready without waiting
        (pyserial's read would otherwise wait out its timeout for a full buffer). b'' when nothing
        came; UartClosed once the other end has closed."""
        try:
            self.timeout = max(timeout, 0.001)
            data = self.read(1)
            if data:
                self.timeout = 0
                data += self.read(1 << 16)
            return bytes(data)
        except serial.SerialException as e:
            raise UartClosed(str(e)) from None
