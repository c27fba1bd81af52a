import pytest

from tests.support import CeleryWorker


@pytest.fixture
def invitation_worker(transactional_db, smtp_sink):
    """A real worker sending to `smtp_sink`: short backoff, three attempts per invitation."""
    worker = CeleryWorker(
        env={
            "EMAIL_URL": smtp_sink.url,
            "EMAIL_RETRY_BACKOFF": "1",
            "INVITATION_SEND_ATTEMPTS": "3",
        }
    ).start()
    yield worker
    worker.stop()
