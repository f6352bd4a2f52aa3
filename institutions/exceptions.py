from meshe.errors import UserFacingError


class InstitutionError(UserFacingError):
    """A refused change to an institution, its staff or its invitations."""
