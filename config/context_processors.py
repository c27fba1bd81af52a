from django.conf import settings

from customers.models import Customer

# The switcher offers the languages; regions (de-ch) come from the browser or the profile.
PORTAL_LANGUAGES = [(code, name) for code, name in Customer.Language.choices if "-" not in code]


def business(request):
    """The business's name (header and footer) and the languages the switcher offers."""
    return {"business_name": settings.BUSINESS_NAME, "PORTAL_LANGUAGES": PORTAL_LANGUAGES}
