"""What a worker of the course's Python host gives the app, as gunicorn gives it: the WSGI environ
(its server name, its own keys, the scheme its front proxy said, none of the process's environment
variables) and its answer to a request it refuses."""

import html
import ipaddress
import os
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler


# What the app reads of its server in the WSGI environ is what gunicorn gives it: its name, a
# server of several processes (and threads where the worker has them), the client's port.
SERVER_SOFTWARE = "gunicorn/23.0.0"


def _early_hints(headers):
    """gunicorn's wsgi.early_hints: a 103 answer the sync worker does not send."""


# gunicorn's secure_scheme_headers and forwarded_allow_ips: a front proxy at an address it trusts
# (by default the loopback, where the host's proxy is) tells it the request came over https, and
# the app sees wsgi.url_scheme "https". Headers that disagree with each other are refused (400).
SECURE_SCHEME_HEADERS = {"X-FORWARDED-PROTOCOL": "ssl", "X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"}


def _allowed_networks(setting):
    """gunicorn's forwarded_allow_ips, read once as gunicorn reads its settings: None means any address."""
    networks = []
    for entry in (part.strip() for part in setting.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return networks


_ALLOWED = _allowed_networks(os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))


def _forwarded_allowed(peer):
    if _ALLOWED is None:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _ALLOWED)


def url_scheme(headers, peer):
    """The scheme gunicorn gives the request, or None when its scheme headers contradict each other."""
    if not _forwarded_allowed(peer):
        return "http"
    scheme = None
    for name, value in headers.items():
        expected = SECURE_SCHEME_HEADERS.get(name.upper())
        if expected is None:
            continue
        said = "https" if value.strip(" \t") == expected else "http"
        if scheme is not None and said != scheme:
            return None
        scheme = said
    return scheme or "http"


class GunicornServerHandler(ServerHandler):
    """wsgiref's handler with gunicorn's environ: no variable of the process's own environment in it,
    and the scheme the front proxy said."""

    os_environ = {}

    def get_scheme(self):
        return self.base_env.get("wsgi.url_scheme", "http")


try:  # gunicorn's own file wrapper, when this Python has gunicorn
    from gunicorn.http.wsgi import FileWrapper as _FileWrapper
except Exception:
    _FileWrapper = None


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass  # the course logs each request itself

    def get_environ(self):
        environ = super().get_environ()
        environ["SERVER_SOFTWARE"] = SERVER_SOFTWARE
        environ["REMOTE_PORT"] = str(self.client_address[1])
        environ["RAW_URI"] = self.path
        # gunicorn's own keys (not wsgi.input_terminated: this input is the connection itself, which
        # a reader told it is terminated would read to its end), and no Content-Type the client did
        # not send (wsgiref puts text/plain)
        environ["gunicorn.socket"] = self.connection
        environ["wsgi.early_hints"] = _early_hints
        environ["wsgi.url_scheme"] = self.url_scheme
        if self.headers.get("content-type") is None:
            environ.pop("CONTENT_TYPE", None)
        return environ

    def refuse(self, message):
        """gunicorn's answer to a request it cannot parse: 400, a small page, the connection closed."""
        page = f"<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n    <h1><p>Bad Request</p></h1>\n    {html.escape(message)}\n  </body>\n</html>\n"
        body = page.encode("latin1")
        head = f"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
        self.wfile.write(head.encode("latin1") + body)
        self.close_connection = True

    def handle(self):
        """wsgiref's handle(), with gunicorn's view of the server."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        self.url_scheme = url_scheme(self.headers, self.client_address[0])
        if self.url_scheme is None:
            self.refuse("Contradictory scheme headers")
            return
        handler = GunicornServerHandler(
            self.rfile,
            self.wfile,
            self.get_stderr(),
            self.get_environ(),
            multithread=getattr(self.server, "threaded", False),
            multiprocess=True,
        )
        handler.server_software = SERVER_SOFTWARE
        if _FileWrapper is not None:
            handler.wsgi_file_wrapper = _FileWrapper
        handler.request_handler = self
        handler.run(self.server.get_app())
