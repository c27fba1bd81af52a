"""The partner API's serializers: each request's serializer binds fields of its own, so
nothing of one request (bound parents, errors) reaches the next."""

import uuid

import pytest
from rest_framework import serializers

from partners.serializers import ConversionInSerializer, CustomerSerializer


def test_each_serializer_binds_fields_of_its_own():
    first, second = CustomerSerializer(), CustomerSerializer()
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
    assert first.fields["points"].fields["balance"].parent is first.fields["points"]


def test_errors_of_one_request_do_not_reach_the_next():
    bad = ConversionInSerializer(data={"customer": "x", "amount": "0", "currency": "EURO"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"customer", "order_id", "amount", "currency"}
    good = ConversionInSerializer(
        data={"customer": str(uuid.uuid4()), "order_id": "A-1", "amount": "9.50", "currency": "eur"}
    )
    assert good.is_valid(), good.errors
    assert isinstance(good.fields["amount"], serializers.DecimalField)


@pytest.mark.django_db
def test_the_detail_read_answers_as_a_serializer_made_for_it_would():
    from partners.selectors import partner_customer
    from partners.serializers import customer_representation
    from partners.services import partner_customer_upsert
    from tests.partners.factories import PartnerFactory

    partner = PartnerFactory()
    customers = [
        partner_customer_upsert(partner=partner, email=f"c{n}@example.com", external_id=f"e{n}")[0]
        for n in range(2)
    ]
    for customer in customers * 2:
        read = partner_customer(partner=partner, public_id=customer.public_id)
        assert customer_representation(read) == CustomerSerializer(read).data
    read.link = "pending"
    assert customer_representation(read) == {
        "id": str(read.public_id),
        "external_id": read.external_id,
        "link": "pending",
    }
