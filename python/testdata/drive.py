"""What the drivers of package_test.go share: a threaded WSGI server for
the application under test (presence's webhook reaches it there, in the
process whose cache the test client's requests read), and the loop that
answers the Go test's commands.

The protocol, one JSON object a line on stdout: first {"sid", "page"}
after the login; then, for each line on stdin, "get PATH" answers
{"status", "location", "body"} of a GET by the same client.
"""

import json
import socketserver
import sys
import threading
import wsgiref.simple_server


class _Server(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class _Handler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        # "POST /presence/webhook/ HTTP/1.1" 204: the Go test reads it.
        sys.stderr.write("%s\n" % (format % args))


def serve(app, addr):
    """Serves the WSGI app on addr ("127.0.0.1:port") from a daemon
    thread."""
    host, port = addr.rsplit(":", 1)
    httpd = wsgiref.simple_server.make_server(host, int(port), app, server_class=_Server, handler_class=_Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def loop(get):
    """Answers the commands on stdin until it closes; get(path) returns
    (status, location, body)."""
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "get":
            status, location, body = get(arg)
            say({"status": status, "location": location or "", "body": body})
        else:
            say({"error": "unknown command %r" % cmd})
