"""Delivery fixtures for any app's tests (a pytest plugin named in the root conftest):
a real SMTP server, SMS to files or to provider doubles, known delivery settings."""

import pytest

from .peers import SemaphoreDouble, SmtpServer, TwilioDouble, WebhookDouble


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False


@pytest.fixture
def smtp(settings, smtp_server):
    """Email goes through Django's SMTP backend to a real server on loopback."""
    use_smtp(settings, smtp_server.port)
    return smtp_server


@pytest.fixture
def sms_folder(settings, tmp_path):
    """SMS go to files (one per message) in a fresh folder."""
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    return settings.SMS_FILE_PATH


def sms_files(folder):
    return sorted(folder.glob("*.txt")) if folder.exists() else []


@pytest.fixture
def twilio(settings):
    double = TwilioDouble().start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = double.account_sid
    settings.TWILIO_AUTH_TOKEN = double.auth_token
    settings.TWILIO_API_BASE = double.base_url
    yield double
    double.stop()


@pytest.fixture
def semaphore(settings):
    double = SemaphoreDouble().start()
    settings.SMS_BACKEND = "semaphore"
    settings.SEMAPHORE_API_KEY = double.api_key
    settings.SEMAPHORE_API_BASE = double.base_url
    yield double
    double.stop()


@pytest.fixture
def webhook(settings):
    double = WebhookDouble().start()
    settings.SMS_BACKEND = "http"
    settings.SMS_WEBHOOK_URL = f"{double.base_url}/sms"
    settings.SMS_WEBHOOK_SECRET = double.secret
    yield double
    double.stop()


@pytest.fixture
def notification_settings(settings):
    """Known values for every test here, whatever the environment says."""
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 3600
    settings.NOTIFICATION_MAX_ATTEMPTS = 6
    settings.NOTIFICATION_SEND_TIMEOUT_SECONDS = 2
    settings.NOTIFICATION_SENDING_LEASE_SECONDS = 300
    settings.SITE_URL = "https://orderdesk.example"
