"""The migration that reads, for imports kept before it, whom each was issued to and its id."""

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from learners.models import ImportedCredential
from tests.learners.elsewhere import signed_elsewhere

BEFORE = [("learners", "0001_initial")]
AFTER = [("learners", "0002_imported_holder_and_id")]


@pytest.mark.django_db(transaction=True)
def test_imports_kept_before_get_their_holder_and_id_and_a_second_copy_keeps_none():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(
        email="lea@example.eu", name="Lea Learner"
    )
    EmailAddress.objects.create(
        user_id=user.pk, email="lea@example.eu", verified=True, primary=True
    )
    imported = old.get_model("learners", "ImportedCredential")
    hers = signed_elsewhere(holder_email="lea@example.eu")
    for number, document in enumerate(
        [hers, hers + "\n", signed_elsewhere(holder_email="nora@example.eu"), "not json"]
    ):
        imported.objects.create(
            owner_id=user.pk, format="vc", document=document, digest=str(number), title="x"
        )
    executor.loader.build_graph()
    executor.migrate(AFTER)
    rows = list(ImportedCredential.objects.order_by("pk").values_list("holder", "credential_id"))
    assert rows == [
        ("address", "urn:uuid:0b3f1c2e-7d7a-4c1e-9a53-2f5f0c9d8e11"),
        ("address", ""),  # the same credential again: kept, as it was, without its id
        ("other", ""),  # its id is the first one's too
        ("unknown", ""),
    ]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
