"""Credentials of the internal APIs: derived from the platform's key, checked in constant time."""

from __future__ import annotations

import uuid

from reana_commons.service_auth import (
    MISSING,
    WRONG,
    bearer,
    refusal,
    run_token,
    service_credential,
)


def test_credentials_depend_on_the_key_the_purpose_and_the_run():
    run_a, run_b = uuid.uuid4(), uuid.uuid4()
    assert service_credential("k1") == service_credential("k1") != service_credential("k2")
    assert run_token(run_a, "k1") != run_token(run_b, "k1")
    assert run_token(run_a, "k1") != run_token(run_a, "k2")
    assert run_token(run_a, "k1") == run_token(str(run_a).upper(), "k1")
    assert service_credential("k1") not in {run_token(run_a, "k1"), run_token(run_b, "k1")}


def test_refusal_answers_401_without_and_403_with_a_wrong_credential():
    expected = service_credential("k")
    assert refusal(bearer(expected)["Authorization"], expected) is None
    assert refusal(f"bearer   {expected} ", expected) is None
    assert refusal(None, expected) == (401, MISSING)
    assert refusal("Bearer ", expected) == (401, MISSING)
    assert refusal(f"Basic {expected}", expected) == (401, MISSING)
    assert refusal("Bearer nope", expected) == (403, WRONG)
    assert refusal("Bearer é", expected) == (403, WRONG)
    assert refusal(bearer(service_credential("other"))["Authorization"], expected) == (403, WRONG)
