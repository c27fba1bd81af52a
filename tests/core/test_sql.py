"""Written-out statements: the same rows and answers as the ORM, without its compiling."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, JSONObject, Lower
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.sql import insert_rows, insert_selected, insert_unless_taken, row_locked, row_update
from customers.models import Conversion, Customer, Notice
from loyalty.ledger import customer_account
from loyalty.models import Account
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _purchase(customer, order_id):
    return Conversion(
        customer=customer,
        channel="shop",
        order_id=order_id,
        amount="10.00",
        currency="EUR",
        occurred_at=timezone.now(),
    )


def test_a_new_row_is_inserted_with_its_key_and_defaults():
    customer = CustomerFactory()
    purchase = _purchase(customer, "A-1")
    with CaptureQueriesContext(connection) as queries:
        assert insert_unless_taken(purchase) is True
    assert len(queries) == 1
    stored = Conversion.objects.get(pk=purchase.pk)
    assert (stored.public_id, stored.order_id, stored.created_at) == (
        purchase.public_id,
        "A-1",
        purchase.created_at,
    )
    assert not purchase._state.adding


def test_a_taken_row_writes_nothing_and_the_transaction_carries_on():
    customer = CustomerFactory()
    assert insert_unless_taken(_purchase(customer, "A-1"))
    with transaction.atomic():
        twin = _purchase(customer, "A-1")
        with CaptureQueriesContext(connection) as queries:
            assert insert_unless_taken(twin) is False
        assert twin.pk is None
        assert not any("SAVEPOINT" in query["sql"] for query in queries.captured_queries)
        # On PostgreSQL a failed statement would abort the transaction: this still works.
        assert insert_unless_taken(_purchase(customer, "A-2"))
    assert sorted(Conversion.objects.values_list("order_id", flat=True)) == ["A-1", "A-2"]


def test_a_row_breaking_another_constraint_is_refused_not_skipped():
    refused = _purchase(CustomerFactory(), "A-1")
    refused.occurred_at = None
    with pytest.raises(IntegrityError):
        insert_unless_taken(refused)


def test_an_expression_is_refused_before_anything_is_written():
    purchase = _purchase(CustomerFactory(), "A-1")
    purchase.amount = F("amount") + 1
    with pytest.raises(TypeError, match="amount"):
        insert_unless_taken(purchase)
    assert not Conversion.objects.exists()


def test_row_update_sets_adds_and_refuses_below_the_floor():

    account = customer_account(CustomerFactory())
    now = timezone.now()
    assert row_update(Account, account.pk, {"last_activity_at": now}, add={"settled_balance": 30})
    refused = row_update(
        Account,
        account.pk,
        {"last_activity_at": None},
        add={"settled_balance": -31},
        at_least={"settled_balance": 31},
    )
    assert refused is False
    stored = Account.objects.get(pk=account.pk)
    assert (stored.settled_balance, stored.last_activity_at) == (30, now)
    assert row_update(
        Account, account.pk, {}, add={"settled_balance": -30}, at_least={"settled_balance": 30}
    )
    assert Account.objects.get(pk=account.pk).settled_balance == 0
    assert row_update(Account, account.pk + 1000, {"last_activity_at": now}) is False


def test_a_row_read_written_out_equals_the_orms_field_for_field():

    customer = CustomerFactory()
    purchases = [_purchase(customer, "A-1"), _purchase(customer, "A-2")]
    insert_rows(purchases)
    assert [p.pk for p in purchases] == list(
        Conversion.objects.order_by("order_id").values_list("pk", flat=True)
    )
    fields = [field.attname for field in Conversion._meta.concrete_fields]
    with transaction.atomic():
        read = row_locked(Conversion, "public_id", purchases[1].public_id)
    stored = Conversion.objects.get(pk=purchases[1].pk)
    assert {name: getattr(read, name) for name in fields} == {
        name: getattr(stored, name) for name in fields
    }
    assert row_locked(Conversion, "order_id", "none") is None


def test_a_row_written_out_drops_what_a_save_would_drop_from_the_process_cache():
    from django.core.cache import caches

    from loyalty.earning import _EARN_RULE_KEY, earn_rule
    from loyalty.models import EarnRule

    rule = earn_rule()
    caches["local"].set(_EARN_RULE_KEY, rule, 60)
    assert row_update(EarnRule, rule.pk, {"first_review_bonus": rule.first_review_bonus + 5})
    assert caches["local"].get(_EARN_RULE_KEY) is None
    assert earn_rule().first_review_bonus == rule.first_review_bonus + 5


def test_a_conditional_update_changes_only_a_row_still_as_expected():
    purchase = _purchase(CustomerFactory(), "A-1")
    insert_unless_taken(purchase)
    assert row_update(Conversion, purchase.pk, {"channel": "x"}, where={"order_id": "B"}) is False
    assert row_update(Conversion, purchase.pk, {"channel": "x"}, where={"order_id": "A-1"})
    assert Conversion.objects.filter(pk=purchase.pk, order_id="A-1").get().channel == "x"


def _purchase_of(*, customer_id, public_id):
    return Conversion.objects.filter(customer_id=customer_id, public_id=public_id)


def test_a_compiled_read_answers_as_its_queryset_for_every_value():
    from core.sql import first_compiled_once

    first, second = CustomerFactory(), CustomerFactory()
    purchases = [_purchase(first, "A-1"), _purchase(second, "B-1")]
    insert_rows(purchases)
    fields = [field.attname for field in Conversion._meta.concrete_fields]
    for customer, purchase in zip([first, second], purchases, strict=True):
        read = first_compiled_once(
            _purchase_of, customer_id=customer.pk, public_id=purchase.public_id
        )
        stored = _purchase_of(customer_id=customer.pk, public_id=purchase.public_id).get()
        assert {name: getattr(read, name) for name in fields} == {
            name: getattr(stored, name) for name in fields
        }
    missing = first_compiled_once(
        _purchase_of, customer_id=second.pk, public_id=purchases[0].public_id
    )
    assert missing is None


def _customer_by_email(*, email):
    return Customer.objects.filter(user__email=email).select_related("user", "points_account")


def test_a_compiled_read_takes_text_and_reads_select_related_rows_along():
    from core.sql import first_compiled_once

    with_account, without = CustomerFactory(), CustomerFactory()
    customer_account(with_account)
    for customer in (with_account, without):
        read = first_compiled_once(_customer_by_email, email=customer.user.email)
        stored = _customer_by_email(email=customer.user.email).get()
        with CaptureQueriesContext(connection) as queries:
            assert (read.pk, read.user.email, read.user.pk) == (
                stored.pk,
                stored.user.email,
                stored.user.pk,
            )
            account = getattr(read, "points_account", None)
            stored_account = getattr(stored, "points_account", None)
            assert (account and account.pk) == (stored_account and stored_account.pk)
        assert not queries
    assert first_compiled_once(_customer_by_email, email="nobody@example.com") is None


def test_a_value_the_statement_does_not_carry_as_one_parameter_is_refused():
    from core.sql import first_compiled_once

    def both_ways(*, customer_id):
        return Conversion.objects.filter(customer_id=customer_id, id=customer_id)

    with pytest.raises(ValueError, match="customer_id"):
        first_compiled_once(both_ways, customer_id=1)


def test_any_of_finds_the_rows_whose_value_is_in_the_list_also_through_a_foreign_key():
    from django.db.models.functions import Upper

    from customers.models import Customer, User
    from tests.factories import CustomerFactory

    anna, _ben = CustomerFactory(email="Anna@example.com"), CustomerFactory()
    found = User.objects.annotate(key=Upper("email")).filter(key__any_of=["ANNA@EXAMPLE.COM"])
    assert list(found) == [anna.user]
    assert list(Customer.objects.filter(user_id__any_of=[anna.user_id])) == [anna]
    assert not Customer.objects.filter(user_id__any_of=[]).exists()


def test_copy_rows_refused_by_a_unique_constraint_raises_djangos_integrity_error():
    from django.db import IntegrityError, transaction

    from core.sql import copy_rows
    from customers.models import User

    rows = [{"email": "twice@example.com", "password": "!"}] * 2
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(User, rows)
    assert not User.objects.filter(email="twice@example.com").exists()


def test_insert_selected_writes_a_row_per_source_row_as_the_orm_would_and_skips_taken_ones():
    anna, ben = CustomerFactory(), CustomerFactory()
    Notice.objects.create(customer=anna, kind="hello", url="/", source_key="hello:anna")
    source = Customer.objects.filter(pk__in=[anna.pk, ben.pk])
    values = {
        "customer": F("pk"),
        "kind": "hello",
        "params": JSONObject(code=F("referral_code")),
        "url": "/",
        "source_key": Concat(Value("hello:"), Lower("user__first_name")),
        "created_at": timezone.now(),
    }
    anna.user.first_name, ben.user.first_name = "Anna", "Ben"
    for customer in (anna, ben):
        customer.user.save(update_fields=["first_name"])
    assert insert_selected(Notice, source, values) == 1
    written = Notice.objects.get(customer=ben)
    assert (written.kind, written.params, written.source_key) == (
        "hello",
        {"code": ben.referral_code},
        "hello:ben",
    )
    # Run again, every row's event already has its notice: nothing is written.
    assert insert_selected(Notice, source, values) == 0
    assert Notice.objects.count() == 2
