"""One-line text: names, venues and titles.

They end up in places where a line break means something else: an e-mail's subject (a newline
there makes the message unsendable, and is how headers are injected), a CSV row, a log line.
So a control character in them (C0 and C1, DEL, and the Unicode line and paragraph separators)
is refused where the text comes in, with a 400 naming the field, and never stored.
"""

from django.core.validators import RegexValidator
from django.db import models

# Every character class here is one pass over the text, whatever it holds: no pattern may
# backtrack quadratically over a request body.
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# What Python's str.strip(), and so DRF's trimming CharField, takes for white space.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
MESSAGE = "Must be one line: no line breaks, tabs or other control characters."

one_line = RegexValidator(rf"\A[^{_CONTROL}]*\Z", message=MESSAGE, code="one_line")

# The same check for a field that may not be blank. Blank text is refused before validators
# run; the pattern states that rule too, so generated clients (and the schema tests) know that
# only white space is not a name. Leading white space here can only be the non-control kind, and
# that class and the next are disjoint, so the match never backtracks. No lookahead: schema-driven
# generators cannot build strings from one and would filter most of what they generate.
_PLAIN_SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
one_line_not_blank = RegexValidator(
    rf"\A[{_PLAIN_SPACE}]*[^{_CONTROL}{_PLAIN_SPACE}][^{_CONTROL}]*\Z",
    message=MESSAGE,
    code="one_line",
)


class OneLineCharField(models.CharField):
    """A CharField whose forms (the admin's, `createsuperuser`'s prompts) refuse control
    characters (`one_line`).

    Its migrations see a plain CharField: the validator is code, not schema, and Django
    writes no field's default validators into migrations either.
    """

    default_validators = [one_line]

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs
