from django.urls import re_path
from rest_framework.routers import SimpleRouter


def route(path: str, view, name: str):
    """A route that answers with and without a trailing slash, without redirecting."""
    return re_path(rf"^{path}/?$", view, name=name)


class Router(SimpleRouter):
    """A router whose routes also answer with and without a trailing slash."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
