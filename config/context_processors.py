from django.conf import settings


def business(request):
    """The business's name, shown in the portal's header and footer."""
    return {"business_name": settings.BUSINESS_NAME}
