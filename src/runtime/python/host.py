"""A preforking WSGI host for the course's Flask track (standard library only).

The course starts one of these per generation of workers (a start, or a reload). Like uWSGI
or gunicorn --preload, it imports the learner's app module ONCE (preload, the default), then
forks a worker for each request of the course; each worker serves one request at a time on
its own loopback port. In lazy mode each worker imports the app itself after the fork, as
gunicorn without --preload does. In the jobs role the forked child runs the lesson's jobs
module as a script (``python jobs.py``), serving nothing.

Talking to the course: commands arrive on standard input, one JSON object a line; events leave
on file descriptor 3, one JSON object a line. The learner's output goes to standard output and
standard error (the master's own) or, for a worker, through pipes the master reads and sends on
as events tagged with the worker's id.

Nothing outlives the course: the master ends its workers and exits when its standard input
closes; on Linux the kernel also kills it when the course dies (PR_SET_PDEATHSIG). Each worker
watches its master from a thread of its own (its command pipe reaches end of file when the
master is gone), so a worker stuck in the learner's code still goes; and PR_SET_PDEATHSIG too.
"""

import datetime as _datetime
import importlib
import json
import os
import selectors
import signal
import socketserver
import sys
import threading
import time as _time
import traceback
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

sys.dont_write_bytecode = True  # no __pycache__ in the learner's folder

EVENTS_FD = 3
LINE_CHARS = 2000
_real_monotonic = _time.monotonic
_real_sleep = _time.sleep

# --------------------------------------------------------------------------------------------
# Talking to the course and to the master


class Channel:
    """JSON lines written to one file descriptor, whole lines at a time."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message):
        data = (json.dumps(message) + "\n").encode()
        with self.lock:
            try:
                while data:
                    written = os.write(self.fd, data)
                    data = data[written:]
            except OSError:
                pass  # the course is gone: the death watch ends this process


def die_with_parent():
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except Exception:
        return False


# --------------------------------------------------------------------------------------------
# Problems with the learner's code, located in their file


def locate(exc, app_dir):
    if isinstance(exc, SyntaxError) and exc.filename:
        return {"file": os.path.abspath(exc.filename), "line": exc.lineno, "column": exc.offset}
    found = {}
    for frame in traceback.extract_tb(exc.__traceback__):
        name = os.path.abspath(frame.filename)
        if name.startswith(app_dir + os.sep) and "site-packages" not in name:
            found = {"file": name, "line": frame.lineno}
    return found


def problem(kind, exc, app_dir):
    if isinstance(exc, SyntaxError):
        message = f"{type(exc).__name__}: {exc.msg}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
    stack = "".join(line for line in frames if __file__ not in line)
    report = {"kind": kind, "message": message, "stack": stack}
    report.update({k: v for k, v in locate(exc, app_dir).items() if v is not None})
    return report


# --------------------------------------------------------------------------------------------
# A clock the course moves: time.time, datetime.now, time.sleep and threading.Timer follow it


class ManualClock:
    def __init__(self, start_ms):
        self.reset(start_ms)

    def reset(self, start_ms):
        self.now = start_ms / 1000.0
        self.cond = threading.Condition()
        self.sleepers = {}
        self.sleeping = set()
        self.awake = set()
        self.advancing = False

    def time(self):
        return self.now

    def sleep(self, seconds):
        me = threading.get_ident()
        token = object()
        with self.cond:
            due = self.now + max(0.0, float(seconds))
            self.sleepers[token] = due
            self.sleeping.add(me)
            self.awake.discard(me)
            self.cond.notify_all()
            while self.now < due:
                self.cond.wait()
            del self.sleepers[token]
            self.sleeping.discard(me)
            self.awake.add(me)
            self.cond.notify_all()

    def started(self, ident):
        """A thread started while time moves (a timer setting the next one) runs before time moves on."""
        with self.cond:
            if self.advancing and ident not in self.sleeping:
                self.awake.add(ident)

    def idle(self):
        """The calling thread has finished what the clock woke it for (a request served)."""
        with self.cond:
            self.awake.discard(threading.get_ident())
            self.cond.notify_all()

    def _settled(self):
        alive = {t.ident for t in threading.enumerate()}
        self.awake &= alive
        return not self.awake and not any(due <= self.now for due in self.sleepers.values())

    def advance(self, ms):
        """Move time forward, waking each sleeper at its time; return once they have run."""
        with self.cond:
            target = self.now + ms / 1000.0
            self.advancing = True
            while True:
                due = [d for d in self.sleepers.values() if d <= target]
                if not due:
                    break
                self.now = max(self.now, min(due))
                self.cond.notify_all()
                limit = _real_monotonic() + 2.0
                while not self._settled() and _real_monotonic() < limit:
                    self.cond.wait(0.005)
            self.now = target
            self.advancing = False

    def timers(self):
        with self.cond:
            return len(self.sleepers)


def install_clock(clock):
    start_mono = _real_monotonic()
    start_now = clock.now
    _time.time = clock.time
    _time.time_ns = lambda: int(clock.now * 1e9)
    _time.monotonic = lambda: start_mono + (clock.now - start_now)
    _time.monotonic_ns = lambda: int(_time.monotonic() * 1e9)
    _time.sleep = clock.sleep

    real_datetime = _datetime.datetime

    class datetime(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return cls.fromtimestamp(clock.now, tz)

        @classmethod
        def utcnow(cls):
            return cls.utcfromtimestamp(clock.now)

        @classmethod
        def today(cls):
            return cls.fromtimestamp(clock.now)

    class date(_datetime.date):
        @classmethod
        def today(cls):
            return cls.fromtimestamp(clock.now)

    _datetime.datetime = datetime
    _datetime.date = date

    class Timer(threading.Thread):
        def __init__(self, interval, function, args=None, kwargs=None):
            super().__init__(daemon=True)
            self.interval, self.function = interval, function
            self.args, self.kwargs = args or [], kwargs or {}
            self.finished = threading.Event()

        def cancel(self):
            self.finished.set()

        def run(self):
            clock.sleep(self.interval)
            if not self.finished.is_set():
                self.function(*self.args, **self.kwargs)
            self.finished.set()

    threading.Timer = Timer

    real_start = threading.Thread.start

    def start(self):
        real_start(self)
        clock.started(self.ident)

    threading.Thread.start = start


# --------------------------------------------------------------------------------------------
# Loading the learner's module


def prepare_flask():
    """Import Flask before the app (once, in the master) and make app.run() a no-op with a note."""
    try:
        import flask
    except ImportError:
        return

    def run(self, *args, **kwargs):
        print(
            "[course] app.run() was called at import. On this host the course serves the module's "
            "`app` on its own port, so that call was ignored: you can remove it.",
            file=sys.stderr,
            flush=True,
        )

    flask.Flask.run = run


def import_module(path):
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    return importlib.import_module(name)


def wsgi_app(module, path):
    """The module's WSGI app, or a problem saying what is missing."""
    name = os.path.basename(path)
    for attr in ("app", "application"):
        app = getattr(module, attr, None)
        if app is not None:
            if callable(app):
                return app, None
            return None, {
                "kind": "bad-export",
                "message": f"`{attr}` in {name} is {type(app).__name__}, not a WSGI app. Make it the Flask app: `app = Flask(__name__)`.",
                "file": path,
            }
    factory = getattr(module, "create_app", None)
    if callable(factory):
        return factory(), None
    return None, {
        "kind": "no-export",
        "message": f"{name} has no `app`. The host serves the module-level Flask app: `app = Flask(__name__)`.",
        "file": path,
    }


# --------------------------------------------------------------------------------------------
# A worker: one request at a time on its own loopback port


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass  # the course logs each request itself


class LoopbackServer(WSGIServer):
    def server_bind(self):
        # Skip HTTPServer's reverse DNS lookup of the address: it can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]
        self.setup_environ()


def worker_control(commands_fd, events, clock):
    """The worker's own thread: answers the course and ends the process when the master goes."""
    buffer = b""
    while True:
        try:
            chunk = os.read(commands_fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            os._exit(0)  # the master is gone: so is this worker
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line)
            kind = message.get("type")
            if kind == "ping":
                events.send({"type": "pong", "id": message["id"]})
            elif kind == "clock-advance":
                if clock:
                    clock.advance(message["ms"])
                events.send({"type": "clock-advanced", "id": message["id"], "now": _now_ms(clock)})
            elif kind == "clock-query":
                events.send(
                    {"type": "clock-state", "id": message["id"], "now": _now_ms(clock), "timers": clock.timers() if clock else None}
                )


def _now_ms(clock):
    return int((clock.now if clock else _time.time()) * 1000)


def run_worker(config, order, commands_fd, events, app):
    app_file = config["app"]
    app_dir = os.path.dirname(app_file)
    os.environ.update(order.get("env", {}))
    clock = config.get("_clock")
    if clock:
        clock.reset(order.get("clockStart", clock.now * 1000))
    threading.Thread(target=worker_control, args=(commands_fd, events, clock), daemon=True).start()

    if config["role"] == "jobs":
        import runpy

        events.send({"type": "ready", "port": 0, "pid": os.getpid()})
        try:
            runpy.run_path(app_file, run_name="__main__")
        except SystemExit as exit:
            os._exit(exit.code if isinstance(exit.code, int) else 0)
        except BaseException as exc:
            events.send({"type": "fatal", "problem": problem("crash", exc, app_dir)})
            sys.stderr.flush()
            os._exit(1)
        # A jobs module that returns has scheduled nothing more: stay, as a host's process does.
        threading.Event().wait()

    if app is None:  # lazy: this worker imports the app itself
        try:
            module = import_module(app_file)
            app, missing = wsgi_app(module, app_file)
        except BaseException as exc:
            events.send({"type": "fatal", "problem": problem("syntax" if isinstance(exc, SyntaxError) else "import", exc, app_dir)})
            sys.stderr.flush()
            os._exit(1)
        if missing:
            events.send({"type": "fatal", "problem": missing})
            os._exit(1)

    server = LoopbackServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(app)
    events.send({"type": "ready", "port": server.server_address[1], "pid": os.getpid()})
    try:
        while True:
            server.handle_request()
            sys.stdout.flush()
            sys.stderr.flush()
            if clock:
                clock.idle()
    except SystemExit as exit:
        events.send(
            {"type": "fatal", "problem": {"kind": "crash", "message": f"The app called sys.exit({exit.code!r}) while serving a request."}}
        )
        os._exit(1)
    except BaseException as exc:
        events.send({"type": "fatal", "problem": problem("crash", exc, app_dir)})
        os._exit(1)


# --------------------------------------------------------------------------------------------
# The master: loads once, forks, relays, reaps


class Child:
    def __init__(self, wid, pid, commands_w, fds):
        self.wid, self.pid, self.commands_w = wid, pid, commands_w
        self.fds = fds  # {fd: stream name}
        self.partial = {fd: b"" for fd in fds}
        self.kill_at = None


class Master:
    def __init__(self, config, events):
        self.config = config
        self.events = events
        self.app = None
        self.children = {}  # pid -> Child
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.stdin_partial = b""

    def load(self):
        """Import the app once, before any fork (preload); report a problem and exit if it fails."""
        if self.config["mode"] != "preload" or self.config["role"] != "web":
            return
        app_file = self.config["app"]
        try:
            module = import_module(app_file)
            self.app, missing = wsgi_app(module, app_file)
        except BaseException as exc:
            kind = "syntax" if isinstance(exc, SyntaxError) else "import"
            self.events.send({"type": "fatal", "problem": problem(kind, exc, os.path.dirname(app_file))})
            sys.stderr.flush()
            os._exit(1)
        if missing:
            self.events.send({"type": "fatal", "problem": missing})
            os._exit(1)

    def fork(self, order):
        wid = order["worker"]
        commands_r, commands_w = os.pipe()
        events_r, events_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                die_with_parent()
                if os.getppid() != self.master_pid:
                    os._exit(0)
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                keep = {0, 1, 2, commands_r, events_w}
                for fd in [EVENTS_FD, self.wake_r, self.wake_w, commands_w, events_r, out_r, out_w, err_r, err_w]:
                    if fd not in keep:
                        os.close(fd)
                for child in self.children.values():
                    os.close(child.commands_w)
                    for fd in child.fds:
                        os.close(fd)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.close(devnull)
                run_worker(self.config, order, commands_r, Channel(events_w), self.app)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        for fd in (commands_r, events_w, out_w, err_w):
            os.close(fd)
        child = Child(wid, pid, commands_w, {events_r: "events", out_r: "stdout", err_r: "stderr"})
        self.children[pid] = child
        for fd in child.fds:
            self.selector.register(fd, selectors.EVENT_READ, child)
        self.events.send({"type": "forked", "worker": wid, "pid": pid})

    def child_of(self, wid):
        for child in self.children.values():
            if child.wid == wid:
                return child
        return None

    def command(self, message):
        kind = message.get("type")
        if kind == "fork":
            self.fork(message)
        elif kind == "to-worker":
            child = self.child_of(message["worker"])
            if child:
                try:
                    os.write(child.commands_w, (json.dumps(message["message"]) + "\n").encode())
                except OSError:
                    pass
        elif kind == "stop-worker":
            child = self.child_of(message["worker"])
            if child:
                try:
                    os.kill(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                child.kill_at = _real_monotonic() + 1.0

    def relay(self, fd, child):
        try:
            chunk = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            chunk = b""
        stream = child.fds[fd]
        if not chunk:
            self.selector.unregister(fd)
            rest = child.partial[fd]
            if rest:
                self.line(child, stream, rest)
            child.partial[fd] = b""
            return False
        data = child.partial[fd] + chunk
        *lines, child.partial[fd] = data.split(b"\n")
        for line in lines:
            self.line(child, stream, line)
        if len(child.partial[fd]) > LINE_CHARS * 4:
            self.line(child, stream, child.partial[fd])
            child.partial[fd] = b""
        return True

    def line(self, child, stream, raw):
        if stream == "events":
            try:
                message = json.loads(raw)
            except ValueError:
                return
            message["worker"] = child.wid
            self.events.send(message)
            return
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if len(text) > LINE_CHARS:
            text = text[:LINE_CHARS] + "\u2026"
        self.events.send({"type": "output", "worker": child.wid, "stream": stream, "line": text})

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if not child:
                continue
            for fd in list(child.fds):
                try:
                    os.set_blocking(fd, False)
                    while fd in self.selector.get_map() and self.relay(fd, child):
                        pass
                except (KeyError, ValueError, OSError):
                    pass
                try:
                    self.selector.unregister(fd)
                except (KeyError, ValueError):
                    pass
                os.close(fd)
            os.close(child.commands_w)
            code = os.waitstatus_to_exitcode(status)
            signame = None
            if code < 0:
                try:
                    signame = signal.Signals(-code).name
                except ValueError:
                    signame = f"signal {-code}"
                code = None
            self.events.send({"type": "exit", "worker": child.wid, "pid": pid, "code": code, "signal": signame})

    def shutdown(self):
        for child in list(self.children.values()):
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(0)

    def loop(self):
        self.master_pid = os.getpid()
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        os.set_blocking(0, False)
        self.selector.register(0, selectors.EVENT_READ, "stdin")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.events.send({"type": "waiting", "pid": os.getpid()})
        while True:
            deadlines = [c.kill_at for c in self.children.values() if c.kill_at]
            timeout = max(0.0, min(deadlines) - _real_monotonic()) if deadlines else None
            for key, _ in self.selector.select(timeout):
                if key.data == "stdin":
                    self.read_commands()
                elif key.data == "wake":
                    try:
                        os.read(self.wake_r, 4096)
                    except OSError:
                        pass
                else:
                    self.relay(key.fd, key.data)
            self.reap()
            now = _real_monotonic()
            for child in self.children.values():
                if child.kill_at and now >= child.kill_at:
                    child.kill_at = None
                    try:
                        os.kill(child.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    def read_commands(self):
        try:
            chunk = os.read(0, 65536)
        except (BlockingIOError, InterruptedError):
            return
        if not chunk:
            self.shutdown()  # the course is gone, or done with this generation
        self.stdin_partial += chunk
        *lines, self.stdin_partial = self.stdin_partial.split(b"\n")
        for line in lines:
            if line.strip():
                self.command(json.loads(line))


def main():
    config = json.loads(sys.argv[1])
    die_with_parent()
    events = Channel(EVENTS_FD)
    os.chdir(config["cwd"])
    if config.get("clock") == "manual":
        clock = ManualClock(config.get("clockStart") or _time.time() * 1000)
        install_clock(clock)
        config["_clock"] = clock
    prepare_flask()
    master = Master(config, events)
    master.load()
    master.loop()


if __name__ == "__main__":
    main()
