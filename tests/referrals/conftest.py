import pytest
from django.utils import timezone

from referrals.models import ReferralProgram
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


@pytest.fixture
def default_program(transactional_db):
    """The program the data migration makes, again: a transactional test before this one
    flushed the tables (migration data included)."""
    program, _ = ReferralProgram.objects.get_or_create(
        is_active=True,
        defaults={
            "name": "Give points, get points",
            "starts_at": timezone.now(),
            "friend_offer": "250 welcome points with your first purchase",
        },
    )
    return program
