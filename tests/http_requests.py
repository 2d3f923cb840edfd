"""Reading HTTP/1.1 requests in the tests' raw socket servers (hostile replies, keep-alive counting)."""

from __future__ import annotations

import socket


def read_request(conn: socket.socket, data: bytes = b"") -> tuple[bytes, bytes, bytes] | None:
    """One request from ``conn``: (head, body, what was read past it), or None when the client closed the
    connection first. ``data``: bytes already read from it (the rest of a keep-alive connection's last request)."""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head, rest[:length], rest[length:]
