import pytest
from django.core.management import CommandError, call_command

from customers.demo import DEMO_CUSTOMERS
from customers.models import Connection, ContactPerson, Customer, User
from partners.models import PartnerCustomer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _counts():
    return (
        User.objects.count(),
        Customer.objects.count(),
        ContactPerson.objects.count(),
        Connection.objects.count(),
    )


def test_seed_demo_is_idempotent_and_gives_working_logins(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    staff = User.objects.get(email="staff@example.com")
    assert staff.is_staff and staff.check_password("kindred-demo")
    anna = Customer.objects.get(user__email="anna@example.com")
    assert anna.contact_person and anna.contact_person.photo
    assert client.login(email="anna@example.com", password="kindred-demo")


def test_seed_demo_refuses_without_debug_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--yes"):
        call_command("seed_demo")
    assert not User.objects.exists()
    call_command("seed_demo", "--yes")
    assert User.objects.filter(email="anna@example.com").exists()


def test_seed_demo_makes_no_customer_profile_for_staff(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert not Customer.objects.filter(user__email="staff@example.com").exists()


def test_seed_demo_again_links_only_its_own_customers_to_the_demo_partner(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    zoe = CustomerFactory(email="zoe@example.com")
    call_command("seed_demo")
    linked = set(
        PartnerCustomer.objects.filter(partner__name="Kindred demo shop").values_list(
            "customer__user__email", flat=True
        )
    )
    assert linked == {email for email, _, _ in DEMO_CUSTOMERS}
    assert zoe.user.email not in linked


def test_seed_demo_gives_anna_a_bell_with_notices_once(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    anna = Customer.objects.get(user__email="anna@example.com")
    demo = anna.notices.filter(source_key__startswith="demo:")
    assert demo.count() == 4 and demo.filter(read_at__isnull=True).count() == 3
    client.force_login(anna.user)
    page = client.get("/me/notices/").content.decode()
    assert "joined through your link" in page and "gave you 50 points" in page
    assert "unread" in page
