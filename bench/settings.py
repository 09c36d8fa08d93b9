"""The app's settings plus one page of the benchmark's own: a bare signed-in view."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
