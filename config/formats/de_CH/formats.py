"""Django's de_CH formats, with the Swiss thousands separator: 20'000 points."""

from django.conf.locale.de_CH.formats import *  # noqa: F403

THOUSAND_SEPARATOR = "'"
