import pytest
from django.db import IntegrityError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_email_addresses_are_unique_whatever_their_case():
    User.objects.create_user("Lea@Example.org", "pw")
    with pytest.raises(IntegrityError):
        User.objects.create_user("lea@example.org", "pw")
