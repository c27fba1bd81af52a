"""Every write to customers, contact persons and the friends list."""

from __future__ import annotations

import secrets

from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.emails import email_send
from core.images import ProcessedImage
from customers.fragments import friends_changed
from customers.languages import language_for_recipient
from customers.models import (
    REFERRAL_CODE_ALPHABET,
    REFERRAL_CODE_LENGTH,
    Connection,
    ConsentRecord,
    ContactPerson,
    Customer,
    StaffAccess,
    User,
)
from customers.privacy import CONSENT_FIELDS, consent_set, staff_access_record
from customers.signals import connection_confirmed


class FriendsListError(Exception):
    """A friends-list request that cannot be made; the message is for the customer."""


_CODES = len(REFERRAL_CODE_ALPHABET) ** REFERRAL_CODE_LENGTH


def referral_code_generate() -> str:
    """A random, non-sequential code from an alphabet without look-alike characters.

    One 64-bit draw written in base 31, rather than a draw per character: an import makes
    a code per row. 2**64 is so much larger than 31**8 that the modulo's bias is below
    one in ten million.
    """
    number = secrets.randbits(64) % _CODES
    characters = []
    for _position in range(REFERRAL_CODE_LENGTH):
        number, digit = divmod(number, len(REFERRAL_CODE_ALPHABET))
        characters.append(REFERRAL_CODE_ALPHABET[digit])
    return "".join(characters)


def _default_contact_person() -> ContactPerson | None:
    # New customers are spread over the active contact persons by who has fewest.
    return (
        ContactPerson.objects.filter(is_active=True)
        .annotate(load=Count("customers"))
        .order_by("load", "pk")
        .first()
    )


def customer_create(*, user: User, **profile) -> Customer:
    """Create the customer profile that every user has, with a unique referral code.

    A code collision (31^8 codes, so rare) is retried inside a savepoint; the
    unique constraint, not a lookup, decides.
    """
    profile.setdefault("contact_person", _default_contact_person())
    if profile.get("marketing_consent"):
        profile.setdefault("marketing_consent_at", timezone.now())
    for _attempt in range(10):
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    user=user, referral_code=referral_code_generate(), **profile
                )
        except IntegrityError:
            concurrent = Customer.objects.filter(user=user).first()
            if concurrent is not None:
                return concurrent
    raise RuntimeError("Could not find a free referral code after 10 attempts.")


def customer_for_user(*, user: User) -> Customer:
    """The signed-in user's customer profile; users made outside signup (createsuperuser)
    get theirs on first visit (`customer_create` is safe against a concurrent first visit,
    so the read, on every page, needs no transaction of its own)."""
    try:
        # Loaded with the signed-in user (customers/backends.py); a query for other users.
        return user.customer
    except Customer.DoesNotExist:
        customer = customer_create(user=user)
    # Kept on the user for the rest of the request: what reads `user.customer` later (the
    # request log names the customer) then costs no query.
    user.customer = customer
    return customer


def user_create(
    *, email: str, password: str | None = None, first_name: str = "", last_name: str = "", **profile
) -> Customer:
    """Create a user and their customer profile together (admin, API, demo data)."""
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    return customer_create(user=user, **profile)


def customer_welcome(*, customer: Customer) -> None:
    """Store the welcome email (which introduces their contact person) in the outbox, in
    the caller's transaction."""
    customer_welcome_send(customer_id=customer.pk)


def customer_welcome_send(*, customer_id: int) -> bool:
    """Store the welcome email unless it was asked for already; returns whether it was now."""
    with transaction.atomic():
        if not Customer.objects.filter(pk=customer_id, welcomed_at__isnull=True).update(
            welcomed_at=timezone.now()
        ):
            return False
        customer = Customer.objects.select_related("user", "contact_person").get(pk=customer_id)
        email_send(
            to=customer.user.email,
            template="welcome",
            context={"customer": customer, "contact": customer.contact_person},
            language=language_for_recipient(customer),
        )
    return True


def customer_language_set(*, user: User, language: str) -> None:
    """Save the language a customer chose in the portal's switcher on their profile."""
    Customer.objects.filter(user=user).update(language=language)


def customer_profile_update(
    *, customer: Customer, source: str = ConsentRecord.Source.PROFILE, **fields
) -> Customer:
    """Save profile fields; consent changes go through `consent_set`, which keeps the proof."""
    consents = {topic: fields.pop(name) for topic, name in CONSENT_FIELDS.items() if name in fields}
    with transaction.atomic():
        # A ModelForm has already set the new consent on the instance: compare with the row.
        stored = Customer.objects.values(*CONSENT_FIELDS.values()).get(pk=customer.pk)
        for name, value in {**stored, **fields}.items():
            setattr(customer, name, value)
        customer.save()
        for topic, granted in consents.items():
            consent_set(customer=customer, topic=topic, granted=granted, source=source)
    return customer


def _photo_store(instance, *, photo: ProcessedImage, field: str, thumb_field: str) -> None:
    """Save a processed photo and its thumbnail on a model, removing the files they replace."""
    image, thumbnail = getattr(instance, field), getattr(instance, thumb_field)
    replaced = [image.name, thumbnail.name]
    image.save(photo.image.name, photo.image, save=False)
    thumbnail.save(photo.thumbnail.name, photo.thumbnail, save=False)
    instance.save(update_fields=[field, thumb_field])
    for name in replaced:
        if name:
            image.storage.delete(name)


def customer_avatar_set(*, customer: Customer, photo: ProcessedImage) -> Customer:
    """Replace the avatar with a photo from the pipeline in `core.images`."""
    _photo_store(customer, photo=photo, field="avatar", thumb_field="avatar_thumbnail")
    return customer


def contact_person_photo_set(*, contact: ContactPerson, photo: ProcessedImage) -> ContactPerson:
    _photo_store(contact, photo=photo, field="photo", thumb_field="photo_thumbnail")
    return contact


def connection_request(
    *, requester: Customer, addressee: Customer, relation: str = Connection.Relation.FRIEND
) -> Connection:
    """Ask another customer to join one's friends list.

    If they already asked us, this confirms their request instead; a declined
    pair may be asked again.
    """
    if requester.pk == addressee.pk:
        raise FriendsListError(_("You can't add yourself."))
    with transaction.atomic():
        existing = (
            Connection.objects.select_for_update()
            .filter(
                Q(requester=requester, addressee=addressee)
                | Q(requester=addressee, addressee=requester)
            )
            .first()
        )
        if existing is None:
            try:
                with transaction.atomic():
                    return Connection.objects.create(
                        requester=requester, addressee=addressee, relation=relation
                    )
            except IntegrityError:
                raise FriendsListError(_("You have already asked this person.")) from None
        if existing.status == Connection.Status.CONFIRMED:
            raise FriendsListError(_("You are already connected."))
        if existing.status == Connection.Status.PENDING:
            if existing.addressee_id == requester.pk:
                return connection_respond(connection=existing, by=requester, accept=True)
            raise FriendsListError(_("You have already asked this person."))
        existing.requester, existing.addressee = requester, addressee
        existing.relation = relation
        existing.status = Connection.Status.PENDING
        existing.responded_at = None
        existing.save()
        return existing


def connection_request_by_email(
    *, requester: Customer, email: str, relation: str = Connection.Relation.FRIEND
) -> Connection | None:
    """Ask whoever has this address to join one's friends list.

    The requester must not learn whether the address belongs to a member: the
    member gets the request, and nobody else learns anything. So an unknown
    address, a request already made and a friend already on the list all come
    back as None, for the caller to answer alike; only a request that confirms
    one the other member had already made comes back (confirmed).
    """
    from customers.selectors import customer_by_email

    addressee = customer_by_email(email)
    if addressee is not None and addressee.pk == requester.pk:
        raise FriendsListError(_("You can't add yourself."))
    if addressee is None:
        return None
    try:
        connection = connection_request(requester=requester, addressee=addressee, relation=relation)
    except FriendsListError:
        return None
    return connection if connection.status == Connection.Status.CONFIRMED else None


def connection_respond(*, connection: Connection, by: Customer, accept: bool) -> Connection:
    """The addressee confirms or declines a pending request (compare-and-swap)."""
    if connection.addressee_id != by.pk:
        raise FriendsListError(_("Only the person asked can answer this request."))
    status = Connection.Status.CONFIRMED if accept else Connection.Status.DECLINED
    now = timezone.now()
    with transaction.atomic():
        changed = Connection.objects.filter(
            pk=connection.pk, status=Connection.Status.PENDING
        ).update(status=status, responded_at=now)
        if not changed:
            raise FriendsListError(_("This request has already been answered."))
        connection.status, connection.responded_at = status, now
        if accept:
            friends_changed(connection.requester_id, connection.addressee_id)
            connection_confirmed.send(sender=Connection, connection=connection)
        else:
            # Off the addressee's page; the requester never saw the request.
            friends_changed(connection.addressee_id)
    return connection


def connection_befriend(
    *, customer: Customer, other: Customer, relation: str = Connection.Relation.FRIEND
) -> Connection:
    """Make two customers confirmed friends at once (a referral joins them, for example)."""
    with transaction.atomic():
        existing = Connection.objects.filter(
            Q(requester=customer, addressee=other) | Q(requester=other, addressee=customer)
        ).first()
        if existing is None:
            return Connection.objects.create(
                requester=customer,
                addressee=other,
                relation=relation,
                status=Connection.Status.CONFIRMED,
                responded_at=timezone.now(),
            )
        if existing.status != Connection.Status.CONFIRMED:
            existing.status = Connection.Status.CONFIRMED
            existing.responded_at = timezone.now()
            existing.save(update_fields=["status", "responded_at"])
        return existing


def connection_remove(*, connection: Connection, by: Customer) -> None:
    if by.pk not in (connection.requester_id, connection.addressee_id):
        raise FriendsListError(_("This is not your connection."))
    connection.delete()


def staff_second_factor_reset(*, superuser: User, member: User, path: str = "") -> int:
    """Remove every second factor (app, keys, recovery codes) of a staff member who lost
    theirs, so the admin sends them to set up a new one; the reset is in the access trail.

    Only a superuser may: a second factor is what stands between a stolen staff
    password and the admin. Returns the number of authenticators removed.
    """
    if not superuser.is_superuser:
        raise PermissionDenied("Only a superuser resets a second factor.")
    with transaction.atomic():
        removed, _by_model = Authenticator.objects.filter(user=member).delete()
        staff_access_record(
            staff=superuser,
            customer=customer_for_user(user=member),
            action=StaffAccess.Action.RESET_SECOND_FACTOR,
            path=path,
        )
    return removed
