from meshe.errors import UserFacingError


class ClaimError(UserFacingError):
    """A claim link that cannot be used, with why."""


class WalletError(UserFacingError):
    """Something the learner asked of their wallet that cannot be done, with why."""


class AlreadyInWallet(WalletError):
    """An import of a credential the wallet holds already; `url` is its page there."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url
