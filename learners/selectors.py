from django.db.models import QuerySet

from credentials.models import IssuedCredential
from learners.models import User


def wallet_credentials(*, user: User) -> QuerySet[IssuedCredential]:
    """The user's own credentials, newest first, with what the cards show."""
    return (
        IssuedCredential.objects.filter(holder=user)
        .select_related("institution", "version")
        .order_by("-issued_at")
    )
