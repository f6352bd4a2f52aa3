"""The zip a learner downloads with all their data: account.json and every credential
document verbatim, each as its own file. Runs no queries: everything comes preloaded."""

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from django.conf import settings

from learners.selectors import AccountData

# Fixed member timestamps: the same data always gives the same archive.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def account_json(data: AccountData, *, exported_at: datetime) -> dict[str, Any]:
    """What account.json says: the profile, addresses, links, imports and activity."""
    user = data.user
    base = settings.MESHE_BASE_URL
    return {
        "exported_at": exported_at.isoformat(),
        "account": {
            "email": user.email,
            "name": user.name,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "email_addresses": data.email_addresses,
        "credentials": [
            {
                "id": credential.credential_id,
                "title": credential.version.title,
                "institution": credential.institution.name,
                "issued_to_name": credential.holder_name,
                "issued_to_email": credential.holder_email,
                "issued_at": _when(credential.issued_at),
                "valid_until": _when(credential.valid_until),
                "status": credential.status,
                "claimed_at": _when(credential.claimed_at),
                "public_url": base + credential.get_absolute_url(),
                "file": f"credentials/{credential.public_id}.json",
            }
            for credential in data.credentials
        ],
        "share_links": [
            {
                "url": link.url,
                "label": link.label,
                "credential": link.credential.credential_id,
                "created_at": _when(link.created_at),
                "expires_at": _when(link.expires_at),
                "revoked_at": _when(link.revoked_at),
                "view_count": link.view_count,
            }
            for link in data.share_links
        ],
        "imported_credentials": [
            {
                "id": str(imported.public_id),
                "format": imported.format,
                "title": imported.title,
                "issuer": imported.issuer_name,
                "issuer_id": imported.issuer_id,
                "credential_id": imported.credential_id,
                "holder": imported.holder,
                "holder_name": imported.holder_name,
                "imported_at": _when(imported.created_at),
                "verified_at": _when(imported.verified_at),
                "verification": imported.verification,
                "file": f"imported/{imported.public_id}.json",
            }
            for imported in data.imports
        ],
        "public_profile": (
            {
                "address": base + data.profile.get_absolute_url(),
                "shown": data.profile.is_public,
                "headline": data.profile.headline,
                "credentials": [f"urn:uuid:{public_id}" for public_id in data.profile_credentials],
            }
            if data.profile
            else None
        ),
        "activity": [
            {"action": event.action, "subject": event.subject, "at": _when(event.created_at)}
            for event in data.events
        ],
    }


def archive(data: AccountData, *, exported_at: datetime) -> bytes:
    """The zip: account.json, credentials/<id>.json and imported/<id>.json, documents as stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:

        def add(name: str, text: str) -> None:
            zipped.writestr(
                zipfile.ZipInfo(name, ZIP_TIME),
                text.encode("utf-8"),
                compress_type=zipfile.ZIP_DEFLATED,
            )

        add(
            "account.json",
            json.dumps(account_json(data, exported_at=exported_at), ensure_ascii=False, indent=2),
        )
        for credential in data.credentials:
            add(f"credentials/{credential.public_id}.json", credential.document)
        for imported in data.imports:
            add(f"imported/{imported.public_id}.json", imported.document)
    return buffer.getvalue()
