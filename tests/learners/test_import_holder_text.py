"""Whatever a credential states as its holder's name, the import keeps what the database can
hold: at most 300 characters, no NUL (which PostgreSQL refuses)."""

import copy
import json
from typing import Any

import pytest
from django.urls import reverse

from credentials.standards import credential_holder
from learners.models import ImportedCredential
from tests.factories import UserFactory
from tests.learners.elsewhere import EDC_DOCUMENT

pytestmark = pytest.mark.django_db


def stating(**holder) -> str:
    """An EDC (kept unverified, so any subject) whose subject states these names."""
    document: dict[str, Any] = copy.deepcopy(EDC_DOCUMENT)
    document["credentialSubject"] = {**document["credentialSubject"], **holder}
    return json.dumps(document)


@pytest.mark.parametrize(
    "holder",
    [
        {"givenName": "A" * 300, "familyName": "B" * 300},
        {"name": "Ana\x00 Kowalska"},
        {"givenName": "Ana\x00", "familyName": "Kowalska"},
    ],
)
def test_a_long_or_nul_holder_name_is_imported_not_a_server_error(logged_in, holder):
    response = logged_in(UserFactory()).post(
        reverse("learners:import"), {"document": stating(**holder)}
    )
    assert response.status_code == 302
    kept = ImportedCredential.objects.get()
    assert len(kept.holder_name) <= 300
    assert "\x00" not in kept.holder_name


def test_the_holder_names_are_cut_and_cleaned_like_the_summarys():
    holder = credential_holder.holder_of(
        {"credentialSubject": {"givenName": "A" * 300, "familyName": "B\x00" * 300}}
    )
    assert holder.name == ("A" * 300)
    assert all("\x00" not in name for name in holder.names)
