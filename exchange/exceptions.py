from meshe.errors import UserFacingError


class ExchangeError(UserFacingError):
    """A refused exchange action: a partnership, delivery, decision or sync that cannot be done."""
