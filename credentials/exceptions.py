from meshe.errors import UserFacingError


class CredentialError(UserFacingError):
    """A refused issue or status change of a credential."""
