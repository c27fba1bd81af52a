"""A partner's developer generates a client from the schema (openapi-python-client) and runs
the partner flow through it against a running server: a purchase (with no referrer, so a
null referral reward), a redemption, and errors parsed into their documented shapes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.loyalty.factories import RewardFactory
from tests.partners.contract import partner_schema
from tests.partners.factories import PartnerFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def kindred_client(tmp_path_factory):
    """The client package generated from the served schema, imported."""
    workdir = tmp_path_factory.mktemp("generated")
    (workdir / "schema.json").write_text(json.dumps(partner_schema()))
    (workdir / "config.yml").write_text(
        "post_hooks: []\nproject_name_override: kindred_client\n"
        "package_name_override: kindred_client\n"
    )
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", "schema.json", "--config", "config.yml",
         "--meta", "none", "--output-path", str(workdir / "kindred_client")],
        cwd=workdir, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module("kindred_client")
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name.startswith("kindred_client")]:
            del sys.modules[name]


def _key() -> str:
    return str(uuid.uuid4())


def test_a_generated_client_runs_a_purchase_a_redemption_and_an_error(kindred_client, live_server):
    from kindred_client import AuthenticatedClient
    from kindred_client.api.conversions import conversions_create
    from kindred_client.api.customers import customers_create, customers_points_create
    from kindred_client.api.redemptions import redemptions_create
    from kindred_client.models import (
        ConversionInRequest,
        CustomerInRequest,
        Error,
        FieldErrors,
        PointsAwardRequest,
        RedemptionInRequest,
    )

    partner = PartnerFactory(kind="own")
    reward = RewardFactory(points_cost=100)
    client = AuthenticatedClient(
        base_url=live_server.url, token=partner.key, prefix="Api-Key",
        raise_on_unexpected_status=True,
    )  # fmt: skip

    with client as api:
        customer = customers_create.sync(
            client=api,
            body=CustomerInRequest(external_id="shop-1", email="anna@example.com"),
            idempotency_key=_key(),
        )
        assert customer.link.value == "active" and customer.points.balance == 0

        order = ConversionInRequest(
            customer=customer.id, order_id="A-1", amount="120.00", currency="EUR"
        )
        purchase = conversions_create.sync_detailed(client=api, body=order, idempotency_key=_key())
        assert purchase.status_code == 201
        assert purchase.parsed.referral_reward is None and purchase.parsed.points_earned > 0

        duplicate = conversions_create.sync_detailed(client=api, body=order, idempotency_key=_key())
        assert duplicate.status_code == 409 and isinstance(duplicate.parsed, Error)
        assert duplicate.parsed.code == "duplicate_order"

        invalid = conversions_create.sync_detailed(
            client=api,
            body=ConversionInRequest(
                customer=uuid.uuid4(), order_id="A-2", amount="1.00", currency="EUR"
            ),
            idempotency_key=_key(),
        )
        assert invalid.status_code == 400 and isinstance(invalid.parsed, FieldErrors)
        assert invalid.parsed["customer"] == ["Unknown customer."]

        customers_points_create.sync(
            str(customer.id),
            client=api,
            body=PointsAwardRequest(points=500, reason="Welcome"),
            idempotency_key=_key(),
        )
        redemption = redemptions_create.sync_detailed(
            client=api,
            body=RedemptionInRequest(customer=customer.id, reward=reward.public_id),
            idempotency_key=_key(),
        )
        assert redemption.status_code == 201
        assert redemption.parsed.points_spent == 100
        assert redemption.parsed.voucher.status.value == "active"
        assert redemption.parsed.voucher.expires_at.tzinfo is not None

        again = redemptions_create.sync_detailed(
            client=api,
            body=RedemptionInRequest(customer=customer.id, reward=reward.public_id),
            idempotency_key="same-key",
        )
        replayed = redemptions_create.sync_detailed(
            client=api,
            body=RedemptionInRequest(customer=customer.id, reward=reward.public_id),
            idempotency_key="same-key",
        )
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.parsed.id == again.parsed.id
