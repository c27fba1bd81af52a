"""Django's fr_CH formats, with the Swiss thousands separator: 20'000 points."""

from django.conf.locale.fr_CH.formats import *  # noqa: F403

THOUSAND_SEPARATOR = "'"
