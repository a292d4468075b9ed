"""The product's settings plus the benchmark's floor view."""

from evently.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
