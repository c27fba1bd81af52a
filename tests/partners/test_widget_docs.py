"""The token signing examples in docs/widget.md, checked by Kindred's own token check."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from partners.services import partner_customer_upsert
from partners.widget.tokens import token_customer
from tests.factories import CustomerFactory
from tests.partners.factories import PartnerFactory
from tests.partners.test_docs_examples import example

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked():
    partner = PartnerFactory()
    customer = CustomerFactory(email="anna@example.com")
    partner_customer_upsert(partner=partner, external_id="shop-42", email="anna@example.com")
    return partner, customer


def test_the_python_example_signs_a_token_kindred_accepts(linked, settings):
    partner, customer = linked
    namespace: dict = {}
    exec(example("widget-token-python", "python", doc="widget.md"), namespace)  # noqa: S102
    sign = namespace["kindred_customer_token"]
    assert (
        token_customer(
            partner=partner, token=sign(partner.widget_secret, settings.SITE_URL, "shop-42")
        )
        == customer
    )
    assert (
        token_customer(
            partner=partner, token=sign("wsec_" + "x" * 40, settings.SITE_URL, "shop-42")
        )
        is None
    )


def test_the_javascript_example_signs_a_token_kindred_accepts(linked, settings, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    partner, customer = linked
    script = tmp_path / "sign.js"
    script.write_text(
        example("widget-token-javascript", "javascript", doc="widget.md")
        + "\nconst [secret, site, id] = process.argv.slice(2);"
        + "\nprocess.stdout.write(kindredCustomerToken(secret, site, id));\n"
    )
    token = subprocess.run(
        [node, str(script), partner.widget_secret, settings.SITE_URL, "shop-42"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert token_customer(partner=partner, token=token) == customer
