"""The file half of a Python worker's gate (_course_gate.py): data files opened with open() or
os.open, made, linked, renamed or removed (os.mkdir, os.link, os.replace...), looked at with
os.stat or os.access (probes, never held), locked with fcntl, and dbm stores (shelve's), each
reported to the course as the Node worker's are (data-ops-files.ts).
"""

import builtins
import io
import os
import sys

from _course_gate import GATE

# Files: while the gate is on, a data file opened by the app (not code, not Python's own files)
# reports each read and write. With the gate off, open() returns the plain file object.

_HERE = os.path.dirname(os.path.abspath(__file__))
_SYSTEM = tuple({os.path.abspath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, _HERE) if p})
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd", ".html", ".jinja", ".j2")


def _data_file(target):
    if isinstance(target, int):
        return None
    try:
        name = os.path.abspath(os.fsdecode(target))
    except TypeError:
        return None
    if name.endswith(_CODE_SUFFIXES) or name.startswith(_SYSTEM) or "site-packages" in name or name.startswith(("/proc/", "/dev/", "/sys/")):
        return None
    return name


class _WatchedFile:
    """A file object whose reads and writes are data operations; everything else is the file's own."""

    def __init__(self, file, name):
        object.__setattr__(self, "_file", file)
        object.__setattr__(self, "_name", name)

    def _op(self, method, write, *args):
        real = getattr(self._file, method)
        return GATE.around(lambda: {"kind": "file", "file": self._name, "write": write}, lambda: real(*args), lambda: False)

    def read(self, *args):
        return self._op("read", False, *args)

    def readline(self, *args):
        return self._op("readline", False, *args)

    def readlines(self, *args):
        return self._op("readlines", False, *args)

    def write(self, *args):
        return self._op("write", True, *args)

    def writelines(self, *args):
        return self._op("writelines", True, *args)

    def __iter__(self):
        return iter(self.readlines())

    def __enter__(self):
        self._file.__enter__()
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __setattr__(self, name, value):
        setattr(self._file, name, value)


def _opens_to_write(mode):
    return any(c in str(mode) for c in "xwa+")


def _watch_open(real_open):
    def open(file, *args, **kwargs):
        if GATE.mode == 0 or GATE.send is None:
            return real_open(file, *args, **kwargs)
        name = _data_file(file)
        if name is None:
            return real_open(file, *args, **kwargs)
        # Opening to write is a write (it may create or empty the file); one that fails (a lock
        # file made with "x" that is there already) is a lock another worker holds.
        if _opens_to_write(args[0] if args else kwargs.get("mode", "r")):
            opened = GATE.around(lambda: {"kind": "file", "file": name, "write": True}, lambda: real_open(file, *args, **kwargs), lambda: False)
        else:
            opened = real_open(file, *args, **kwargs)
        return _WatchedFile(opened, name)

    open._course_gate = True
    open.__doc__ = real_open.__doc__
    return open


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _dressed(wrapper, real):
    """`wrapper` marked as the gate's, under `real`'s name and help."""
    wrapper._course_gate = True
    wrapper.__doc__ = real.__doc__
    wrapper.__name__ = real.__name__
    return wrapper


def _watch_write(real_call, file_written):
    """A call that may change a data file (`file_written(*args, **kwargs)` names it, or None): a
    write of that file while the gate is on. One that fails (a lock file or folder another worker
    made, an exclusive create) is a lock another worker holds; one that waits (an flock) waits
    for it."""

    def call(*args, **kwargs):
        name = None if GATE.mode == 0 or GATE.send is None else file_written(*args, **kwargs)
        if name is None:
            return real_call(*args, **kwargs)
        return GATE.around(lambda: {"kind": "file", "file": name, "write": True}, lambda: real_call(*args, **kwargs), lambda: False)

    return _dressed(call, real_call)


def _opened_to_write(path, flags, *args, **kwargs):
    """os.open with flags that may change the file."""
    return _data_file(path) if flags & _WRITE_FLAGS else None


def _path_at(at):
    """The data file named by positional argument `at` (os.mkdir's, os.link's new path...)."""
    return lambda *args, **kwargs: _data_file(args[at]) if len(args) > at else None


# The file system calls that change what is at a path, and which argument names it: a lock
# folder (mkdir) or link (link, symlink) is made, a file renamed over another, one removed.
_PATH_WRITES = {"mkdir": 0, "rmdir": 0, "remove": 0, "unlink": 0, "rename": 1, "replace": 1, "link": 1, "symlink": 1}


def _watch_look(real_look):
    """os.stat or os.access (os.path.exists, isfile, getmtime and pathlib call os.stat): a probe of a data file."""

    def look(path, *args, **kwargs):
        if GATE.mode == 0 or GATE.send is None:
            return real_look(path, *args, **kwargs)
        name = _data_file(path)
        try:
            result = real_look(path, *args, **kwargs)
        except OSError:
            if name is not None:
                GATE.probe(name, False)
            raise
        if name is not None:
            GATE.probe(name, result is not False)
        return result

    return _dressed(look, real_look)


def _file_of(target):
    """The data file a lock call names: a file object's name, or an open descriptor's file."""
    if isinstance(target, int):
        try:
            return _data_file(os.readlink(f"/proc/self/fd/{target}"))
        except OSError:
            return None
    if hasattr(target, "fileno"):
        name = getattr(target, "name", None)
        if isinstance(name, (str, bytes)):
            return _data_file(name)
        try:
            return _file_of(target.fileno())
        except (OSError, ValueError):
            return None
    return None


def _locked(unlock):
    """The data file fcntl.flock or fcntl.lockf locks (letting go of a lock is nothing)."""
    return lambda target, operation, *args, **kwargs: None if operation & unlock == unlock else _file_of(target)


class _WatchedDbm:
    """A dbm database (what shelve keeps its dict in): reading a key is a read of its file,
    storing or deleting one a write."""

    def __init__(self, db, name):
        object.__setattr__(self, "_db", db)
        object.__setattr__(self, "_name", name)

    def _op(self, write, run):
        return GATE.around(lambda: {"kind": "file", "file": self._name, "write": write}, run, lambda: False)

    def __getitem__(self, key):
        return self._op(False, lambda: self._db[key])

    def get(self, key, default=None):
        return self._op(False, lambda: self._db.get(key, default))

    def __contains__(self, key):
        return self._op(False, lambda: key in self._db)

    def keys(self):
        return self._op(False, lambda: self._db.keys())

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return self._op(False, lambda: len(self._db))

    def __setitem__(self, key, value):
        self._op(True, lambda: self._db.__setitem__(key, value))

    def __delitem__(self, key):
        self._op(True, lambda: self._db.__delitem__(key))

    def setdefault(self, key, default=None):
        return self._op(True, lambda: self._db.setdefault(key, default))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._db.close()

    def __getattr__(self, name):
        return getattr(self._db, name)


def _watch_dbm_open(real_open):
    def open(file, *args, **kwargs):
        db = real_open(file, *args, **kwargs)
        # Watched whatever the gate's mode now: a store opened at import is used later.
        name = _data_file(file)
        return db if name is None else _WatchedDbm(db, name)

    open._course_gate = True
    open.__doc__ = real_open.__doc__
    return open


def install():
    """Make open(), os.open, os.stat, os.access, fcntl's locks and dbm (shelve's store) watch data
    files while the gate is on."""
    try:
        import dbm
        import fcntl
    except ImportError:  # not on this system
        dbm = fcntl = None
    if fcntl is not None:
        for name in ("flock", "lockf"):
            real = getattr(fcntl, name)
            if not getattr(real, "_course_gate", False):
                setattr(fcntl, name, _watch_write(real, _locked(fcntl.LOCK_UN)))
    if dbm is not None and not getattr(dbm.open, "_course_gate", False):
        dbm.open = _watch_dbm_open(dbm.open)
    if not getattr(builtins.open, "_course_gate", False):
        watched = _watch_open(builtins.open)
        builtins.open = watched
        io.open = watched
    if not getattr(os.open, "_course_gate", False):
        os.open = _watch_write(os.open, _opened_to_write)
    for name, at in _PATH_WRITES.items():
        real = getattr(os, name, None)
        if real is not None and not getattr(real, "_course_gate", False):
            setattr(os, name, _watch_write(real, _path_at(at)))
    for name in ("stat", "access"):
        real = getattr(os, name)
        if not getattr(real, "_course_gate", False):
            setattr(os, name, _watch_look(real))
