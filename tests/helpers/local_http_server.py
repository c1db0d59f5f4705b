"""A file server on 127.0.0.1 for download tests: serves bytes by path,
honours ``Range`` (or ignores it), can cut a transfer short, and records
every request."""
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalFileServer:
    """Serve ``files`` (``{'/name': bytes}``) until :meth:`stop`.

    Attributes:
        requests (list[tuple[str, str | None]]): ``(path, Range header)``
            of each request, in order.
        cut_after (int | None): Stop the next response after this many body
            bytes (the connection closes; later responses are whole).
        honour_range (bool): Answer ``Range`` with 206; False sends the
            whole file with 200, as some servers do.
        url (str): ``http://127.0.0.1:<port>``.
    """

    def __init__(self, files):
        self.files = dict(files)
        self.requests = []
        self.cut_after = None
        self.honour_range = True
        server = self

        class Handler(BaseHTTPRequestHandler):

            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append((self.path,
                                        self.headers.get('Range')))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                match = re.match(r'bytes=(\d+)-$',
                                 self.headers.get('Range') or '')
                if match and server.honour_range:
                    start = int(match[1])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header(
                        'Content-Range',
                        f'bytes {start}-{len(body) - 1}/{len(body)}')
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(body) - start))
                self.end_headers()
                payload = body[start:]
                if server.cut_after is not None:
                    payload = payload[:server.cut_after]
                    server.cut_after = None
                    self.close_connection = True
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self._httpd.server_address[1]}'
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs=dict(poll_interval=0.05),
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
