"""deploy/procfile.py: the Procfile's processes together, stopped together."""

import sys
import time
from pathlib import Path

from django.conf import settings as django_settings

sys.path.insert(0, str(Path(django_settings.BASE_DIR)))

from deploy.procfile import read_procfile, run  # noqa: E402


def test_the_procfile_names_the_release_web_worker_and_beat():
    processes = read_procfile()
    assert list(processes) == ["release", "web", "worker", "beat"]
    assert processes["web"].startswith("gunicorn orderdesk.wsgi --config deploy/gunicorn.conf.py")


def test_when_one_process_stops_by_itself_the_others_are_stopped_and_its_status_returned(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"steady: sleep 60\nfailing: sleep 1 && exit 3\nalso: sleep 60 && touch {tmp_path}/ran\n"
    )
    started = time.monotonic()

    status = run(["steady", "failing", "also"], procfile_path=procfile)

    assert status == 3
    assert time.monotonic() - started < 30
    assert not (tmp_path / "ran").exists()


def test_a_name_not_in_the_procfile_is_refused(tmp_path, capsys):
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: sleep 1\n")
    assert run(["wbe"], procfile_path=procfile) == 2
    assert "Not in the Procfile: wbe (it has web)" in capsys.readouterr().err
