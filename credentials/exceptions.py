from meshe.errors import UserFacingError


class CredentialError(UserFacingError):
    """A refused issue or status change of a credential."""


class CredentialUnsignable(CredentialError):
    """The credential's text cannot be signed (canonical N-Quads refuse it); `detail` says why."""

    def __init__(self, message: str, *, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class CredentialIdTaken(CredentialError):
    """Another credential on this node already has the id a caller asked to sign."""
