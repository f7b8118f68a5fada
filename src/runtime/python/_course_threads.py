"""Requests that arrive at the same moment on a threaded worker (gunicorn's gthread), served the
way the GIL serves them: one thread runs Python at a time, and another may take over whenever the
running one calls a function. On a busy real host that happens at any call, so a value the app
keeps in module scope can change between two of one request's callbacks (a before_request
function that sets it, the next one or the view that reads it), with no wait in between.

The course makes that switch happen the same way every run. Told that `count` requests will
arrive together (hold), it keeps them at the door until all have come, then lets them run one at
a time, in the order they came, handing over to the next after each of the app's request
callbacks (each before_request function, the view, each after_request function) and at each
call into a function of the app's own files (a profile hook on those requests' threads only). A request
leaves the turn-taking when it waits on the clock (a network call) or is answered: from then on
it runs as threads do. Outside such a moment nothing here acts."""

import functools
import os
import sys
import threading
import time as _time

_real_monotonic = _time.monotonic

# How long a request waits for its turn when the request whose turn it is does not hand over: it
# is blocked on something else (a lock another request of the group holds). It then goes on, as
# the GIL lets a runnable thread run while another blocks.
BLOCKED_S = 0.5
# How long the first requests wait at the door for the rest of their group.
DOOR_S = 2.0


class Door:
    def __init__(self):
        self.cond = threading.Condition()
        self.expected = 0
        self.group = []
        self.turn = None
        self.opened_at = None
        # The app's own folder: a call into a function defined there is a switch point too.
        self.app_dir = None

    def hold(self, count):
        """The next `count` requests to arrive come in together."""
        with self.cond:
            self.expected = max(0, int(count))
            self.group = []
            self.turn = None
            self.opened_at = None
            self.cond.notify_all()

    def enter(self):
        """A request arrives (its thread, before the app sees it)."""
        me = threading.get_ident()
        with self.cond:
            if self.expected <= 0:
                return
            self.group.append(me)
            self.expected -= 1
            if self.expected == 0:
                self.turn = self.group[0]
                self.cond.notify_all()
            deadline = _real_monotonic() + DOOR_S
            while self.expected > 0 and me in self.group:
                left = deadline - _real_monotonic()
                if left <= 0:  # the rest never came: the group is those here
                    self.expected = 0
                    self.turn = self.turn or self.group[0]
                    self.cond.notify_all()
                    break
                self.cond.wait(left)
            self._wait_turn(me)
        if self.app_dir and me in self.group:
            sys.setprofile(self._profile)  # this thread only

    def _profile(self, frame, event, arg):
        """Each call into a function of the app's own files is a point where another thread may
        take over, as the GIL lets one at any call."""
        if event == "call" and frame.f_code.co_filename.startswith(self.app_dir):
            self.switch()

    def switch(self):
        """Between two of the app's callbacks: the next request of the group takes over."""
        me = threading.get_ident()
        with self.cond:
            if me not in self.group or len(self.group) < 2:
                return
            self._hand_over(me)
            self._wait_turn(me)

    def leave(self):
        """The request waits on the clock, or has been answered: it no longer takes turns."""
        me = threading.get_ident()
        if me not in self.group:  # every sleep of every thread passes here: no lock when not in a group
            return
        with self.cond:
            if me not in self.group:
                return
            sys.setprofile(None)
            if self.turn == me:
                self._hand_over(me)
            self.group.remove(me)
            if not self.group:
                self.turn = None
            self.cond.notify_all()

    def _hand_over(self, me):
        at = self.group.index(me)
        self.turn = self.group[(at + 1) % len(self.group)]
        self.cond.notify_all()

    def _wait_turn(self, me):
        deadline = _real_monotonic() + BLOCKED_S
        while me in self.group and self.turn != me:
            left = deadline - _real_monotonic()
            if left <= 0:
                self.turn = me
                break
            self.cond.wait(left)


DOOR = Door()


def install_switches(app_dir=None, door=DOOR):
    """Hand over to the next request of a group after each of a Flask app's request callbacks
    (Flask calls every one of them, before_request and after_request functions, the view, error
    handlers, teardown functions, through Flask.ensure_sync), and at each call into a function of
    the app's own folder (`app_dir`)."""
    door.app_dir = os.path.join(os.path.abspath(app_dir), "") if app_dir else None
    try:
        import flask
    except ImportError:
        return
    real = flask.Flask.ensure_sync

    @functools.wraps(real)
    def ensure_sync(self, func):
        run = real(self, func)

        @functools.wraps(run)
        def callback(*args, **kwargs):
            try:
                return run(*args, **kwargs)
            finally:
                door.switch()

        return callback

    flask.Flask.ensure_sync = ensure_sync
