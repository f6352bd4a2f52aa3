"""The verifier's answer in words for people, in the page's language: what the credential
says (one sentence), how far to trust it (the headline), then each check.

The pure pipeline (credentials.standards.verification) writes English details and a stable
code per check; this module says each code again through gettext, so the French and German
pages read in French and German. A code it does not know keeps the English detail.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credentials.ects import ects_number
from credentials.standards.verification import Trust, parse_date_time_stamp

# The checks' names in plain words, for people reading a verdict.
CHECK_LABELS: Final[dict[str, Promise]] = {
    "json": gettext_lazy("Readable document"),
    "data_model": gettext_lazy("Credential format"),
    "contexts": gettext_lazy("Vocabularies"),
    "proof": gettext_lazy("Signature"),
    "issuer_key": gettext_lazy("Issuer's key"),
    "signers": gettext_lazy("Signatures"),
    "validity": gettext_lazy("Validity dates"),
    "status": gettext_lazy("Revocation and suspension"),
    "issuer_known": gettext_lazy("Known issuer"),
    "seal": gettext_lazy("Seal"),
    "seal_certificate": gettext_lazy("Seal certificate"),
    "edc_shapes": gettext_lazy("European Digital Credential rules"),
}

# Each check line by its stable code; %(name)s placeholders take the check's params.
CHECK_TEXTS: Final[dict[str, Promise]] = {
    "json.ok": gettext_lazy("Well-formed JSON (%(size)s bytes)"),
    "json.ok_png": gettext_lazy("Read from a PNG badge image (%(size)s bytes of JSON)"),
    "json.ok_svg": gettext_lazy("Read from an SVG badge image (%(size)s bytes of JSON)"),
    "json.not_json": gettext_lazy(
        "This is not valid JSON: a credential is a JSON file, or a badge image (PNG or SVG) "
        "that carries one."
    ),
    "json.not_text": gettext_lazy(
        "This is not text: a credential is a JSON file, or a badge image (PNG or SVG) that "
        "carries one."
    ),
    "json.not_object": gettext_lazy("This is JSON, but not a JSON object."),
    "json.empty": gettext_lazy("The document is empty."),
    "json.too_large": gettext_lazy("The document is too large (over %(limit)s KiB)."),
    "json.too_deep": gettext_lazy(
        "The document is too deeply nested (more than %(limit)s levels)."
    ),
    "json.image_without_credential": gettext_lazy(
        "This image carries no credential this portal can read (an Open Badges 3.0 badge "
        "image has the signed credential baked into it)."
    ),
    "json.link_unreadable": gettext_lazy("The link could not be read: %(problem)s."),
    "data_model.ok": gettext_lazy("A W3C Verifiable Credential (data model 2.0)"),
    "data_model.invalid": gettext_lazy(
        "The document is not a well-formed W3C Verifiable Credential."
    ),
    "data_model.edc": gettext_lazy(
        "This is a European Digital Credential (EDC): this portal cannot check its seal; "
        "the European Commission's Europass verifier can."
    ),
    "contexts.ok": gettext_lazy("Every vocabulary it uses is bundled with this portal"),
    "contexts.unknown": gettext_lazy(
        "It uses a vocabulary this portal does not hold (this portal never fetches "
        "vocabularies): %(contexts)s"
    ),
    "contexts.malformed": gettext_lazy("One of its vocabulary (@context) entries is malformed."),
    "proof.ok": gettext_lazy("Valid signature by the key %(key)s"),
    "proof.missing_proof": gettext_lazy("The credential is not signed (it has no proof)."),
    "proof.bad_signature": gettext_lazy(
        "The signature does not match: the credential was changed after it was signed, or it "
        "was signed with another key."
    ),
    "proof.key_not_resolved": gettext_lazy("The signing key %(key)s could not be found."),
    "issuer_key.ok": gettext_lazy("Signed by %(issuer)s with the key %(key)s"),
    "issuer_key.not_the_issuers": gettext_lazy(
        "The signing key does not belong to the issuer the credential names."
    ),
    "validity.expired": gettext_lazy("Expired on %(date)s."),
    "validity.not_yet_valid": gettext_lazy("Not valid before %(date)s."),
    "status.none": gettext_lazy("The issuer publishes no revocation or suspension list for it"),
    "status.revoked": gettext_lazy("Revoked by the issuer."),
    "status.suspended": gettext_lazy("Suspended by the issuer."),
    "status.unreadable": gettext_lazy(
        "The issuer's revocation list could not be checked, so this portal cannot tell whether "
        "the credential was revoked."
    ),
    "issuer_known.ok": gettext_lazy("Known to this portal as %(name)s"),
    "issuer_known.seal_trusted": gettext_lazy(
        "Sealed by %(name)s, whose certificate leads to a trust anchor this portal's operator "
        "configured"
    ),
    "issuer_known.seal_untrusted": gettext_lazy(
        "Sealed by %(name)s, whose certificate leads to no trust anchor this portal's operator "
        "configured."
    ),
    "issuer_known.seal_no_anchors": gettext_lazy(
        "Sealed by %(name)s; this portal has no trust anchors configured for seals, so it "
        "cannot confirm who that is."
    ),
    "seal.ok": gettext_lazy("Valid %(algorithm)s seal by %(subject)s"),
    "seal.malformed": gettext_lazy("The seal is malformed."),
    "seal.unsupported_algorithm": gettext_lazy(
        "The seal uses an algorithm this portal does not accept."
    ),
    "seal.unknown_critical_header": gettext_lazy(
        "The seal requires a feature this portal does not know."
    ),
    "seal.no_certificate": gettext_lazy("The seal carries no readable certificate."),
    "seal.certificate_mismatch": gettext_lazy(
        "The seal names another certificate than the one it carries."
    ),
    "seal.signature_invalid": gettext_lazy(
        "The seal does not match: the credential was changed after it was sealed, or it was "
        "sealed with another key."
    ),
    "seal.no_signing_time": gettext_lazy("The seal does not say when it was made."),
    "seal.signing_time_in_future": gettext_lazy("The seal says it was made in the future."),
    "seal_certificate.ok": gettext_lazy(
        "Valid for sealing when the seal was made; issued by %(issuer)s"
    ),
    "seal_certificate.ok_expired_since": gettext_lazy(
        "Valid for sealing when the seal was made; issued by %(issuer)s. It has expired since "
        "(%(until)s), which does not undo the seal."
    ),
    "seal_certificate.certificate_not_valid_at_signing": gettext_lazy(
        "The seal's certificate was not valid when the seal was made."
    ),
    "seal_certificate.key_usage": gettext_lazy("The seal's certificate may not be used to seal."),
    "edc_shapes.ok": gettext_lazy(
        "A European Digital Credential that meets the Commission's %(shapes)s rules"
    ),
    "edc_shapes.violations": gettext_lazy(
        "It breaks %(count)s rules of the Commission's %(shapes)s shapes."
    ),
    "edc_shapes.not_edc": gettext_lazy("What was sealed is not a European Digital Credential."),
    "edc_shapes.too_complex": gettext_lazy(
        "The credential is too large or too complex for this portal to check."
    ),
    "edc_shapes.unreadable": gettext_lazy(
        "The credential uses a vocabulary term this portal does not know."
    ),
    "issuer_known.unknown": gettext_lazy(
        "The issuer %(issuer)s is neither an institution of this portal nor a partner."
    ),
}

# What a check waited for, when it did not run.
_NOT_CHECKED_BECAUSE: Final[dict[str, Promise]] = {
    "json": gettext_lazy("Not checked: the document could not be read."),
    "data_model": gettext_lazy("Not checked: the document is not a well-formed credential."),
    "contexts": gettext_lazy("Not checked: the credential uses a vocabulary this portal lacks."),
    "proof": gettext_lazy("Not checked: the signature is not valid."),
    "issuer_key": gettext_lazy("Not checked: the signing key is not the issuer's."),
    "seal": gettext_lazy("Not checked: the seal is not valid."),
}

# Codes whose English detail says more than the translated line; it is shown as technical detail.
_TECHNICAL_DETAIL: Final = frozenset(
    {"data_model.invalid", "status.unreadable", "issuer_key.not_the_issuers"}
)


@dataclass(frozen=True)
class CheckLine:
    """One check as a page shows it: its name, its sentence, passed / failed / not checked."""

    check: str
    label: str
    text: str
    outcome: str
    technical: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "passed"


@dataclass(frozen=True)
class Verdict:
    """The verifier's answer for a page: sentence, headline, the lines under it."""

    trust: str
    verified: bool
    headline: str
    explanation: str
    sentence: SafeString | None
    claimed_only: bool
    fingerprint: str | None
    checks: list[CheckLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def style(self) -> str:
        """The CSS modifier: ok (green) only for a known issuer; unknown is amber, never green."""
        styles = {
            str(Trust.KNOWN_ISSUER): "ok",
            str(Trust.UNKNOWN_ISSUER): "unconfirmed",
            str(Trust.NOT_CHECKABLE): "unconfirmed",
        }
        return styles.get(self.trust, "bad")


def trust_of(result: dict[str, Any]) -> str:
    """The trust level of a verification result, also of one stored before trust was recorded."""
    if "trust" in result:
        return str(result["trust"])
    if not result.get("verified"):
        return str(Trust.INVALID)
    known = next((c for c in result.get("checks", []) if c.get("check") == "issuer_known"), None)
    return str(Trust.KNOWN_ISSUER if known and known.get("ok") else Trust.UNKNOWN_ISSUER)


def present(result: dict[str, Any] | None, *, signatures: str = "") -> Verdict | None:
    """The verdict for people: None in, None out. `signatures` is the signers line of a
    credential with several proofs, already in the page's language."""
    if result is None:
        return None
    trust = trust_of(result)
    lines = [_line(check, signatures=signatures) for check in result.get("checks", [])]
    summary = result.get("summary")
    issuer = (summary or {}).get("issuer") or {}
    seal = result.get("seal")
    headline, explanation = (
        _seal_headline(trust, seal, lines) if seal else _headline(trust, issuer, lines)
    )
    return Verdict(
        trust=trust,
        verified=bool(result.get("verified")),
        headline=headline,
        explanation=explanation,
        sentence=_sentence(summary, trust) if summary else None,
        claimed_only=trust != Trust.KNOWN_ISSUER,
        fingerprint=result.get("key_fingerprint") if trust == Trust.KNOWN_ISSUER else None,
        checks=lines,
        # The unknown issuer is the headline's to say; other warnings stay.
        warnings=[
            warning
            for warning in result.get("warnings", [])
            if trust != Trust.UNKNOWN_ISSUER or not _is_unknown_issuer_warning(result, warning)
        ],
    )


def _is_unknown_issuer_warning(result: dict[str, Any], warning: str) -> bool:
    return any(
        check.get("check") == "issuer_known" and check.get("detail") == warning
        for check in result.get("checks", [])
    )


def _line(check: dict[str, Any], *, signatures: str = "") -> CheckLine:
    name = str(check.get("check", ""))
    code = str(check.get("code", ""))
    detail = str(check.get("detail", ""))
    outcome = check.get("outcome") or (
        "passed"
        if check.get("ok")
        else "not_checked"
        if detail.startswith("not checked: ")
        else "failed"
    )
    params = {key: str(value) for key, value in (check.get("params") or {}).items()}
    label = str(CHECK_LABELS.get(name, name))
    text = (signatures if name == "signers" else "") or _text(code, outcome, params) or detail
    technical = detail if code in _TECHNICAL_DETAIL and detail != text else ""
    return CheckLine(check=name, label=label, text=text, outcome=outcome, technical=technical)


def _text(code: str, outcome: str, params: dict[str, str]) -> str:
    """The check's sentence in the page's language, "" when the code has none."""
    if outcome == "not_checked":
        because = _NOT_CHECKED_BECAUSE.get(params.get("because", ""))
        return str(because) if because is not None else ""
    if code == "validity.ok":
        start, until = _shown_date(params.get("from", "")), _shown_date(params.get("until", ""))
        if start and until:
            return _("Valid from %(start)s until %(until)s") % {"start": start, "until": until}
        if start:
            return _("Valid from %(start)s, with no expiry date") % {"start": start}
        if until:
            return _("Valid until %(until)s") % {"until": until}
        return _("Valid, with no expiry date")
    if code in {"validity.expired", "validity.not_yet_valid"}:
        params = {**params, "date": _shown_date(params.get("date", "")) or params.get("date", "")}
    if code == "status.ok":
        found = set(params.get("findings", "").split(","))
        if found >= {"not revoked", "not suspended"}:
            return _("Neither revoked nor suspended")
        if "not revoked" in found:
            return _("Not revoked")
        return _("Not suspended")
    if code.endswith(".internal_error"):
        return _("This check could not be completed because of an internal error.")
    template = CHECK_TEXTS.get(code)
    if template is None:
        return ""
    try:
        return str(template) % params
    except (KeyError, ValueError, TypeError):
        return ""


def _shown_date(value: str) -> str:
    """An XML Schema dateTimeStamp as the page's language writes a date, "" if there is none."""
    if not value:
        return ""
    try:
        moment = parse_date_time_stamp(value)
    except ValueError:
        return value
    return date_format(moment.date(), "DATE_FORMAT")


def _headline(trust: str, issuer: dict[str, Any], lines: list[CheckLine]) -> tuple[str, str]:
    """The verdict in one line, and one sentence under it."""
    if trust == Trust.KNOWN_ISSUER:
        name = issuer.get("name") or ""
        return (
            _("Verified: issued by %(issuer)s") % {"issuer": name},
            _(
                "The signature is valid, the credential is unchanged, neither revoked nor "
                "suspended, and the issuer is known to this portal."
            ),
        )
    if trust == Trust.UNKNOWN_ISSUER:
        declared = issuer.get("declared_name")
        if declared:
            explanation = _(
                "The issuer calls itself %(name)s; this portal cannot confirm it. Anyone can "
                "sign a credential in any name: check the issuer's identity (%(issuer)s) "
                "yourself."
            ) % {"name": declared, "issuer": issuer.get("id") or ""}
        else:
            explanation = _(
                "The issuer gives no name and is not known to this portal (%(issuer)s)."
            ) % {"issuer": issuer.get("id") or ""}
        return _("Signature valid, issuer not confirmed"), explanation
    if trust == Trust.NOT_CHECKABLE:
        return (
            _("Not checked: a European Digital Credential"),
            _(
                "This portal cannot check the seal of a European Digital Credential; the "
                "European Commission's Europass verifier can."
            ),
        )
    first = next((line for line in lines if line.outcome == "failed"), None)
    return _("Not valid"), first.text if first is not None else ""


def _seal_headline(trust: str, seal: dict[str, Any], lines: list[CheckLine]) -> tuple[str, str]:
    """The verdict on a sealed European Digital Credential: what its seal proves, and what was
    present but not checked here (timestamps, revocation data: they need services offline)."""
    certificate = seal.get("certificate") or {}
    name = certificate.get("subject") or ""
    unchecked = _(
        "Whether the seal's certificate was revoked, and any timestamps, are not checked here."
    )
    if trust == Trust.KNOWN_ISSUER:
        return (
            _("Sealed by %(issuer)s") % {"issuer": name},
            _(
                "The seal is valid, the credential is unchanged since it was sealed, and the "
                "seal's certificate leads to a trust anchor this portal's operator configured."
            )
            + " "
            + unchecked,
        )
    if trust == Trust.UNKNOWN_ISSUER:
        return (
            _("Seal valid, sealer not confirmed"),
            _(
                "The certificate names %(name)s; this portal cannot confirm it, as the "
                "certificate leads to no trust anchor configured here."
            )
            % {"name": name}
            + " "
            + unchecked,
        )
    first = next((line for line in lines if line.outcome == "failed"), None)
    return _("Not valid"), first.text if first is not None else ""


# The sentence that leads: who was awarded what, by whom, when. Word order differs between
# languages, so each combination of the parts a credential may lack is one whole sentence.
_SENTENCES: Final[dict[tuple[bool, bool, bool], Promise]] = {
    (True, True, True): gettext_lazy(
        "%(holder)s was awarded %(title)s%(details)s by %(issuer)s on %(date)s."
    ),
    (True, True, False): gettext_lazy("%(holder)s was awarded %(title)s%(details)s by %(issuer)s."),
    (True, False, True): gettext_lazy("%(holder)s was awarded %(title)s%(details)s on %(date)s."),
    (True, False, False): gettext_lazy("%(holder)s was awarded %(title)s%(details)s."),
    (False, True, True): gettext_lazy("%(title)s%(details)s, awarded by %(issuer)s on %(date)s."),
    (False, True, False): gettext_lazy("%(title)s%(details)s, awarded by %(issuer)s."),
    (False, False, True): gettext_lazy("%(title)s%(details)s, awarded on %(date)s."),
    (False, False, False): gettext_lazy("%(title)s%(details)s."),
}


def _sentence(summary: dict[str, Any], trust: str) -> SafeString:
    """The credential's claim in one sentence; parts it lacks are left out."""
    issuer = summary.get("issuer") or {}
    if trust == Trust.KNOWN_ISSUER:
        issuer_text = str(conditional_escape(issuer.get("name") or ""))
    elif issuer.get("declared_name"):
        issuer_text = str(
            conditional_escape(
                _("an issuer that calls itself %(name)s") % {"name": issuer["declared_name"]}
            )
        )
    else:
        issuer_text = ""
    title = summary.get("title")
    title_html = (
        format_html("<cite>{}</cite>", title) if title else conditional_escape(_("a credential"))
    )
    details = []
    if summary.get("ects") is not None:
        details.append(_("%(ects)s ECTS") % {"ects": _number(summary["ects"])})
    if summary.get("eqf") is not None:
        details.append(_("EQF %(level)s") % {"level": summary["eqf"]})
    if summary.get("grade"):
        details.append(_("grade %(grade)s") % {"grade": summary["grade"]})
    details_text = " (" + str(conditional_escape(", ".join(details))) + ")" if details else ""
    awarded = summary.get("awarded")
    date_text = date_format(date.fromisoformat(awarded), "DATE_FORMAT") if awarded else ""
    holder = summary.get("holder") or ""
    template = _SENTENCES[(bool(holder), bool(issuer_text), bool(date_text))]
    text = str(conditional_escape(str(template))) % {
        "holder": conditional_escape(holder),
        "title": title_html,
        "details": details_text,
        "issuer": issuer_text,
        "date": conditional_escape(date_text),
    }
    # Every part was escaped above; the template is this module's own (translated) text.
    return mark_safe(text[:1].upper() + text[1:])  # noqa: S308


def _number(value: Any) -> str:
    """4 → "4", 7.5 → "7.5" ("7,5" in French and German): ECTS as people write them."""
    return ects_number(value)
