"""Every API operation has a summary: ReDoc and Swagger UI head each operation with it, and
fall back to the operation id ("bookings_cancel_put") where there is none."""

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.mark.django_db
def test_every_operation_has_a_summary_that_reads_as_a_sentence():
    found = operations()
    assert len(found) > 30  # the walk saw the whole API
    missing = [f"{method} {path}" for method, path, op in found if not op.get("summary")]
    assert not missing, f"operations without a summary (extend_schema(summary=...)): {missing}"
    for method, path, operation in found:
        summary = operation["summary"]
        assert summary[0].isupper() and "_" not in summary, (method, path, summary)
        assert not summary.endswith("."), (method, path, summary)  # a heading, not a paragraph
    summaries = [operation["summary"] for *_, operation in found]
    assert len(set(summaries)) == len(summaries), "two operations share a heading"
