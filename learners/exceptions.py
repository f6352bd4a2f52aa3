from meshe.errors import UserFacingError


class ClaimError(UserFacingError):
    """A claim link that cannot be used, with why."""


class WalletError(UserFacingError):
    """Something the learner asked of their wallet that cannot be done, with why."""
