"""A worker of the course's Python host: the learner's module loaded (or inherited from the
preloaded host), served one request at a time on its own loopback port, with a control thread
of its own that answers the course and ends the process when the host is gone."""

import _thread
import importlib
import json
import os
import socketserver
import sys
import threading
import time as _time
import traceback
from concurrent.futures import ThreadPoolExecutor
from wsgiref.simple_server import WSGIServer

from _course_gate import GATE
from _course_threads import DOOR, install_switches
from _course_wsgi import QuietHandler


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
    here = os.path.dirname(os.path.abspath(__file__))
    stack = "".join(line for line in frames if here not in line)
    report = {"kind": kind, "message": message, "stack": stack}
    report.update({k: v for k, v in locate(exc, app_dir).items() if v is not None})
    return report


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


class LoopbackServer(WSGIServer):
    def server_bind(self):
        # Skip HTTPServer's reverse DNS lookup of the address: it can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]
        self.setup_environ()


class ThreadedLoopbackServer(LoopbackServer):
    """gunicorn's gthread worker, in small: a fixed pool of threads, each serving a request."""

    threaded = True

    def __init__(self, address, handler, threads, clock):
        super().__init__(address, handler)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")
        self.clock = clock

    def process_request(self, request, client_address):
        self.pool.submit(self.serve_one, request, client_address)

    def serve_one(self, request, client_address):
        try:
            DOOR.enter()  # requests the course sends at the same moment come in together (_course_threads.py)
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            DOOR.leave()
            self.shutdown_request(request)
            sys.stdout.flush()
            sys.stderr.flush()
            if self.clock:
                self.clock.idle()


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
                # In a thread of its own: while the sleepers it wakes run (a job blocked on the
                # database, say), this loop goes on answering the course's clock queries.
                # (A bare thread: the clock counts the threads the app starts, not this one.)
                _thread.start_new_thread(_advance, (clock, message, events))
            elif kind == "gate":
                GATE.command(message.get("command") or {})
            elif kind == "clock-query":
                events.send(
                    {"type": "clock-state", "id": message["id"], "now": _now_ms(clock), "timers": clock.timers() if clock else None}
                )
            elif kind == "arrive-together":
                DOOR.hold(message.get("count", 0))
                events.send({"type": "arriving", "id": message["id"]})
            elif kind == "clock-hold":
                if clock:
                    clock.hold(message["at"] if message["hold"] else None)
                events.send({"type": "clock-held", "id": message["id"], "now": _now_ms(clock)})


_advancing = threading.Lock()


def _advance(clock, message, events):
    try:
        with _advancing:  # one move at a time
            if clock:
                clock.advance(message["ms"])
    finally:  # the course always hears back, whatever the sleepers did
        events.send({"type": "clock-advanced", "id": message["id"], "now": _now_ms(clock)})


def _now_ms(clock):
    return int((clock.time() if clock else _time.time()) * 1000)


def machine_name(name):
    """Each machine of the deployment has a name of its own, as each container or server has."""
    import platform
    import socket

    real_uname = os.uname
    socket.gethostname = lambda: name
    platform.node = lambda: name
    os.uname = lambda: os.uname_result((*real_uname()[:1], name, *real_uname()[2:]))
    if hasattr(platform, "_uname_cache"):
        platform._uname_cache = None  # platform.uname() reads os.uname() again


def own_loopback(name):
    """One machine of several has a loopback of its own, as each real machine has: a fixed port
    (or an abstract Unix socket name) the app binds there is free on every other machine. The
    machines run on one computer, so a bind to this machine's loopback (or to every address) goes
    to a 127.x.y.z address of this machine's own, and an abstract socket name gets the machine's
    name. Binds to port 0 (the host's own listening socket among them) are left as they are."""
    import hashlib
    import socket

    digest = hashlib.sha256(name.encode()).digest()
    address = f"127.{digest[0]}.{digest[1]}.{digest[2] | 2}"  # never 127.0.0.1
    loopback = {"", "0.0.0.0", "127.0.0.1", "localhost"}
    real_bind = socket.socket.bind

    def bind(self, target):
        if self.family == socket.AF_INET and isinstance(target, tuple) and len(target) == 2 and target[1] and target[0] in loopback:
            target = (address, target[1])
        elif self.family == getattr(socket, "AF_UNIX", None) and isinstance(target, (str, bytes)) and target[:1] in ("\0", b"\0"):
            target = target + (f"@{name}" if isinstance(target, str) else f"@{name}".encode())
        return real_bind(self, target)

    bind.__doc__ = real_bind.__doc__
    bind.__name__ = real_bind.__name__
    bind.__qualname__ = real_bind.__qualname__
    socket.socket.bind = bind


def run_worker(config, order, commands_fd, events, app):
    app_file = config["app"]
    app_dir = os.path.dirname(app_file)
    os.environ.update(order.get("env", {}))
    if os.environ.get("HOSTNAME"):
        machine_name(os.environ["HOSTNAME"])
    clock = config.get("_clock")
    if clock:
        clock.reset(order.get("clockStart", clock.time() * 1000), order.get("clockSentAt"))
    GATE.reset(lambda report: events.send({"type": "gate", "report": report}))
    threading.Thread(target=worker_control, args=(commands_fd, events, clock), daemon=True).start()

    if config["role"] == "jobs":
        import runpy

        # As `python jobs.py` runs it: the script's folder first on the import path (`from app import ...`).
        if app_dir not in sys.path:
            sys.path.insert(0, app_dir)
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

    threads = int(config.get("threads") or 1)
    if threads > 1:
        install_switches(app_dir)  # threads take turns at the app's calls, as under the GIL
        server = ThreadedLoopbackServer(("127.0.0.1", 0), QuietHandler, threads, clock)
    else:
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


