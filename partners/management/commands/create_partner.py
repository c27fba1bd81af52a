from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator

from partners.models import Partner
from partners.services import partner_create


class Command(BaseCommand):
    help = "Create a partner and its first API key; the key is printed alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--webhook-url", default="", help="Where webhooks are POSTed.")
        parser.add_argument(
            "--kind",
            choices=Partner.Kind.values,
            default=Partner.Kind.MERCHANT,
            help="own: a site of the business (links at once); merchant: a partner business "
            "(links a member only after their yes). Default: merchant.",
        )

    def handle(self, *args, name: str, webhook_url: str, kind: str, **options):
        if webhook_url:
            try:
                URLValidator(schemes=["http", "https"])(webhook_url)
            except ValidationError:
                raise CommandError(f"Not a URL: {webhook_url}") from None
        if Partner.objects.filter(name=name).exists():
            raise CommandError(f"A partner named {name!r} exists already.")
        partner, key = partner_create(name=name, webhook_url=webhook_url, kind=kind)
        self.stdout.write(f"Partner {partner.name} ({partner.public_id}, {kind}) created.")
        self.stdout.write(f"Webhook secret: {partner.webhook_secret}")
        self.stdout.write("API key (shown once, store it now):")
        self.stdout.write(key)
