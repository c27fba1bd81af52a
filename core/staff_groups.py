"""Staff groups with only what each job needs (least privilege), kept in step by migrate.

Support answers customers; marketing runs programs, campaigns and moderation; finance
looks after points, vouchers and adjustments. Only superusers see the access trail.
An admin action that changes or discloses more than its list shows needs a permission of
its own (erase, export, moderate, reverse, void, decide, review): viewing a list is never
enough to act on it.
Permissions are named as strings, so this module imports no other app; a permission of
an app that is not installed (yet) is skipped and added by a later migrate.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

STAFF_GROUPS: dict[str, list[str]] = {
    "Support": [
        "customers.view_customer",
        "customers.change_customer",
        # Customers ask customer service for their data and for erasure.
        "customers.export_customer",
        "customers.erase_customer",
        "customers.view_user",
        "customers.view_connection",
        "customers.view_conversion",
        "customers.view_consentrecord",
        "customers.view_dataexport",
        "customers.view_contactperson",
        "referrals.view_invitation",
        "referrals.change_invitation",
        "referrals.view_referral",
        "referrals.view_suppression",
        # Contact persons and the staff behind them work the introductions' queue.
        "referrals.view_introduction",
        "referrals.view_introductionmove",
        "referrals.move_introduction",
        "loyalty.view_account",
        "loyalty.view_transaction",
        "loyalty.view_voucher",
        "reviews.view_review",
        "reviews.view_feedbackalert",
        "reviews.change_feedbackalert",
        # Support sees which questions wait for an answer, and answers them on the portal.
        "reviews.view_question",
        "reviews.view_answer",
    ],
    "Marketing": [
        "customers.view_customer",
        # Marketing runs the programs, so it judges the referrals their fraud rules hold.
        "referrals.view_referral",
        "referrals.review_referral",
        "referrals.view_referralprogram",
        "referrals.add_referralprogram",
        "referrals.change_referralprogram",
        "loyalty.view_reward",
        "loyalty.add_reward",
        "loyalty.change_reward",
        "loyalty.view_tier",
        "loyalty.change_tier",
        "loyalty.view_earnrule",
        "loyalty.change_earnrule",
        "loyalty.view_giftcampaign",
        "loyalty.add_giftcampaign",
        "reviews.view_subject",
        "reviews.add_subject",
        "reviews.change_subject",
        "reviews.view_review",
        "reviews.change_review",
        "reviews.moderate_review",
        "reviews.export_review",
        "reviews.view_reply",
        "reviews.add_reply",
        "reviews.change_reply",
        "reviews.view_reviewpolicy",
        "reviews.change_reviewpolicy",
        "reviews.view_question",
        "reviews.change_question",
        "reviews.moderate_question",
        "reviews.view_answer",
        "reviews.change_answer",
        "reviews.moderate_answer",
    ],
    "Finance": [
        "customers.view_conversion",
        "loyalty.view_account",
        "loyalty.view_transaction",
        "loyalty.reverse_transaction",
        "loyalty.view_entry",
        "loyalty.view_voucher",
        "loyalty.change_voucher",
        "loyalty.void_voucher",
        "loyalty.view_exchangerate",
        "loyalty.add_exchangerate",
        "loyalty.change_exchangerate",
        "loyalty.view_adjustmentrequest",
        "loyalty.add_adjustmentrequest",
        "loyalty.change_adjustmentrequest",
        "loyalty.decide_adjustmentrequest",
    ],
}


def staff_groups_sync(*, plan=None, **kwargs) -> None:
    """post_migrate receiver: create the groups and grant what exists of their permissions.

    Only after a real `migrate` (which passes its plan): a test database flush also sends
    post_migrate, and rows made then would collide with a serialized rollback's copy.
    """
    if plan is None:
        return
    for name, permissions in STAFF_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        query = Q(pk__in=[])
        for permission in permissions:
            app_label, codename = permission.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(query))
