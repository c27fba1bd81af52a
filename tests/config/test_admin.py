import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import PASSWORD, CustomerFactory
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry
)


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    login_with_second_factor(client, staff)
    return client


@pytest.mark.parametrize(("app", "model"), MODEL_ADMINS)
def test_every_admin_changelist_and_add_page_answers_for_staff(staff_client, app, model):
    CustomerFactory()
    for view in ("changelist", "add"):
        url = reverse(f"admin:{app}_{model}_{view}")
        response = staff_client.get(url)
        # A model whose admin forbids adding (the ledger, for one) answers 403 on add.
        assert response.status_code in ((200,) if view == "changelist" else (200, 403)), url


@pytest.mark.parametrize(("app", "model"), MODEL_ADMINS)
def test_admin_pages_redirect_customers_and_visitors(client, app, model):
    url = reverse(f"admin:{app}_{model}_changelist")
    assert client.get(url).status_code == 302
    client.force_login(CustomerFactory().user)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_staff_find_a_customer_in_one_search(staff_client):
    anna = CustomerFactory(email="anna.kim@example.com", first_name="Anna", last_name="Kim")
    CustomerFactory(email="other@example.com", first_name="Otto", last_name="Berg")
    url = reverse("admin:customers_customer_changelist")
    for term in ["anna.kim@example.com", "Kim", anna.referral_code]:
        page = staff_client.get(url, {"q": term}).content.decode()
        assert "anna.kim@example.com" in page and "other@example.com" not in page, term


def test_customer_list_leaves_staff_out_unless_asked(staff_client, django_user_model):
    CustomerFactory(email="anna.kim@example.com")
    colleague = CustomerFactory(email="sam@example.com")
    django_user_model.objects.filter(pk=colleague.user_id).update(is_staff=True)
    url = reverse("admin:customers_customer_changelist")
    page = staff_client.get(url).content.decode()
    assert "anna.kim@example.com" in page and "sam@example.com" not in page
    page = staff_client.get(url, {"account": "staff"}).content.decode()
    assert "sam@example.com" in page and "anna.kim@example.com" not in page
    page = staff_client.get(url, {"account": "all"}).content.decode()
    assert "sam@example.com" in page and "anna.kim@example.com" in page
