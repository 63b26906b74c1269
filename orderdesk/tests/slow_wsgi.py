"""Orderdesk's WSGI app with one extra path, /slow/?seconds=N, that answers after N seconds:
the graceful-shutdown test's request still running when SIGTERM arrives. Tests only."""

import time
from urllib.parse import parse_qs

from orderdesk.wsgi import application as orderdesk


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/slow/":
        seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["1"])[0])
        time.sleep(seconds)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"answered after {seconds} s".encode()]
    return orderdesk(environ, start_response)
