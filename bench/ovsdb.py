"""A minimal OVSDB JSON-RPC client (RFC 7047) for the benchmark's floor probes.

Only what the floor measurement needs: connect to a unix: remote, transact,
plain "monitor" of a few columns, and a bounded wait for a predicate over the
monitored rows, with the arrival time of every update.  Python stdlib only.
Every wait takes a deadline (time.monotonic() seconds); none blocks forever.
"""

import json
import os
import select
import socket
import time


class OvsdbError(Exception):
    pass


def remote_path(remote):
    """'unix:/path' -> '/path' (the sandbox uses unix sockets only)."""
    if not remote.startswith("unix:"):
        raise OvsdbError(f"only unix: remotes are supported here, not {remote!r}")
    return remote[len("unix:"):]


def ovs_map(d):
    return ["map", [[k, v] for k, v in d.items()]]


def map_get(v, key):
    """Reads key from an OVSDB map value ["map", [[k, v], ...]]."""
    if isinstance(v, list) and len(v) == 2 and v[0] == "map":
        for k, val in v[1]:
            if k == key:
                return val
    return None


def set_values(v):
    """An OVSDB set (or a bare atom) as a Python list."""
    if isinstance(v, list) and len(v) == 2 and v[0] == "set":
        return v[1]
    return [v]


class Client:
    def __init__(self, remote, timeout=10.0):
        self.remote = remote
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(remote_path(remote))
        self.sock.setblocking(False)
        self.buf = b""
        self.dec = json.JSONDecoder()
        self.next_id = 1
        self.replies = {}
        # monitor id -> {table: {uuid: row}}
        self.tables = {}
        # name -> [monitor id key, table, pred, arrival ns or None, row]
        self.watches = {}

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def fileno(self):
        return self.sock.fileno()

    # ---------------------------------------------------------------- wire

    def _send(self, msg):
        data = json.dumps(msg, separators=(",", ":")).encode()
        view = memoryview(data)
        deadline = time.monotonic() + 10
        while view:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OvsdbError(f"{self.remote}: send timed out")
                select.select([], [self.sock], [], 0.1)

    def pump(self, timeout):
        """Reads whatever arrives within 'timeout' seconds (at least one
        select), dispatches it; returns True if anything was read."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                raise OvsdbError(f"{self.remote}: connection closed")
            self.buf += chunk
            if len(chunk) < (1 << 20):
                break
        # Timed once the bytes are in hand: if this process was descheduled
        # between select() and recv(), a message that arrived meanwhile is
        # not dated before it existed.
        now = time.monotonic_ns()
        self._dispatch(now)
        return True

    def _dispatch(self, now):
        text = self.buf.decode("utf-8", errors="strict") if self.buf else ""
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos >= len(text):
                break
            try:
                msg, end = self.dec.raw_decode(text, pos)
            except json.JSONDecodeError:
                break  # incomplete: wait for more
            pos = end
            self._handle(msg, now)
        self.buf = text[pos:].encode()

    def _handle(self, msg, now):
        method = msg.get("method")
        if method == "echo":
            self._send({"id": msg.get("id"), "result": msg.get("params"), "error": None})
        elif method == "update":
            mid, updates = msg["params"]
            self._apply(mid, updates, now)
        elif method is None and "id" in msg:
            self.replies[msg["id"]] = (msg, now)

    def _apply(self, mid, updates, now):
        key = json.dumps(mid)
        tables = self.tables.setdefault(key, {})
        for table, rows in updates.items():
            t = tables.setdefault(table, {})
            for uuid, ch in rows.items():
                new = ch.get("new")
                if new is None:
                    t.pop(uuid, None)
                    continue
                t[uuid] = new
                for w in self.watches.values():
                    if w[3] is None and w[0] == key and w[1] == table and w[2](new):
                        w[3] = now
                        w[4] = new

    def _start(self, method, params):
        """Sends a request without waiting; returns its id."""
        rid = self.next_id
        self.next_id += 1
        self._send({"id": rid, "method": method, "params": params})
        return rid

    def _finish(self, rid, method, deadline):
        """Waits for the reply to request 'rid'; returns (result, arrival ns)."""
        while rid not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OvsdbError(f"{self.remote}: no reply to {method} {rid} in time")
            self.pump(left)
        msg, t = self.replies.pop(rid)
        if msg.get("error") is not None:
            raise OvsdbError(f"{self.remote}: {method}: {msg['error']}")
        return msg["result"], t

    def request(self, method, params, deadline):
        """Sends a request, waits for its reply; returns (result, arrival ns)."""
        return self._finish(self._start(method, params), method, deadline)

    # ---------------------------------------------------------------- API

    def send_transact(self, db, ops):
        """Sends a transaction without waiting; returns its id (for
        wait_reply) so that the caller can time from just before the send."""
        return self._start("transact", [db] + ops)

    def wait_reply(self, rid, deadline):
        res, t = self._finish(rid, "transact", deadline)
        for r in res:
            if isinstance(r, dict) and r.get("error"):
                raise OvsdbError(f"{self.remote}: transact: {r}")
        return res, t

    def transact(self, db, ops, deadline):
        rid = self.send_transact(db, ops)
        return self.wait_reply(rid, deadline)

    def monitor(self, db, mid, table_columns, deadline):
        """Plain monitor: {table: [columns]}; initial rows are loaded."""
        reqs = {t: {"columns": cols} for t, cols in table_columns.items()}
        result, t = self.request("monitor", [db, mid, reqs], deadline)
        self._apply(mid, result, t)

    def rows(self, mid, table):
        return self.tables.get(json.dumps(mid), {}).get(table, {})

    def find(self, mid, table, pred):
        for uuid, row in self.rows(mid, table).items():
            if pred(row):
                return uuid, row
        return None, None

    def watch(self, name, mid, table, pred):
        """From now on, records the arrival time (monotonic ns) of the first
        update that makes a row of 'table' satisfy pred (also true at once
        when a row already does)."""
        w = [json.dumps(mid), table, pred, None, None]
        uuid, row = self.find(mid, table, pred)
        if uuid is not None:
            w[3], w[4] = time.monotonic_ns(), row
        self.watches[name] = w

    def watch_done(self, name):
        return self.watches[name][3] is not None

    def wait_watch(self, name, deadline):
        """Waits for watch 'name'; returns (arrival ns, row) and drops it."""
        w = self.watches[name]
        while w[3] is None:
            left = deadline - time.monotonic()
            if left <= 0:
                del self.watches[name]
                raise OvsdbError(f"{self.remote}: timed out waiting for {name}")
            self.pump(left)
        del self.watches[name]
        return w[3], w[4]


def pump_all(clients, timeout):
    """Reads from whichever of the clients has data within 'timeout'."""
    r, _, _ = select.select(clients, [], [], max(0.0, timeout))
    for c in r:
        c.pump(0)
    return bool(r)
