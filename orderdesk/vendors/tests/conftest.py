from orderdesk.web.tests.signed_in import fresh_cache, owner, owner_client  # noqa: F401
