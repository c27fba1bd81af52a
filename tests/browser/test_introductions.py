"""A warm introduction in a real browser: Anna introduces Ben, Ben says yes from the email,
staff move it to won in the admin, and Anna sees her points held."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from core.images import process_image
from customers.models import User
from customers.services import contact_person_photo_set
from referrals.introductions import introduction_accepted_send, introduction_consent_send
from referrals.models import Introduction
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import DESKTOP, PHONE, enter_second_factor, log_in, watch_pages
from tests.factories import PASSWORD, ContactPersonFactory
from tests.referrals.factories import active_program
from tests.support import second_factor_add

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LINK = re.compile(r"https?://\S+")


def _checked(page, screenshot: str) -> None:
    """Accessible at 1280 px and at 375 px, and photographed at both sizes."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert_accessible(page)
        page.screenshot(path=SCREENSHOTS / f"{screenshot}-{size['width']}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def _portrait() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (40, 110, 97)).save(buffer, format="JPEG")
    return SimpleUploadedFile("maria.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def browser_context(browser, live_server, settings):
    """A fresh desktop browser (own cookies) per person; email links lead to the live server."""
    settings.SITE_URL = live_server.url
    contexts = []

    def open_page():
        context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
        refused, conflicted = watch_pages(context)
        contexts.append((context, refused, conflicted))
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context, refused, conflicted in contexts:
        context.close()
        assert not refused, f"The portal broke its own Content-Security-Policy: {refused}"
        assert not conflicted, f"A page showed merge conflict markers: {conflicted}"


def test_customer_introduces_a_friend_who_says_yes_and_the_win_holds_her_points(
    browser_context, customer
):
    active_program(introduction_points=800, hold_days=14)
    maria = ContactPersonFactory(
        name="Maria Rossi", role="Kitchen planner", phone="+41 44 000 00 00"
    )
    contact_person_photo_set(
        contact=maria, photo=process_image(_portrait(), size=(400, 400), thumb=(120, 120))
    )
    customer.contact_person = maria
    customer.save(update_fields=["contact_person"])
    staff_secret = second_factor_add(
        User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    )

    # Anna introduces Ben; a bad address first, then the right one.
    anna = browser_context()
    log_in(anna, customer.user.email)
    anna.goto("/me/invite/")
    anna.get_by_role("link", name="Introduce them to your contact person").click()
    anna.wait_for_url("**/me/introductions/")
    anna.get_by_label("Your friend's name").fill("Ben")
    anna.get_by_label("Your friend's email address").fill(customer.user.email)
    anna.get_by_label("What they are looking for").fill("a new kitchen")
    anna.get_by_label("A personal note (optional)").fill("Ben moves in May.")
    anna.get_by_role("button", name="Ask my friend").click()
    expect(anna.get_by_text("That's your own address.")).to_be_visible()
    anna.get_by_label("Your friend's email address").fill("ben@example.org")
    anna.get_by_role("button", name="Ask my friend").click()
    expect(anna.get_by_text("We asked Ben by email")).to_be_visible()
    expect(anna.get_by_role("cell", name="Waiting for your friend's answer")).to_be_visible()
    _checked(anna, "introductions")

    # The worker's service asks Ben; he says yes from the email's link.
    introduction = Introduction.objects.get()
    assert introduction_consent_send(introduction_id=introduction.pk)
    (question,) = [message for message in mail.outbox if message.to == ["ben@example.org"]]
    link = next(url for url in LINK.findall(question.body) if "/introductions/" in url)
    ben = browser_context()
    ben.goto(link)
    expect(ben.get_by_role("heading", name="Meet Maria Rossi?")).to_be_visible()
    expect(ben.get_by_text("about: a new kitchen")).to_be_visible()
    _checked(ben, "introduction-question")
    ben.get_by_role("button", name="Yes, introduce me").click()
    expect(ben.get_by_role("heading", name="Maria Rossi will be in touch")).to_be_visible()
    expect(ben.get_by_role("img", name="Photo of Maria Rossi")).to_be_visible()
    expect(ben.get_by_role("link", name="+41 44 000 00 00")).to_be_visible()
    _checked(ben, "introduction-yes")
    assert introduction_accepted_send(introduction_id=introduction.pk)

    # Staff find it in the queue and move it to won with a note.
    staff = browser_context()
    staff.goto("/admin/login/?next=/admin/referrals/introduction/?queue=open")
    staff.get_by_label("Email").fill("staff@example.com")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in", exact=True).click()
    enter_second_factor(staff, staff_secret, then="**/admin/referrals/introduction/**")
    staff.locator(f'input[name="_selected_action"][value="{introduction.pk}"]').check()
    staff.locator("select[name=action]").select_option(label="Move to another stage, with a note")
    staff.get_by_role("button", name="Go").click()
    staff.get_by_label("Move to").select_option(label="Won")
    staff.get_by_label("Note").fill("Kitchen ordered")
    staff.screenshot(path=SCREENSHOTS / "introduction-move-1280.png", full_page=True)
    staff.get_by_role("button", name="Confirm").click()
    expect(staff.get_by_text("1 introduction moved.")).to_be_visible()
    staff.goto("/admin/dashboard/")
    section = staff.get_by_role("region", name="Warm introductions")
    expect(section.get_by_role("row", name="Won 1").first).to_be_visible()
    staff.screenshot(path=SCREENSHOTS / "introduction-dashboard-1280.png", full_page=True)

    # Anna sees the win and her points on hold.
    anna.goto("/me/introductions/")
    expect(anna.get_by_role("cell", name="Won", exact=True)).to_be_visible()
    expect(anna.get_by_text(re.compile(r"800 points, on hold until"))).to_be_visible()
    _checked(anna, "introductions-won")
    anna.goto("/me/notices/")
    expect(
        anna.get_by_role("link", name="Ben became a customer through your introduction.")
    ).to_be_visible()
