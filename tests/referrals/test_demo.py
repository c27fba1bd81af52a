import pytest
from django.core.management import call_command

from loyalty.models import Transaction
from referrals.models import Introduction, Invitation, Referral

pytestmark = pytest.mark.django_db


def test_demo_referrals_are_seeded_once(settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=False):
        call_command("seed_demo")
        counts = (
            Referral.objects.count(),
            Invitation.objects.count(),
            Transaction.objects.count(),
            Introduction.objects.count(),
        )
        call_command("seed_demo")
    assert counts == (
        Referral.objects.count(),
        Invitation.objects.count(),
        Transaction.objects.count(),
        Introduction.objects.count(),
    )
    assert Introduction.objects.get().status == Introduction.Status.ASKING
    elif_referral = Referral.objects.get(referee__user__email="elif@example.com")
    assert elif_referral.status == Referral.Status.QUALIFIED
    assert Invitation.objects.filter(sender__user__email="anna@example.com").count() == 3
