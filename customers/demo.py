"""Demo customers for `seed_demo`: a living portal for a newcomer's first look."""

from __future__ import annotations

import io
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from core.images import process_image
from customers.models import Connection, ContactPerson, Customer, Notice, User
from customers.notices import notice_create
from customers.services import (
    connection_befriend,
    connection_request,
    contact_person_photo_set,
    customer_create,
)

DEMO_PASSWORD = "kindred-demo"  # noqa: S105 - documented demo login, refused without DEBUG

DEMO_CUSTOMERS = [
    ("anna@example.com", "Anna", "Kim"),
    ("ben@example.com", "Ben", "Osei"),
    ("carla@example.com", "Carla", "Rossi"),
    ("dev@example.com", "Dev", "Patel"),
    ("elif@example.com", "Elif", "Demir"),
]


def _portrait(initials: str) -> SimpleUploadedFile:
    picture = Image.new("RGB", (400, 400), (46, 125, 110))
    ImageDraw.Draw(picture).text((150, 170), initials, fill=(255, 255, 255), font_size=80)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return SimpleUploadedFile("portrait.png", buffer.getvalue())


def _user(email: str, first: str, last: str, *, staff: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=DEMO_PASSWORD, first_name=first, last_name=last
        )
        user.is_staff = user.is_superuser = staff
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    # Staff run the program; they are not its customers (no referral code, no points).
    if not staff and not Customer.objects.filter(user=user).exists():
        customer_create(user=user)
    return user


def demo_customers() -> QuerySet[Customer]:
    """The customers seed_demo made: not everyone with an @example.com address, since a
    newcomer trying the portal signs up with one too."""
    return Customer.objects.filter(user__email__in=[email for email, _, _ in DEMO_CUSTOMERS])


def seed() -> str:
    """Staff, a contact person with a photo, five customers and their friends."""
    staff = _user("staff@example.com", "Sam", "Rivera", staff=True)
    contact, created = ContactPerson.objects.get_or_create(
        user=staff,
        defaults={
            "name": "Sam Rivera",
            "role": "Customer care",
            "bio": "I look after our regulars. Tell me what you like and I'll keep an eye out.",
            "email": "sam@example.com",
            "phone": "+44 20 7946 0000",
        },
    )
    if created:
        contact_person_photo_set(contact=contact, photo=process_image(_portrait("SR")))
    users = [_user(email, first, last) for email, first, last in DEMO_CUSTOMERS]
    customers = [user.customer for user in users]
    Customer.objects.filter(pk__in=[c.pk for c in customers], contact_person=None).update(
        contact_person=contact
    )
    anna, ben, carla, dev, _elif = customers
    connection_befriend(customer=anna, other=ben)
    connection_befriend(customer=anna, other=carla, relation=Connection.Relation.FAMILY)
    if not Connection.objects.filter(requester=dev, addressee=anna).exists():
        connection_request(requester=dev, addressee=anna, relation=Connection.Relation.COLLEAGUE)
    _demo_notices(anna=anna, ben=ben, carla=carla)
    return f"{len(customers)} customers, 1 contact person"


def _demo_notices(*, anna: Customer, ben: Customer, carla: Customer) -> None:
    """A few notices so that a newcomer sees the bell with a count, one of them read.

    The kinds belong to the apps above (they register the wording); here they are only
    names, so the bottom app imports none of them.
    """
    now = timezone.now()
    demo = [
        ("friend_joined", {"source": "link"}, ben, reverse("referrals:invite"), 3),
        ("gift_received", {"from_friend": True, "points": 50}, ben, reverse("loyalty:history"), 2),
        ("reward_settled", {"points": 500, "reward": "referral_reward"}, None,
         reverse("loyalty:history"), 1),
        ("connection_accepted", {}, carla, reverse("customers:friends"), 0),
    ]  # fmt: skip
    for number, (kind, params, actor, url, days_ago) in enumerate(demo):
        notice = notice_create(
            customer=anna,
            kind=kind,
            params=params,
            actor=actor,
            url=url,
            source_key=f"demo:{number}",
        )
        if notice is not None:
            read_at = now - timedelta(days=days_ago) if days_ago == 3 else None
            Notice.objects.filter(pk=notice.pk).update(
                created_at=now - timedelta(days=days_ago, hours=number), read_at=read_at
            )
