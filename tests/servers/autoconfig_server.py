# tests/servers/autoconfig_server.py: an HTTPS (or plain HTTP) server of autoconfig documents on a
# loopback address, for outbox setup's tests: ROOT/HOST/PATH for any Host, 404 for the rest.
"""A web server for autoconfig lookups: the provider's autoconfig host, its .well-known file
and an ISPDB, all from one directory keyed by the Host the request names.

It listens on a loopback address of its own (127.x.y.z, port 443 for HTTPS by default) so
clients reach it by name through a pin or a test resolver, exactly as they would a real one.
Per path, it can be told to answer slowly, to answer with a status, to redirect elsewhere (any
Location, relative or absolute, sent as given), or to cut its answer short.
"""
import http.server
import os
import random
import socket
import ssl
import threading


def random_loopback(port):
    """A 127.x.y.z address on which `port` can be bound, so parallel runs do not collide."""
    for _ in range(100):
        address = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                                    random.randint(1, 254))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((address, port))
            except OSError:
                continue
        return address
    raise RuntimeError(f"no loopback address with port {port} free")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server.owner
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = self.path.partition("?")[0]
        with srv.lock:
            srv.requests.append((host, self.path, self.headers.get("Accept", "")))
            behaviour = dict(srv.behaviours.get(path, {}))
        if "delay" in behaviour:
            # Held until the delay passes or the server stops, whichever comes first.
            srv.stopping.wait(behaviour["delay"])
        if "redirect" in behaviour:
            status, location = behaviour["redirect"]
            if location is None:  # a redirect that forgot to say where
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                return None
            return self._answer(status, b"", location=location)
        if "status" in behaviour:
            return self._answer(behaviour["status"], b"")
        body = srv.document(host, path)
        if body is None:
            return self._answer(404, b"<html><body>Not Found</body></html>")
        if behaviour.get("truncate"):
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer(200, body, "text/xml")

    def _answer(self, status, body, content_type="text/html", location=None):
        self.send_response(status)
        if location is not None:
            # As given, any bytes included (send_header would encode and check them): the
            # client's reading of it is what is under test.
            raw = location.encode("latin-1") if isinstance(location, str) else location
            self._headers_buffer.append(b"Location: " + raw + b"\r\n")
        elif 300 <= status < 400:
            self.send_header("Location", "https://elsewhere.test/config.xml")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that refused the certificate or hung up: the tests look at what it reports.
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class AutoconfigServer:
    """Serves ROOT/HOST/PATH. tls=(cert, key) for HTTPS, None for plain HTTP; address None
    picks a loopback address of its own; port None is 443 for HTTPS, a free one for HTTP."""

    def __init__(self, root, tls=None, address=None, port=None):
        self.root = os.path.realpath(root)
        self.tls = tls
        if port is None:
            port = 443 if tls else 0
        self.address = address or random_loopback(port)
        self.port = port
        self.lock = threading.Lock()
        self.requests = []    # (host, path with query, Accept) per request, in order
        # path -> {"delay": s, "status": code, "redirect": (code, location), "truncate": True}
        self.behaviours = {}
        self.stopping = threading.Event()
        self._httpd = None
        self._thread = None

    # --- what to serve ---------------------------------------------------------------------
    def document(self, host, path):
        """The bytes of ROOT/HOST/PATH, or None (outside ROOT, missing, a directory)."""
        name = os.path.realpath(os.path.join(self.root, host, path.lstrip("/")))
        if not name.startswith(self.root + os.sep) or not os.path.isfile(name):
            return None
        with open(name, "rb") as f:
            return f.read()

    def put(self, host, path, data):
        """Serve `data` (str or bytes) at https://HOST/PATH."""
        name = os.path.join(self.root, host, path.lstrip("/"))
        os.makedirs(os.path.dirname(name), exist_ok=True)
        with open(name, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def delay(self, path, seconds):
        """Hold every answer for `path` this long (or until the server stops)."""
        with self.lock:
            self.behaviours.setdefault(path, {})["delay"] = seconds

    def answer_status(self, path, status):
        """Answer `path` with this status and an empty body."""
        with self.lock:
            self.behaviours.setdefault(path, {})["status"] = status

    def redirect(self, path, location, status=302):
        """Answer `path` (on any Host) with `status` and this Location, sent as given (None:
        no Location header at all)."""
        with self.lock:
            self.behaviours.setdefault(path, {})["redirect"] = (status, location)

    def truncate(self, path):
        """Send a third of `path`'s document under a Content-Length for all of it, then close."""
        with self.lock:
            self.behaviours.setdefault(path, {})["truncate"] = True

    def reset(self):
        with self.lock:
            self.behaviours.clear()
            self.requests.clear()

    # --- life cycle ------------------------------------------------------------------------
    @property
    def base_url(self):
        scheme = "https" if self.tls else "http"
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{scheme}://{host}:{self.port}"

    def start(self):
        server_class = _Server6 if ":" in self.address else _Server
        httpd = server_class((self.address, self.port), _Handler)
        httpd.owner = self
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.tls)
            # The handshake happens in the request's thread, on its first read, so a client
            # that refuses the certificate cannot stall the accept loop.
            httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True,
                                           do_handshake_on_connect=False)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=10)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
