"""LinkedIn's "Add to profile" link for a certification, filled in from a credential."""

from datetime import date
from typing import Final
from urllib.parse import urlencode

ADD_TO_PROFILE: Final = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    *, name: str, organisation: str, issued: date, cert_url: str, cert_id: str
) -> str:
    """The link that opens LinkedIn's form with the certification's fields already filled in."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": organisation,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": cert_url,
        "certId": cert_id,
    }
    return ADD_TO_PROFILE + "?" + urlencode(query)
