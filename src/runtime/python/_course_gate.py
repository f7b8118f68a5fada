"""The gate of a Python worker: how the course watches the worker's data operations (sqlite3
statements here; data files, fcntl locks and dbm stores in _course_gate_files.py) and holds the
worker before a write or after any one, so that a check can force a race the same way every run (the same protocol as
a Node worker's gate: src/runtime/gate-protocol.ts and data-ops.ts).

The wrappers are installed in the host before the learner's module is imported (sqlite3.connect
makes connections whose cursors report each statement), so a connection opened at import is
watched too. With the gate off a wrapper costs one attribute read. Holding is synchronous: the
worker serves one request at a time on its main thread, which waits on a condition until the
worker's control thread (which reads the course's commands) lets it go on.
"""

import re
import sqlite3
import threading

# Statements that read, or control a transaction: everything else writes (as SQLite's own
# sqlite3_stmt_readonly sees it, which the Node side uses).
_NOT_WRITING = re.compile(r"\s*(?:select|begin|commit|end|rollback|savepoint|release|explain|pragma|values)\b", re.I)
_WITH_WRITE = re.compile(r"\b(?:insert|update|delete|replace)\b", re.I)
_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*", re.S)


def sql_operation(sql):
    text = _COMMENTS.sub("", str(sql), count=1)
    if re.match(r"\s*with\b", text, re.I):
        write = bool(_WITH_WRITE.search(text))
    else:
        write = not _NOT_WRITING.match(text)
    return {"kind": "sql", "sql": str(sql), "write": write}


def _safely(read):
    try:
        return bool(read())
    except Exception:
        return False


class Gate:
    """One worker's gate: its mode (0 off, 1 watch, 2 hold), the last operation let go on (after
    it), and the writes let begin."""

    def __init__(self):
        self.reset(None)

    def reset(self, send):
        """A fresh gate for a freshly forked worker; `send(report)` reaches the course."""
        self.mode = 0
        self.go_seq = 0
        self.go_before = set()
        self.seq = 0
        self.send = send
        self.cond = threading.Condition()

    # The control thread: the course's commands.
    def command(self, message):
        kind = message.get("t")
        with self.cond:
            if kind == "mode":
                self.mode = int(message.get("mode", 0))
                if self.mode != 2:
                    self.go_before.clear()
            elif kind == "go" and message.get("before"):
                self.go_before.add(int(message.get("seq", 0)))
            elif kind == "go":
                self.go_seq = max(self.go_seq, int(message.get("seq", 0)))
            self.cond.notify_all()
        if kind == "mode":
            self._report({"t": "mode-set", "id": message.get("id"), "mode": self.mode})

    # The main thread: one data operation.
    def around(self, operation, run, in_transaction):
        if self.mode == 0 or self.send is None:
            return run()
        op = operation()
        with self.cond:  # threaded workers: one number per operation
            self.seq += 1
            n = self.seq
        if self.mode == 2 and op.get("write"):
            # In hold mode a write waits until the course lets it begin (as a Node worker's
            # does): a worker can be held with all it read read and nothing yet written, or
            # between looking that a lock file is missing and making it.
            self._report({"t": "entered", "seq": n, "op": op, "ask": True, "inTransaction": _safely(in_transaction)})
            with self.cond:
                while n not in self.go_before and self.mode == 2:
                    self.cond.wait()
                self.go_before.discard(n)
        else:
            self._report({"t": "entered", "seq": n, "op": op})
        try:
            result = run()
        except BaseException:
            self._report({"t": "finished", "seq": n, "op": op, "ask": False, "failed": True, "inTransaction": _safely(in_transaction)})
            raise
        ask = self.mode == 2
        self._report({"t": "finished", "seq": n, "op": op, "ask": ask, "failed": False, "inTransaction": _safely(in_transaction)})
        if ask:
            with self.cond:
                while self.go_seq < n and self.mode == 2:
                    self.cond.wait()
        return result

    def probe(self, name, found):
        """The app looked whether a data file is there (os.stat, os.path.exists, os.access): reported, never held."""
        if self.mode != 0 and self.send is not None:
            self._report({"t": "probed", "file": name, "found": bool(found)})

    def _report(self, report):
        send = self.send
        if send is not None:
            send(report)


GATE = Gate()


class _GatedCursorMixin:
    def execute(self, sql, parameters=(), /):
        real = super().execute
        return GATE.around(lambda: sql_operation(sql), lambda: real(sql, parameters), lambda: self.connection.in_transaction)

    def executemany(self, sql, seq_of_parameters, /):
        real = super().executemany
        return GATE.around(lambda: sql_operation(sql), lambda: real(sql, seq_of_parameters), lambda: self.connection.in_transaction)

    def executescript(self, script, /):
        real = super().executescript
        return GATE.around(lambda: sql_operation(script), lambda: real(script), lambda: self.connection.in_transaction)


class GatedCursor(_GatedCursorMixin, sqlite3.Cursor):
    pass


_cursor_classes = {sqlite3.Cursor: GatedCursor}


def _gated(factory, mixin, cache):
    if factory not in cache:
        cache[factory] = type(f"Gated{factory.__name__}", (mixin, factory), {})
    return cache[factory]


class _GatedConnectionMixin:
    def cursor(self, factory=None):
        factory = sqlite3.Cursor if factory is None else factory
        if isinstance(factory, type) and issubclass(factory, sqlite3.Cursor) and not issubclass(factory, _GatedCursorMixin):
            factory = _gated(factory, _GatedCursorMixin, _cursor_classes)
        return super().cursor(factory)

    # Connection.execute and friends make a plain cursor inside C: go through ours instead.
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, script, /):
        return self.cursor().executescript(script)

    def commit(self):
        real = super().commit
        if not _safely(lambda: self.in_transaction):
            return real()
        return GATE.around(lambda: sql_operation("COMMIT"), real, lambda: self.in_transaction)

    def rollback(self):
        real = super().rollback
        if not _safely(lambda: self.in_transaction):
            return real()
        return GATE.around(lambda: sql_operation("ROLLBACK"), real, lambda: self.in_transaction)


_connection_classes = {}

def install():
    """Make sqlite3.connect (and sqlite3.dbapi2.connect) return watched connections, and open(),
    os.open, os.stat, os.access, fcntl's locks and dbm (shelve's store) watch data files while
    the gate is on."""
    import _course_gate_files  # the file half, which needs GATE from here

    _course_gate_files.install()
    real_connect = sqlite3.connect
    if getattr(real_connect, "_course_gate", False):
        return

    def connect(*args, **kwargs):
        args = list(args)
        factory = args[5] if len(args) > 5 else kwargs.get("factory", sqlite3.Connection)
        if isinstance(factory, type) and issubclass(factory, sqlite3.Connection) and not issubclass(factory, _GatedConnectionMixin):
            factory = _gated(factory, _GatedConnectionMixin, _connection_classes)
        if len(args) > 5:
            args[5] = factory
        else:
            kwargs["factory"] = factory
        return real_connect(*args, **kwargs)

    connect._course_gate = True
    connect.__doc__ = real_connect.__doc__
    sqlite3.connect = connect
    try:
        import sqlite3.dbapi2 as dbapi2

        dbapi2.connect = connect
    except ImportError:
        pass
