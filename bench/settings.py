"""Production settings plus one bare view, the ceiling the API benchmarks compare against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
