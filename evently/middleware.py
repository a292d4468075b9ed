from django.conf import settings

from evently.problems import problem_response


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads them.

    Django enforces that limit only on form data; DRF's JSON parser reads the raw stream.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return problem_response(
                413, "request_too_large", f"The request body is larger than {limit} bytes."
            )
        return self.get_response(request)
