"""The plain floor: Django alone, no middleware and no installed app."""

from bench.floors.base_settings import *  # noqa: F403

ROOT_URLCONF = "bench.floors.plain"
