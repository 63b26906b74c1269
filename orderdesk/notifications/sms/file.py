import hashlib
import os
from pathlib import Path

from django.conf import settings

from . import OutgoingSms


class FileBackend:
    """Writes each SMS to a file in SMS_FILE_PATH, named after its idempotency key,
    so a second attempt at the same message finds the file and writes nothing."""

    def send(self, sms: OutgoingSms) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{hashlib.sha256(sms.idempotency_key.encode()).hexdigest()[:32]}.txt"
        text = f"To: {sms.to}\nFrom: {sms.sender}\nIdempotency-Key: {sms.idempotency_key}\n\n{sms.body}\n"
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(text, encoding="utf-8")
        try:
            # A hard link fails when the name exists: the first attempt's file stays.
            os.link(temporary, folder / name)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        return name
