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


import json
import os
import selectors
import signal
import sys
import threading
import time as _time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the learner's folder
_own_folder = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _own_folder)

import _course_gate  # noqa: E402
import _course_gate_files  # noqa: E402,F401  (loaded while this folder is on the path: _course_gate.install() uses it)
from _course_clock import ManualClock, install_clock  # noqa: E402
from _course_worker import import_module, machine_name, own_loopback, prepare_flask, problem, run_worker, wsgi_app  # noqa: E402

EVENTS_FD = 3
LINE_CHARS = 2000
_real_monotonic = _time.monotonic

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
        if os.environ.get("HOSTNAME"):
            machine_name(os.environ["HOSTNAME"])
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


def host_argv(config):
    """The command line the app reads: gunicorn's for web workers, ``python jobs.py`` for the jobs process."""
    app_file = config["app"]
    if config["role"] == "jobs":
        return [app_file]
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    options = ["--preload"] if config["mode"] == "preload" else []
    if config.get("threads", 1) > 1:
        options += ["--threads", str(config["threads"])]
    return [gunicorn, *options, os.path.splitext(os.path.basename(app_file))[0] + ":app"]


def as_gunicorn():
    """A gunicorn worker has gunicorn loaded: the real one when this Python has it, else a module
    that says what it is (its version and server name), for an app that looks in sys.modules."""
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        import types

        package = types.ModuleType("gunicorn")
        package.__path__ = []
        package.version_info = (23, 0, 0)
        package.__version__ = "23.0.0"
        package.SERVER_SOFTWARE = "gunicorn/23.0.0"
        sys.modules["gunicorn"] = package


def main():
    config = json.loads(sys.argv[1])
    if config["role"] == "web":
        as_gunicorn()
    # The app reads the command line a real host gives it, not the course's.
    sys.argv[:] = host_argv(config)
    sys.orig_argv[:] = [sys.executable, *sys.argv]
    # and its import path starts where Python puts the script's folder: the course's modules are loaded by now.
    while _own_folder in sys.path:
        sys.path.remove(_own_folder)
    sys.path.insert(0, os.path.dirname(sys.argv[0]))
    die_with_parent()
    events = Channel(EVENTS_FD)
    os.chdir(config["cwd"])
    if config.get("clock") == "manual":
        clock = ManualClock(config.get("clockStart") or _time.time() * 1000, config.get("clockSentAt"))
        install_clock(clock)
        config["_clock"] = clock
    prepare_flask()
    if config.get("ownLoopback") and os.environ.get("HOSTNAME"):
        own_loopback(os.environ["HOSTNAME"])  # one machine of several
    _course_gate.install()  # before the app: a connection opened at import is watched too
    master = Master(config, events)
    master.load()
    master.loop()


if __name__ == "__main__":
    main()
