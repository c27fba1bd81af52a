"""The partner API's serializers copy their declared fields shallowly: each serializer still
gets fields of its own, and the declared ones stay untouched."""

import uuid

from rest_framework import serializers

from partners.serializers import ConversionInSerializer, CustomerSerializer, PartnerSerializer


def test_each_serializer_binds_fields_of_its_own():
    first, second = CustomerSerializer(), CustomerSerializer()
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
    # A nested serializer is copied whole: its own fields belong to the copy.
    assert first.fields["points"].fields["balance"].parent is first.fields["points"]


def test_the_declared_fields_stay_unbound():
    ConversionInSerializer(data={}).is_valid()
    for field in ConversionInSerializer._declared_fields.values():
        assert field.field_name is None
        assert getattr(field, "parent", None) is None


def test_errors_of_one_request_do_not_reach_the_next():
    bad = ConversionInSerializer(data={"customer": "x", "amount": "0", "currency": "EURO"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"customer", "order_id", "amount", "currency"}
    good = ConversionInSerializer(
        data={"customer": str(uuid.uuid4()), "order_id": "A-1", "amount": "9.50", "currency": "eur"}
    )
    assert good.is_valid(), good.errors
    assert isinstance(good.fields["amount"], serializers.DecimalField)


def test_a_field_with_a_child_is_copied_whole():
    class Tags(PartnerSerializer):
        tags = serializers.ListField(child=serializers.CharField())

    first, second = Tags(), Tags()
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["tags"].child.parent is first.fields["tags"]
