from meshe.errors import UserFacingError


class ClaimError(UserFacingError):
    """A claim link that cannot be used, with why."""
