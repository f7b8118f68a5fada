"""The manual clock of the course's Python host: time.sleep, threading.Timer and the timeout of
threading.Event.wait wait for the course to move the clock, so a lesson about time takes
milliseconds and gives the same verdict every run (no test waits on real time); time.time,
time.monotonic (and every other clock the app can read) and datetime.now go on with real time besides, as on any machine, plus the
course's moves (the course may hold the date still for a moment: people who arrive meanwhile
arrive in the same millisecond)."""

import datetime as _datetime
import os as _os
import threading
import time as _time

from _course_threads import DOOR

_real_monotonic = _time.monotonic
_real_time = _time.time
_real_perf_counter = _time.perf_counter


class ManualClock:
    def __init__(self, start_ms, sent_ms=None):
        self.reset(start_ms, sent_ms)

    def reset(self, start_ms, sent_ms=None):
        # `now` is the timers' time: it moves only when the course moves it. The date adds the
        # real time since the course read `start_ms` (at `sent_ms`, its real time then).
        self.now = start_ms / 1000.0
        self.base = self.now
        self.offset = (start_ms - (sent_ms if sent_ms is not None else _real_time() * 1000)) / 1000.0
        self.held = None
        # The date (without the moves) when the timers last stood level with it, and how much of
        # the moves was the timers catching up with real time (already in the date).
        self.level = _real_time() + self.offset
        self.caught_up = 0.0
        self.catching_from = None  # while the sleepers catch up: `now` when it began (the date stays put)
        self.cond = threading.Condition()
        self.sleepers = {}
        self.sleeping = set()
        self.awake = set()
        self.advancing = False

    def moved(self):
        """How far the course has moved this clock since it was set."""
        now = self.catching_from if self.catching_from is not None else self.now
        return now - self.base

    def time(self):
        return (self.held if self.held is not None else _real_time() + self.offset) + self.moved()


    def hold(self, at_ms):
        """Hold the date still at `at_ms` (course time), or let it go on with real time (None)."""
        self.held = None if at_ms is None else at_ms / 1000.0 - self.moved()

    def sleep(self, seconds, until=None):
        """Wait `seconds` on this clock, or less: until `until()` is true (an event set meanwhile).
        Returns what `until()` says at the end (False without it)."""
        me = threading.get_ident()
        token = object()
        DOOR.leave()  # a request waiting on the network no longer takes turns with others
        with self.cond:
            # Set while the date is ahead of the sleepers' count: due that much later on it, so it
            # ends when the date says.
            lag = max(0.0, self.time() - (self.level + self.now - self.base))
            due = self.now + lag + max(0.0, float(seconds))
            self.sleepers[token] = due
            self.sleeping.add(me)
            self.awake.discard(me)
            self.cond.notify_all()
            while self.now < due and not (until and until()):
                self.cond.wait()
            del self.sleepers[token]
            self.sleeping.discard(me)
            self.awake.add(me)
            self.cond.notify_all()
            return bool(until and until())

    def nudge(self):
        """Something a sleeper waits for besides time may have happened (an event was set)."""
        with self.cond:
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
        """Move time forward, waking each sleeper at its time; return once they have run. Between
        moves the date goes on and sleepers wait, as on a busy machine: a move first brings the
        sleepers level with the date (those due by then wake, late, the date going on as it was),
        then moves on, so a sleep until 03:00 by the date ends when the date reaches 03:00."""
        with self.cond:
            late = max(0.0, (self.held if self.held is not None else _real_time() + self.offset) - self.level)
            if late > 0:
                self.catching_from = self.now
                try:
                    self._advance_to(self.now + late)
                finally:
                    self.offset -= late
                    if self.held is not None:
                        self.held -= late
                    self.caught_up += late
                    self.catching_from = None
            self._advance_to(self.now + ms / 1000.0)

    def _advance_to(self, target):
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
    _time.time = clock.time
    _time.time_ns = lambda: int(clock.time() * 1e9)
    _time.monotonic = lambda: _real_monotonic() + clock.moved() - clock.caught_up
    _time.perf_counter = lambda: _real_perf_counter() + clock.moved() - clock.caught_up
    _time.monotonic_ns = lambda: int(_time.monotonic() * 1e9)
    _time.perf_counter_ns = lambda: int(_time.perf_counter() * 1e9)
    _time.sleep = clock.sleep

    # The clocks by their names: the date (CLOCK_REALTIME), every other one moves as monotonic does.
    real_clock_gettime = _time.clock_gettime

    def clock_gettime(clk_id):
        if clk_id == _time.CLOCK_REALTIME:
            return clock.time()
        return real_clock_gettime(clk_id) + clock.moved() - clock.caught_up

    _time.clock_gettime = clock_gettime
    _time.clock_gettime_ns = lambda clk_id: int(clock_gettime(clk_id) * 1e9)

    # os.times().elapsed: the time since an arbitrary point in the past, a monotonic clock too.
    real_times = _os.times

    def times():
        t = real_times()
        return _os.times_result((t.user, t.system, t.children_user, t.children_system, t.elapsed + clock.moved() - clock.caught_up))

    _os.times = times

    real_datetime = _datetime.datetime
    real_date = _datetime.date

    class RealInstances(type):
        """The stand-ins are subclasses, yet a module that imported them sees every date as one of
        them, as with the real classes: a datetime is a date (werkzeug's http_date asks), and a
        date or datetime made by code that kept the real class is one too."""

        def __instancecheck__(cls, obj):
            real = reals.get(cls)
            return isinstance(obj, real) if real else super().__instancecheck__(obj)

        def __subclasscheck__(cls, sub):
            real = reals.get(cls)
            return issubclass(sub, real) if real else super().__subclasscheck__(sub)

    class datetime(real_datetime, metaclass=RealInstances):
        @classmethod
        def now(cls, tz=None):
            return cls.fromtimestamp(clock.time(), tz)

        @classmethod
        def utcnow(cls):
            return cls.utcfromtimestamp(clock.time())

        @classmethod
        def today(cls):
            return cls.fromtimestamp(clock.time())

    class date(real_date, metaclass=RealInstances):
        @classmethod
        def today(cls):
            return cls.fromtimestamp(clock.time())

    reals = {datetime: real_datetime, date: real_date}
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

    # Event.wait(timeout), the interruptible sleep of many schedule loops: the timeout runs on this
    # clock, and a set() ends the wait at once, as it does on a real one.
    real_event_wait = threading.Event.wait
    real_event_set = threading.Event.set

    def event_wait(self, timeout=None):
        if timeout is None or self.is_set():
            return real_event_wait(self, timeout)
        return clock.sleep(timeout, until=self.is_set)

    def event_set(self):
        real_event_set(self)
        clock.nudge()

    threading.Event.wait = event_wait
    threading.Event.set = event_set

    real_start = threading.Thread.start

    def start(self):
        real_start(self)
        clock.started(self.ident)

    threading.Thread.start = start


