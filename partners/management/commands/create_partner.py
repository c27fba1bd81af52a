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

    def handle(self, *args, name: str, webhook_url: str, **options):
        if webhook_url:
            try:
                URLValidator(schemes=["http", "https"])(webhook_url)
            except ValidationError:
                raise CommandError(f"Not a URL: {webhook_url}") from None
        if Partner.objects.filter(name=name).exists():
            raise CommandError(f"A partner named {name!r} exists already.")
        partner, key = partner_create(name=name, webhook_url=webhook_url)
        self.stdout.write(f"Partner {partner.name} ({partner.public_id}) created.")
        self.stdout.write(f"Webhook secret: {partner.webhook_secret}")
        self.stdout.write("API key (shown once, store it now):")
        self.stdout.write(key)
