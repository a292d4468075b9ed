"""Assertions on RFC 9457 problem responses, shared by the API tests."""

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def assert_problem(response, status: int, code: str, *, fields: set[str] | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == f"urn:evently:problem:{code}"
    assert body["detail"]
    if fields is not None:
        assert set(body["errors"]) == fields, body["errors"]
    return body
