from meshe.errors import UserFacingError


class InstitutionError(UserFacingError):
    """A refused change to an institution, its staff or its invitations."""


class KeyCustodyError(Exception):
    """A refused re-seal, export or import of signing keys. Its message is for the operator
    at the command line (not translated) and never holds key material."""
