"""deploy/gunicorn.conf.py: what the master prepares before it forks the workers."""

import datetime
import json
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings as django_settings

PROJECT = Path(django_settings.BASE_DIR)

# In a fresh process, as gunicorn runs it: the app loaded (preload_app), then the config's when_ready.
MASTER = """
import json, runpy, sys
import orderdesk.wsgi
from django.db import connections
from orderdesk.api import views
config = runpy.run_path("deploy/gunicorn.conf.py")
before = {"views": "orderdesk.orders.views" in sys.modules, "shown": views._order_shown.cache_info().currsize}
config["when_ready"](None)
print(json.dumps({
    "preload_app": config["preload_app"],
    "before": before,
    "views": all(name in sys.modules for name in
                 ("orderdesk.orders.views", "orderdesk.aftersales.api", "orderdesk.vendors.views")),
    "shown": views._order_shown.cache_info().currsize,
    "check": views._new_order_check.cache_info().currsize,
    "database_connections": [alias for alias in connections
                             if connections[alias].connection is not None],
}))
"""


def test_the_master_imports_the_urlconf_and_builds_the_api_serializers_before_forking():
    ran = subprocess.run(
        [sys.executable, "-c", MASTER], cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["preload_app"] is True
    assert found["before"] == {"views": False, "shown": 0}
    assert found["views"] and found["shown"] == 1 and found["check"] == 1
    # A connection opened here would be shared by every forked worker.
    assert found["database_connections"] == []


def test_gunicorn_writes_no_access_line_of_its_own_unless_asked():
    """Django logs every request (request_log.py); gunicorn's logconfig_dict would add a second line."""
    config = runpy.run_path(str(PROJECT / "deploy" / "gunicorn.conf.py"))
    logger_class = config["logger_class"]
    assert config["accesslog"] is None and config["logconfig_dict"]
    log = logger_class.__new__(logger_class)  # without setup(), which configures logging
    log._access_log_enabled = True  # what gunicorn works out from logconfig_dict
    written = []
    log.access_log = SimpleNamespace(info=lambda line_format, atoms: written.append(line_format % atoms))
    log.atoms = lambda resp, req, environ, request_time: {"r": "POST /api/v1/orders HTTP/1.1"}
    log.cfg = SimpleNamespace(accesslog=None, access_log_format="%(r)s")
    log.access(None, None, {}, datetime.timedelta(0))
    assert written == []
    log.cfg = SimpleNamespace(accesslog="-", access_log_format="%(r)s")
    log.access(None, None, {}, datetime.timedelta(0))
    assert written == ["POST /api/v1/orders HTTP/1.1"]
