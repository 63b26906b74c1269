import sys
import uuid

from . import OutgoingSms


class ConsoleBackend:
    """Prints each SMS to standard output (the embedded default)."""

    def send(self, sms: OutgoingSms) -> str:
        sys.stdout.write(f"SMS from {sms.sender} to {sms.to}\n{sms.body}\n{'-' * 40}\n")
        sys.stdout.flush()
        return f"console-{uuid.uuid4().hex}"
