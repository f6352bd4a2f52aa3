"""Issuing credentials and changing their status. Atomic, audited, idempotent where it can be."""

import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Coalesce, Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from credentials import documents, hooks, models
from credentials.exceptions import CredentialError, CredentialIdTaken, CredentialUnsignable
from credentials.issuing import recipients, spreadsheets, tasks, verifier
from credentials.models import (
    CLAIM_LINK_SENT,
    PRACTICAL_FIELDS,
    SPECIFICATION_FIELDS,
    ApiCredential,
    BulkIssueJob,
    BulkIssueRow,
    CredentialEvent,
    CredentialStatus,
    Endorsement,
    IssuedCredential,
    MicroCredential,
    MicroCredentialVersion,
    StatusList,
    StatusPurpose,
    StatusReason,
)
from credentials.standards import (
    canonical_templates,
    data_model,
    jades,
    ob3,
    proof_sets,
    signing,
    status_list,
    strict_json,
    verification,
    vocabularies,
)
from credentials.standards.achievement import StatusEntry
from institutions import e_seals, publications
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from institutions.models import ApiToken, AuditEvent, ESealCertificate, Institution
from meshe import plain_text

# A list is left when this full, so random allocation never hunts long for a free index.
STATUS_LIST_FILL_LIMIT = 0.75

Action = CredentialEvent.Action
# status → the transitions allowed from it (docs/architecture.md: explicit transitions).
TRANSITIONS: dict[str, set[str]] = {
    CredentialStatus.ISSUED: {CredentialStatus.SUSPENDED, CredentialStatus.REVOKED},
    CredentialStatus.SUSPENDED: {CredentialStatus.ISSUED, CredentialStatus.REVOKED},
    CredentialStatus.REVOKED: set(),
}


def _sign(institution: Institution, document: dict[str, object], *, at: datetime) -> str:
    key = institution_selectors.active_signing_key(institution=institution)
    signed = signing.sign_document(
        document,
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=signing.format_created(at),
        canonicalizer=canonical_templates.canonicalize_fast,
    )
    return json.dumps(signed, ensure_ascii=False, separators=(",", ":"))


def _publish(status_list_row: StatusList, *, bits: bytes) -> None:
    """Signs the list credential for `bits` and stores it with a fresh ETag; moves the node's
    publication version (institutions.publications)."""
    now = timezone.now()
    document = status_list.build_status_list_credential(
        list_url=status_list_row.url,
        issuer_did=status_list_row.institution.did,
        purpose=status_list_row.purpose,  # type: ignore[arg-type]
        encoded_list=status_list.encode_list(bits),
        valid_from=now,
    )
    status_list_row.bits = bits
    status_list_row.document = _sign(status_list_row.institution, document, at=now)
    status_list_row.etag = hashlib.sha256(status_list_row.document.encode()).hexdigest()[:32]
    # Verifiers in every process stop trusting what they remember of the list (now and on commit).
    publications.changed()


def _lock_institution(institution: Institution) -> Institution | None:
    """Serialises issuing and versioning per institution: a new version or status list has
    no row to lock yet, so two writers could otherwise both create number 1. Returns the row
    as locked, so settings are read as they are now."""
    return Institution.objects.select_for_update().filter(pk=institution.pk).first()


# How many e-mail addresses one query of a bulk upload's duplicate check names (SQLite allows
# 32,766 parameters; smaller lists keep each query's plan an index lookup).
ADDRESSES_PER_QUERY: Final = 500


def _open_status_list(institution: Institution, purpose: str) -> StatusList:
    """The institution's list with room for new credentials; the caller holds the
    institution's lock (see _issue_many)."""
    current = (
        StatusList.objects.select_for_update()
        .select_related("institution")
        .filter(institution=institution, purpose=purpose)
        .order_by("-number")
        .first()
    )
    if current is not None and current.allocated_count < current.size * STATUS_LIST_FILL_LIMIT:
        return current
    empty = status_list.empty_bitstring()
    new = StatusList(
        institution=institution,
        purpose=purpose,
        number=current.number + 1 if current else 1,
        size=status_list.MIN_ENTRIES,
        allocated=empty,
    )
    _publish(new, bits=empty)
    new.save()
    return new


def _allocate_indexes(
    institution: Institution, purpose: str, count: int
) -> list[tuple[StatusList, int]]:
    """`count` random free indexes, moving on to a new list when one fills up; never reused,
    so one credential's status can never leak to another."""
    allocated: list[tuple[StatusList, int]] = []
    while len(allocated) < count:
        row = _open_status_list(institution, purpose)
        room = int(row.size * STATUS_LIST_FILL_LIMIT) - row.allocated_count
        # Marked in place, in the status_list bit order: copying 16 KiB per index would
        # dominate bulk issuing.
        bits = bytearray(row.allocated)
        for _slot in range(min(room, count - len(allocated))):
            while True:
                index = secrets.randbelow(row.size)
                if not bits[index // 8] & (0x80 >> (index % 8)):
                    break
            bits[index // 8] |= 0x80 >> (index % 8)
            allocated.append((row, index))
            row.allocated_count += 1
        row.allocated = bytes(bits)
        row.save(update_fields=["allocated", "allocated_count", "updated_at"])
    return allocated


def _version_to_issue(
    micro_credential: MicroCredential, actor: User | None
) -> MicroCredentialVersion:
    """The latest version if it still matches the specification, else a new snapshot."""
    snapshot = documents.specification_snapshot(micro_credential)
    latest = micro_credential.versions.order_by("-number").first()
    if latest is not None and latest.snapshot == snapshot:
        return latest
    return MicroCredentialVersion.objects.create(
        micro_credential=micro_credential,
        number=latest.number + 1 if latest else 1,
        snapshot=snapshot,
        created_by=actor,
    )


def _embeddable_endorsements(micro_credential: MicroCredential) -> list[dict[str, Any]]:
    """The signed endorsements of an offer that credentials issued now carry: those whose
    signature verified and that were not revoked when last checked, oldest first."""
    return [
        json.loads(document)
        for document in micro_credential.endorsements.filter(
            state__in=(Endorsement.State.VERIFIED, Endorsement.State.ENDORSER_UNKNOWN)
        )
        .order_by("issued_at", "pk")
        .values_list("document", flat=True)
    ]


@dataclass(frozen=True)
class Recipient:
    """One learner to issue to, with what differs per credential."""

    holder_name: str
    holder_email: str
    awarded_date: date
    grade: str = ""
    evidence_url: str = ""
    evidence_narrative: str = ""


def _missing_element(problem: Exception) -> CredentialError:
    return CredentialError(
        _("The micro-credential is missing something the EU standard requires: %(problem)s")
        % {"problem": problem}
    )


def _issue_many(
    *,
    actor: User | None,
    institution: Institution,
    micro_credential: MicroCredential,
    recipients: Sequence[Recipient],
    valid_from: datetime | None = None,
) -> list[IssuedCredential]:
    """Issues to every recipient in the caller's transaction, or raises CredentialError and
    issues nothing. Status indexes, signatures and rows are made in batches."""
    if micro_credential.institution_id != institution.pk:
        raise CredentialError(_("This micro-credential belongs to another institution."))
    if micro_credential.status != MicroCredential.Status.PUBLISHED:
        raise CredentialError(_("Only published micro-credentials can be issued."))
    locked = _lock_institution(institution)
    # Read under the lock: a format changed a moment ago applies to this issue.
    offers_suspension = not (locked or institution).ob3_strict
    now = timezone.now().replace(microsecond=0)
    valid_from = (valid_from or now).replace(microsecond=0)
    valid_until = (
        valid_from + timedelta(days=30 * micro_credential.validity_months)
        if micro_credential.validity_months
        else None
    )
    version = _version_to_issue(micro_credential, actor)
    endorsements = _embeddable_endorsements(micro_credential)
    revocations = _allocate_indexes(institution, StatusPurpose.REVOCATION, len(recipients))
    suspensions = _allocate_indexes(institution, StatusPurpose.SUSPENSION, len(recipients))
    key = institution_selectors.active_signing_key(institution=institution)
    signer = signing.Signer(
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=signing.format_created(now),
        canonicalizer=canonical_templates.canonicalize_fast,
    )
    try:
        offer = (documents.issuer(institution), documents.specification(version))
    except (ValueError, vocabularies.UnknownConcept) as exc:
        raise _missing_element(exc) from exc
    credentials = []
    for recipient, (revocation, r_index), (suspension, s_index) in zip(
        recipients, revocations, suspensions, strict=True
    ):
        credential = IssuedCredential(
            institution=institution,
            version=version,
            holder_name=recipient.holder_name.strip(),
            holder_email=recipient.holder_email.strip(),
            identity_salt=secrets.token_hex(16),
            issued_at=now,
            valid_from=valid_from,
            valid_until=valid_until,
            awarded_date=recipient.awarded_date,
            grade=recipient.grade.strip(),
            evidence_url=recipient.evidence_url,
            evidence_narrative=recipient.evidence_narrative.strip(),
            revocation_list=revocation,
            revocation_index=r_index,
            suspension_list=suspension,
            suspension_index=s_index,
            offers_suspension=offers_suspension,
            issued_by=actor,
        )
        try:
            unsigned = documents.achievement_credential(
                credential, endorsements=endorsements, offer=offer
            )
        except (ValueError, vocabularies.UnknownConcept) as exc:
            raise _missing_element(exc) from exc
        try:
            signed = signer.sign(unsigned)
        except (signing.CanonicalizationError, data_model.DataModelError) as exc:
            raise CredentialUnsignable(
                _("The credential for %(name)s could not be signed: %(problem)s")
                % {"name": credential.holder_name, "problem": exc.detail},
                detail=exc.detail,
            ) from exc
        credential.document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
        credentials.append(credential)
    IssuedCredential.objects.bulk_create(credentials, batch_size=500)
    CredentialEvent.objects.bulk_create(
        [CredentialEvent(credential=c, actor=actor, action=Action.ISSUED) for c in credentials],
        batch_size=500,
    )
    # The institution's audit log names each credential too, as it does every revocation.
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                institution=institution,
                actor=actor,
                action="credential.issued",
                detail={
                    "credential": str(c.public_id),
                    "micro_credential": str(micro_credential.public_id),
                    "version": version.number,
                },
            )
            for c in credentials
        ],
        batch_size=500,
    )
    tasks.notify_holders.delay_on_commit([credential.pk for credential in credentials])
    return credentials


@transaction.atomic
def credential_issue_many(
    *,
    actor: User | None,
    institution: Institution,
    micro_credential: MicroCredential,
    recipients: Sequence[Recipient],
    valid_from: datetime | None = None,
) -> list[IssuedCredential]:
    """Issues to every recipient, or to none (CredentialError); e-mails them on commit."""
    return _issue_many(
        actor=actor,
        institution=institution,
        micro_credential=micro_credential,
        recipients=recipients,
        valid_from=valid_from,
    )


@transaction.atomic
def credential_issue(
    *,
    actor: User | None,
    institution: Institution,
    micro_credential: MicroCredential,
    holder_name: str,
    holder_email: str,
    awarded_date: date,
    valid_from: datetime | None = None,
    grade: str = "",
    evidence_url: str = "",
    evidence_narrative: str = "",
) -> IssuedCredential:
    """Builds, signs and stores a credential with fresh status indexes; e-mails the learner
    on commit. Raises CredentialError when the specification is not published or lacks a
    mandatory EU element."""
    recipient = Recipient(
        holder_name=holder_name,
        holder_email=holder_email,
        awarded_date=awarded_date,
        grade=grade,
        evidence_url=evidence_url,
        evidence_narrative=evidence_narrative,
    )
    (credential,) = _issue_many(
        actor=actor,
        institution=institution,
        micro_credential=micro_credential,
        recipients=[recipient],
        valid_from=valid_from,
    )
    return credential


def _set_status_bit(row: StatusList, index: int, value: bool) -> None:
    row = StatusList.objects.select_for_update().select_related("institution").get(pk=row.pk)
    _publish(row, bits=status_list.set_bit(bytes(row.bits), index, value))
    row.save(update_fields=["bits", "document", "etag", "updated_at"])


# What a status change made through the W3C VC-API records (why: credentials.models).
VC_API_STATUS_REASON_CODE = StatusReason.OTHER
VC_API_STATUS_REASON: Final = models.VC_API_STATUS_REASON


def status_change_refusal(*, credential: IssuedCredential | ApiCredential, target: str) -> str:
    """Why this credential cannot move to `target`, in the active language; "" when it can."""
    if isinstance(credential, ApiCredential) and not credential.with_status:
        return _("This credential was signed without status entries: its status cannot change.")
    if target not in TRANSITIONS[credential.status]:
        return _("A %(status)s credential cannot be changed any more.") % {
            "status": credential.get_status_display().lower()
        }
    if target == CredentialStatus.SUSPENDED and not credential.offers_suspension:
        return _(
            "This credential cannot be suspended: it was issued in the Open Badges "
            "3.0-strict format, which carries a revocation entry only. Revoke it if it "
            "must stop being valid."
        )
    return ""


# Either kind of credential signed under an institution's DID: both carry status entries.
def _transition[Signed: (IssuedCredential, ApiCredential)](
    credential: Signed,
    *,
    actor: User | None,
    target: str,
    action: str,
    reason: str,
    reason_code: str,
) -> Signed:
    """Moves either kind of credential to `target`: checks the transition, sets the status only
    if nobody changed it meanwhile, flips its bits on the re-signed revocation and suspension
    lists and records the reason (an issued credential's history, a VC-API credential's row)
    and the audit event. Idempotent: a credential already there is returned unchanged."""
    if reason_code and reason_code not in StatusReason.values:
        raise CredentialError(_("Choose a reason from the list."))
    model = type(credential)
    current = model.objects.select_for_update().get(pk=credential.pk)
    if current.status == target:
        return current
    refusal = status_change_refusal(credential=current, target=target)
    if refusal:
        raise CredentialError(refusal)
    # A VC-API credential has no history table: its row keeps the last reason.
    recorded: dict[str, str] = (
        {"status_reason": reason, "status_reason_code": reason_code}
        if isinstance(current, ApiCredential)
        else {}
    )
    updated = model.objects.filter(pk=current.pk, status=current.status).update(
        status=target, **recorded
    )
    if not updated:
        raise CredentialError(_("The credential changed meanwhile. Reload and try again."))
    # Signed without status entries is refused above: both lists are there.
    assert current.revocation_list is not None and current.revocation_index is not None
    assert current.suspension_list is not None and current.suspension_index is not None
    if target == CredentialStatus.REVOKED:
        _set_status_bit(current.revocation_list, current.revocation_index, True)
    if current.status == CredentialStatus.SUSPENDED or target == CredentialStatus.SUSPENDED:
        _set_status_bit(
            current.suspension_list, current.suspension_index, target == CredentialStatus.SUSPENDED
        )
    if isinstance(current, ApiCredential):
        audit_action = f"vc_api.credential_{action}"
        audit_detail = {
            "api_credential": str(current.public_id),
            "credential_id": current.credential_id,
        }
    else:
        audit_action, audit_detail = f"credential.{action}", {"credential": str(current.public_id)}
        CredentialEvent.objects.create(
            credential=current, actor=actor, action=action, reason_code=reason_code, reason=reason
        )
    AuditEvent.objects.create(
        institution_id=current.institution_id,
        actor=actor,
        action=audit_action,
        detail={**audit_detail, "reason_code": reason_code, "reason": reason},
    )
    current.status = target
    for name, value in recorded.items():
        setattr(current, name, value)
    if isinstance(current, IssuedCredential):
        hooks.credential_status_changed.send(sender=IssuedCredential, credential=current)
    return current


@transaction.atomic
def credential_revoke[Signed: (IssuedCredential, ApiCredential)](
    *, credential: Signed, actor: User | None, reason: str = "", reason_code: str = ""
) -> Signed:
    """Revokes for good and re-signs the revocation list. Idempotent. Either kind of credential
    (a VC-API one signed without status entries is refused)."""
    return _transition(
        credential,
        actor=actor,
        target=CredentialStatus.REVOKED,
        action=Action.REVOKED,
        reason=reason,
        reason_code=reason_code,
    )


@transaction.atomic
def credential_suspend[Signed: (IssuedCredential, ApiCredential)](
    *, credential: Signed, actor: User | None, reason: str = "", reason_code: str = ""
) -> Signed:
    """Suspends until reinstated and re-signs the suspension list. Idempotent. Either kind of credential
    (a VC-API one signed without status entries is refused)."""
    return _transition(
        credential,
        actor=actor,
        target=CredentialStatus.SUSPENDED,
        action=Action.SUSPENDED,
        reason=reason,
        reason_code=reason_code,
    )


@transaction.atomic
def credential_reinstate[Signed: (IssuedCredential, ApiCredential)](
    *, credential: Signed, actor: User | None, reason: str = "", reason_code: str = ""
) -> Signed:
    """Lifts a suspension and re-signs the suspension list. Idempotent; refused once revoked. Either kind of credential
    (a VC-API one signed without status entries is refused)."""
    return _transition(
        credential,
        actor=actor,
        target=CredentialStatus.ISSUED,
        action=Action.REINSTATED,
        reason=reason,
        reason_code=reason_code,
    )


STATUS_SERVICES = {
    "revoke": credential_revoke,
    "suspend": credential_suspend,
    "reinstate": credential_reinstate,
}


@transaction.atomic
def credentials_change_status(
    *,
    credentials: Sequence[IssuedCredential],
    actor: User | None,
    action: str,
    reason: str,
    reason_code: str = "",
) -> tuple[int, list[str]]:
    """Applies one status change to many credentials with one reason; all or nothing.
    Returns how many changed and, for those that could not, why (then nothing changed)."""
    service = STATUS_SERVICES[action]
    changed, problems = 0, []
    for credential in credentials:
        before = credential.status
        try:
            after = service(
                credential=credential, actor=actor, reason=reason, reason_code=reason_code
            )
        except CredentialError as exc:
            problems.append(f"{credential.holder_name}: {exc.message}")
            continue
        changed += after.status != before
    if problems:
        transaction.set_rollback(True)
        return 0, problems
    return changed, []


def holders_notify(*, credential_ids: Sequence[int]) -> None:
    """E-mails each learner of these credentials a single-use claim link, once, as holder_notify
    does, but in one transaction over one mail connection for the whole chunk. A credential is
    marked notified (and its event written) only once its message was accepted; if the mail
    server fails midway, those sent so far are recorded and the OSError is raised, so the
    task's retry sends only the rest."""
    failure: OSError | None = None
    with transaction.atomic():
        credentials = list(
            IssuedCredential.objects.select_for_update(of=("self",))
            .select_related("institution", "version__micro_credential")
            .filter(pk__in=credential_ids, notified_at__isnull=True)
            .order_by("pk")
        )
        if not credentials:
            return
        sent: list[IssuedCredential] = []
        now = timezone.now()
        try:
            with mailers.default as mailer:
                for credential in credentials:
                    mailer.send_messages([_claim_link_message(credential, now)])
                    sent.append(credential)
        except OSError as exc:  # smtplib's errors are OSErrors too
            failure = exc
        # One statement, each row written once: PostgreSQL checks the foreign keys of a row this
        # transaction already wrote, locking the institution row issuing holds (a deadlock).
        # The times are the chunk's, so only the tokens need a case a row.
        if sent:
            IssuedCredential.objects.filter(pk__in=[credential.pk for credential in sent]).update(
                claim_token_hash=Case(
                    *(
                        When(pk=credential.pk, then=Value(credential.claim_token_hash))
                        for credential in sent
                    ),
                    output_field=CharField(),
                ),
                claim_expires_at=now + CLAIM_LINK_LIFETIME,
                notified_at=now,
            )
        CredentialEvent.objects.bulk_create(
            [_notified_event(credential) for credential in sent], batch_size=500
        )
    if failure is not None:
        raise failure


CLAIM_LINK_LIFETIME = timedelta(days=60)


def claim_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def holder_notify(*, credential_id: int, resend: bool = False) -> None:
    """E-mails the learner a new single-use claim link, once (or again with `resend`), and
    records it on the credential's event log. The link's token is stored only hashed."""
    credential = (
        IssuedCredential.objects.select_for_update()
        .select_related("institution", "version__micro_credential")
        .filter(pk=credential_id)
        .first()
    )
    if credential is None or (credential.notified_at is not None and not resend):
        return
    if credential.holder_id is not None and resend:
        return  # already in the learner's wallet
    message = _claim_link_message(credential, timezone.now())
    credential.save(update_fields=["claim_token_hash", "claim_expires_at", "notified_at"])
    _notified_event(credential).save()
    mailers.default.send_messages([message])


def _claim_link_message(credential: IssuedCredential, now: datetime) -> EmailMultiAlternatives:
    """The claim e-mail for a fresh single-use link sent `now`; sets the credential's claim
    fields and notified_at (unsaved). The link's token is kept only hashed."""
    token = secrets.token_urlsafe(32)
    credential.claim_token_hash = claim_token_hash(token)
    credential.claim_expires_at = now + CLAIM_LINK_LIFETIME
    credential.notified_at = now
    context = {
        "credential": credential,
        "public_url": settings.MESHE_BASE_URL + credential.get_absolute_url(),
        "claim_url": settings.MESHE_BASE_URL + reverse("learners:claim", kwargs={"token": token}),
        "expires_at": credential.claim_expires_at,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/credential_issued_subject.txt", context).strip(),
        body=render_to_string("emails/credential_issued.txt", context),
        to=[credential.holder_email],
    )
    message.attach_alternative(
        render_to_string("emails/credential_issued.html", context), "text/html"
    )
    return message


def _notified_event(credential: IssuedCredential) -> CredentialEvent:
    return CredentialEvent(
        credential=credential,
        actor=None,
        action=Action.NOTIFIED,
        reason=CLAIM_LINK_SENT % {"email": credential.holder_email},
    )


@dataclass(frozen=True)
class EdcDownload:
    """The EDC as offered for download: its text, and who sealed it ("" when unsealed)."""

    text: str
    sealed_by: str = ""


def credential_edc(*, credential: IssuedCredential) -> EdcDownload:
    """The credential's European Digital Credential: sealed with the institution's e-seal when
    it has one (sealed once and stored verbatim; sealed again only when the certificate has
    changed since), unsealed otherwise, and when the certificate has expired."""
    e_seal = institution_selectors.e_seal_of(institution=credential.institution)
    if e_seal is None or (
        e_seal.not_after < timezone.now()
        and credential.sealed_edc_certificate != e_seal.fingerprint
    ):
        unsealed = json.dumps(documents.edc_credential(credential), ensure_ascii=False, indent=2)
        return EdcDownload(text=unsealed)
    if credential.sealed_edc and credential.sealed_edc_certificate == e_seal.fingerprint:
        return EdcDownload(text=credential.sealed_edc, sealed_by=e_seal.subject)
    return EdcDownload(
        text=credential_edc_seal(credential=credential, e_seal=e_seal), sealed_by=e_seal.subject
    )


@transaction.atomic
def credential_edc_seal(*, credential: IssuedCredential, e_seal: ESealCertificate) -> str:
    """Seals the credential's EDC with `e_seal` (JAdES baseline B), stores it and records the
    event; a concurrent request that sealed it first wins, and its document is returned."""
    stored = e_seals.load_stored(e_seal.certificate_chain_pem, e_seal.private_key_der())
    payload = json.dumps(documents.edc_credential(credential), ensure_ascii=False)
    sealed = json.dumps(
        jades.seal(payload, key=stored.key, chain=stored.chain, signing_time=timezone.now()),
        ensure_ascii=False,
    )
    won = (
        IssuedCredential.objects.filter(
            pk=credential.pk, sealed_edc_certificate=credential.sealed_edc_certificate
        )
        .exclude(sealed_edc_certificate=e_seal.fingerprint)
        .update(sealed_edc=sealed, sealed_edc_certificate=e_seal.fingerprint)
    )
    if not won:
        return IssuedCredential.objects.values_list("sealed_edc", flat=True).get(pk=credential.pk)
    CredentialEvent.objects.create(
        credential=credential,
        actor=None,
        action=Action.SEALED,
        reason=e_seal.subject_dn,
    )
    credential.sealed_edc, credential.sealed_edc_certificate = sealed, e_seal.fingerprint
    return sealed


@transaction.atomic
def credential_resend_claim(*, credential: IssuedCredential, actor: User | None) -> None:
    """Sends a fresh claim link on commit; the previous link stops working at once."""
    IssuedCredential.objects.filter(pk=credential.pk, holder__isnull=True).update(
        claim_token_hash="", claim_expires_at=None
    )
    tasks.resend_claim_link.delay_on_commit(credential.pk)


# Holders: what the learners app changes on an issued credential goes through these ----------


@transaction.atomic
def credentials_holder_attach(*, holder: User, addresses: Sequence[str]) -> int:
    """Gives `holder` every credential with no holder yet issued to one of `addresses`
    (lower-cased), each with a CLAIMED event; returns how many. Idempotent."""
    if not addresses:
        return 0
    # Issuers type addresses as they like: compare lower-cased, which the index covers.
    found = list(
        IssuedCredential.objects.select_for_update()
        .annotate(email_lower=Lower("holder_email"))
        .filter(holder__isnull=True, email_lower__in=addresses)
        .only("pk")
    )
    IssuedCredential.objects.filter(pk__in=[c.pk for c in found], holder__isnull=True).update(
        holder=holder, claimed_at=timezone.now()
    )
    CredentialEvent.objects.bulk_create(
        CredentialEvent(credential=c, actor=holder, action=CredentialEvent.Action.CLAIMED)
        for c in found
    )
    return len(found)


@transaction.atomic
def credential_claim_link_spend(*, credential: IssuedCredential) -> None:
    """The credential's claim link stops working (no expiry: spent); the credential is
    refreshed. Idempotent. The link's hash stays, so that the link can still say it was used
    and where the credential went; a resent link replaces it."""
    IssuedCredential.objects.filter(pk=credential.pk).update(claim_expires_at=None)
    credential.refresh_from_db()


@transaction.atomic
def credential_page_set_public(*, holder: User, credential: IssuedCredential, public: bool) -> bool:
    """Shows or hides the holder's credential at its own address; returns whether that
    changed. Nothing happens when it is already so; the caller logs the holder's event."""
    changed = IssuedCredential.objects.filter(
        pk=credential.pk, holder=holder, public_page=not public
    ).update(public_page=public)
    if credential.holder_id == holder.pk:
        credential.public_page = public
    return bool(changed)


@transaction.atomic
def credentials_holder_detach(*, holder: User) -> int:
    """Detaches every credential `holder` holds (they stay valid); returns how many."""
    return IssuedCredential.objects.filter(holder=holder).update(holder=None)


# Specifications --------------------------------------------------------------------------


def _check_complete(micro_credential: MicroCredential) -> None:
    """Raises CredentialError naming what the EU standard still misses."""
    probe = MicroCredentialVersion(
        micro_credential=micro_credential,
        number=1,
        snapshot=documents.specification_snapshot(micro_credential),
    )
    try:
        documents.specification(probe)
        for field, scheme in vocabularies.SPECIFICATION_FIELD_SCHEMES.items():
            if uri := getattr(micro_credential, field):
                vocabularies.concept(uri, scheme=scheme)
    except (ValueError, vocabularies.UnknownConcept) as exc:
        raise _missing_element(exc) from exc


def micro_credential_check_publishable(*, micro_credential: MicroCredential) -> None:
    """Raises CredentialError naming what publishing would refuse; writes nothing."""
    _check_complete(micro_credential)


def _refresh_published_version(micro_credential: MicroCredential, actor: User | None) -> None:
    """Keeps the latest version equal to the specification once it is published.

    A version nobody was issued under is rewritten in place; one with issued credentials
    stays as it is and a new version follows, so issued credentials keep theirs.
    """
    _lock_institution(micro_credential.institution)
    snapshot = documents.specification_snapshot(micro_credential)
    latest = micro_credential.versions.order_by("-number").first()
    if latest is not None and latest.snapshot == snapshot:
        return
    if latest is not None and not latest.issued_credentials.exists():
        latest.snapshot = snapshot
        latest.save(update_fields=["snapshot"])
        return
    MicroCredentialVersion.objects.create(
        micro_credential=micro_credential,
        number=latest.number + 1 if latest else 1,
        snapshot=snapshot,
        created_by=actor,
    )


@transaction.atomic
def micro_credential_save(
    *,
    actor: User | None,
    institution: Institution,
    micro_credential: MicroCredential | None = None,
    **fields: Any,
) -> MicroCredential:
    """Creates a draft or edits a specification; editing a published one that has issued
    credentials makes a new version. Raises CredentialError when a published one would
    lose a mandatory element."""
    creating = micro_credential is None
    if micro_credential is None:
        micro_credential = MicroCredential(institution=institution)
    elif micro_credential.institution_id != institution.pk:
        raise CredentialError(_("This micro-credential belongs to another institution."))
    for name, value in fields.items():
        if name not in SPECIFICATION_FIELDS and name not in PRACTICAL_FIELDS:
            raise TypeError(f"{name} is not a field of a specification")
        setattr(micro_credential, name, value)
    if micro_credential.status == MicroCredential.Status.PUBLISHED:
        _check_complete(micro_credential)
    micro_credential.save()
    if micro_credential.status == MicroCredential.Status.PUBLISHED:
        _refresh_published_version(micro_credential, actor)
    institution_services.audit(
        institution=institution,
        actor=actor,
        action="micro_credential.created" if creating else "micro_credential.edited",
        public_id=str(micro_credential.public_id),
        title=micro_credential.title,
    )
    return micro_credential


# draft → published → retired, and a retired one may be published again.
LIFECYCLE: dict[str, set[str]] = {
    MicroCredential.Status.DRAFT: {MicroCredential.Status.PUBLISHED},
    MicroCredential.Status.PUBLISHED: {MicroCredential.Status.RETIRED},
    MicroCredential.Status.RETIRED: {MicroCredential.Status.PUBLISHED},
}


@transaction.atomic
def micro_credential_set_status(
    *, actor: User | None, micro_credential: MicroCredential, status: str
) -> MicroCredential:
    """Publishes (only when every mandatory element is there) or retires. Idempotent."""
    current = MicroCredential.objects.select_for_update().get(pk=micro_credential.pk)
    if current.status == status:
        return current
    if status not in LIFECYCLE[current.status]:
        raise CredentialError(_("That change of status is not possible."))
    if status == MicroCredential.Status.PUBLISHED:
        _check_complete(current)
    current.status = status
    current.save(update_fields=["status", "updated_at"])
    if status == MicroCredential.Status.PUBLISHED:
        _refresh_published_version(current, actor)
    institution_services.audit(
        institution=current.institution,
        actor=actor,
        action=f"micro_credential.{status}",
        public_id=str(current.public_id),
        title=current.title,
    )
    return current


# Bulk issuing ------------------------------------------------------------------------------

BULK_CHUNK = 250


def _row_errors(values: dict[str, str], today: date) -> tuple[list[str], date | None]:
    problems = recipients.recipient_problems(
        holder_name=values["name"],
        holder_email=values["email"],
        awarded_date=values["awarded_date"],
        grade=values["grade"],
        evidence_url=values["evidence_url"],
        evidence_narrative=values["evidence_narrative"],
        today=today,
    )
    awarded = (
        None
        if "awarded_date" in problems
        else recipients.awarded_date_parse(values["awarded_date"])
    )
    return list(problems.values()), awarded


@transaction.atomic
def bulk_job_create(
    *,
    actor: User,
    institution: Institution,
    micro_credential: MicroCredential,
    filename: str,
    content: bytes,
) -> BulkIssueJob:
    """Reads and checks every row; nothing is issued. Raises CredentialError when the file
    cannot be read at all or the micro-credential cannot be issued."""
    if micro_credential.institution_id != institution.pk:
        raise CredentialError(_("This micro-credential belongs to another institution."))
    if micro_credential.status != MicroCredential.Status.PUBLISHED:
        raise CredentialError(_("Only published micro-credentials can be issued."))
    try:
        sheet = spreadsheets.read_rows(
            content,
            filename=filename,
            limits=spreadsheets.Limits(
                rows=settings.MESHE_SPREADSHEET_MAX_ROWS,
                inflated_bytes=settings.MESHE_SPREADSHEET_MAX_INFLATED_BYTES,
                columns=settings.MESHE_SPREADSHEET_MAX_COLUMNS,
                row_cells=settings.MESHE_SPREADSHEET_MAX_ROW_CELLS,
                cells=settings.MESHE_SPREADSHEET_MAX_CELLS,
                text_chars=settings.MESHE_SPREADSHEET_MAX_TEXT_CHARS,
            ),
        )
    except spreadsheets.SpreadsheetError as exc:
        raise CredentialError(str(exc)) from exc
    today = timezone.localdate()
    latest = micro_credential.versions.order_by("-number").first()
    already: dict[str, date] = {}
    if latest is not None and latest.snapshot == documents.specification_snapshot(micro_credential):
        # Only the sheet's addresses, through the lower-cased e-mail index: the cost follows the
        # sheet, not how many have been issued before.
        addresses = sorted({sheet_row.values["email"].lower() for sheet_row in sheet})
        for start in range(0, len(addresses), ADDRESSES_PER_QUERY):
            for email, issued_at in (
                IssuedCredential.objects.annotate(email_lower=Lower("holder_email"))
                .filter(
                    version=latest, email_lower__in=addresses[start : start + ADDRESSES_PER_QUERY]
                )
                .exclude(status=CredentialStatus.REVOKED)
                .values_list("email_lower", "issued_at")
            ):
                already[email] = timezone.localdate(issued_at)
    job = BulkIssueJob.objects.create(
        institution=institution,
        micro_credential=micro_credential,
        created_by=actor,
        filename=filename[:255],
        total_rows=len(sheet),
    )
    first_row_of: dict[str, int] = {}
    rows = []
    for sheet_row in sheet:
        values = sheet_row.values
        errors, awarded = _row_errors(values, today)
        email = values["email"].lower()
        if email in first_row_of:
            errors.append(
                _("The same e-mail address as row %(row)s.") % {"row": first_row_of[email]}
            )
        else:
            first_row_of[email] = sheet_row.number
        if email in already:
            errors.append(
                _("Already holds this micro-credential (issued %(date)s).")
                % {"date": already[email].isoformat()}
            )
        rows.append(
            BulkIssueRow(
                job=job,
                number=sheet_row.number,
                name=values["name"][:200],
                email=values["email"][:254],
                awarded_date=awarded,
                grade=values["grade"][:100],
                evidence_url=values["evidence_url"][:500],
                evidence_narrative=values["evidence_narrative"],
                errors=errors,
                status=BulkIssueRow.Status.INVALID if errors else BulkIssueRow.Status.PENDING,
            )
        )
    BulkIssueRow.objects.bulk_create(rows, batch_size=1000)
    job.valid_rows = sum(1 for row in rows if not row.errors)
    job.save(update_fields=["valid_rows"])
    institution_services.audit(
        institution=institution,
        actor=actor,
        action="bulk_issue.uploaded",
        job=str(job.public_id),
        rows=job.total_rows,
        valid=job.valid_rows,
    )
    return job


@transaction.atomic
def bulk_job_start(*, actor: User | None, job: BulkIssueJob) -> BulkIssueJob:
    """Confirms the valid rows and enqueues the issuing on commit. Idempotent."""
    job = BulkIssueJob.objects.select_for_update().get(pk=job.pk)
    if job.status != BulkIssueJob.Status.VALIDATED:
        return job
    if job.valid_rows == 0:
        raise CredentialError(_("No row is valid: there is nothing to issue."))
    job.status = BulkIssueJob.Status.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    institution_services.audit(
        institution=job.institution,
        actor=actor,
        action="bulk_issue.started",
        job=str(job.public_id),
        rows=job.valid_rows,
    )
    tasks.run_bulk_issue.delay_on_commit(job.pk)
    return job


def _mark_rows_issued(
    rows: Sequence[BulkIssueRow], credentials: Sequence[IssuedCredential]
) -> None:
    """Marks each row issued with its credential, in one statement. Django's bulk_update
    builds a CASE of one WHEN per row and field, which cost a chunk more time than its SQL;
    this is plain SQL (a CTE before UPDATE) that PostgreSQL and SQLite both run."""
    quote = connection.ops.quote_name
    table = quote(BulkIssueRow._meta.db_table)
    pairs = list(zip(rows, credentials, strict=True))
    values = ", ".join(["(%s, %s)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH issued (row_id, credential_id) AS (VALUES {values}) "  # noqa: S608  # placeholders only
            f"UPDATE {table} SET {quote('status')} = %s, {quote('credential_id')} = "
            f"(SELECT credential_id FROM issued WHERE issued.row_id = {table}.{quote('id')}) "
            f"WHERE {quote('id')} IN (SELECT row_id FROM issued)",
            [
                *(value for row, credential in pairs for value in (row.pk, credential.pk)),
                BulkIssueRow.Status.ISSUED,
            ],
        )
    for row, credential in pairs:
        row.status = BulkIssueRow.Status.ISSUED
        row.credential = credential


def bulk_job_run(*, job_id: int) -> None:
    """Issues the job's pending rows, a chunk per transaction. A chunk's credentials and its
    rows' "issued" marks commit together, so a job that dies midway resumes where it was
    and never issues a row twice."""
    job = BulkIssueJob.objects.select_related("institution", "micro_credential", "created_by").get(
        pk=job_id
    )
    if job.status != BulkIssueJob.Status.RUNNING:
        return
    error = ""
    while not error:
        with transaction.atomic():
            rows = list(
                BulkIssueRow.objects.select_for_update()
                .filter(job=job, status=BulkIssueRow.Status.PENDING)
                .order_by("number")[:BULK_CHUNK]
            )
            if not rows:
                break
            try:
                credentials = _issue_many(
                    actor=job.created_by,
                    institution=job.institution,
                    micro_credential=job.micro_credential,
                    recipients=[
                        Recipient(
                            holder_name=row.name,
                            holder_email=row.email,
                            awarded_date=row.awarded_date,  # type: ignore[arg-type]  # pending rows have one
                            grade=row.grade,
                            evidence_url=row.evidence_url,
                            evidence_narrative=row.evidence_narrative,
                        )
                        for row in rows
                    ],
                )
            except CredentialError as exc:
                # Nothing of this chunk may stay: not its versions, not its status indexes.
                transaction.set_rollback(True)
                error = exc.message
                continue
            _mark_rows_issued(rows, credentials)
            BulkIssueJob.objects.filter(pk=job.pk).update(
                issued_count=F("issued_count") + len(rows), progressed_at=timezone.now()
            )
    BulkIssueJob.objects.filter(pk=job.pk, status=BulkIssueJob.Status.RUNNING).update(
        status=BulkIssueJob.Status.FAILED if error else BulkIssueJob.Status.DONE,
        finished_at=timezone.now(),
        error=error,
    )


def bulk_jobs_resume(*, stalled_after: timedelta) -> int:
    """Enqueues again each running job whose last chunk (or start) is older than
    `stalled_after`: its worker was lost, or the queue lost its message. Safe even when the
    job is still running elsewhere, since each chunk locks its rows. Returns how many."""
    cutoff = timezone.now() - stalled_after
    stalled = list(
        BulkIssueJob.objects.filter(status=BulkIssueJob.Status.RUNNING)
        .annotate(moved_at=Coalesce("progressed_at", "started_at"))
        .filter(moved_at__lte=cutoff)
        .values_list("pk", flat=True)
    )
    for job_id in stalled:
        tasks.run_bulk_issue.delay(job_id)
    return len(stalled)


# Older unnotified credentials are left alone: their learners would not expect the e-mail.
NOTIFY_SWEEP_HORIZON = timedelta(days=7)


def holders_notify_sweep(*, older_than: timedelta) -> int:
    """Enqueues the claim e-mail of credentials issued more than `older_than` ago (within
    NOTIFY_SWEEP_HORIZON) that no one was notified of, e.g. because the queue was down when
    they were issued. holder_notify sends each at most once. Returns how many."""
    now = timezone.now()
    pending = list(
        IssuedCredential.objects.filter(
            notified_at__isnull=True,
            holder__isnull=True,
            status=CredentialStatus.ISSUED,
            issued_at__lte=now - older_than,
            issued_at__gte=now - NOTIFY_SWEEP_HORIZON,
        ).values_list("pk", flat=True)
    )
    for start in range(0, len(pending), 500):
        tasks.notify_holders.delay(pending[start : start + 500])
    return len(pending)


# ---------------------------------------------------------------- the W3C VC-API's credentials


def credential_id_in_use(credential_id: str) -> bool:
    """Whether any credential of any institution on this node already has this id."""
    if ApiCredential.objects.filter(credential_id=credential_id).exists():
        return True
    if credential_id.startswith("urn:uuid:"):
        try:
            public_id = uuid.UUID(credential_id.removeprefix("urn:uuid:"))
        except ValueError:
            return False
        return IssuedCredential.objects.filter(public_id=public_id).exists()
    return False


def _names_this_node(value: Any) -> bool:
    """Whether a caller's value points into this node's own address space (its status lists…)."""
    return isinstance(value, str) and (
        value == settings.MESHE_BASE_URL or value.startswith(settings.MESHE_BASE_URL + "/")
    )


def _with_status_entries(document: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The document with this node's status entries after any of the caller's own."""
    given = document.get("credentialStatus")
    kept = [] if given is None else given if isinstance(given, list) else [given]
    document = {**document, "credentialStatus": [*kept, *entries]}
    context = document.get("@context")
    if not isinstance(context, list) or not context:
        return document
    status_context = "https://www.w3.org/ns/credentials/status/v1"
    if context[0] == proof_sets.CREDENTIALS_V1_CONTEXT and status_context not in context:
        # Right after the base context: the Data Integrity context the VC-API adds stays last.
        document["@context"] = [context[0], status_list.STATUS_ENTRY_TERMS, *context[1:]]
    return document


@transaction.atomic
def api_credential_sign(
    *, token: ApiToken, credential: dict[str, Any], credential_id: str, with_status: bool
) -> ApiCredential:
    """Signs a VC-API caller's credential under the token's institution and keeps it, with a
    revocation and a suspension entry unless `with_status` is false. Raises CredentialIdTaken
    for an id another credential on the node has (or one under this node's own address),
    CredentialError for status entries that point at this node's lists, and lets
    signing.CanonicalizationError and data_model.DataModelError through; nothing is kept then."""
    institution = token.institution
    if credential_id and (_names_this_node(credential_id) or credential_id_in_use(credential_id)):
        raise CredentialIdTaken(
            _("Another credential on this node already has the id %(id)s.") % {"id": credential_id}
        )
    given = credential.get("credentialStatus")
    for entry in given if isinstance(given, list) else [given]:
        if isinstance(entry, dict) and any(_names_this_node(value) for value in entry.values()):
            raise CredentialError(
                _(
                    "Status entries on this node's status lists are added by the node itself; "
                    "leave them out of the credential."
                )
            )
    # Refused before any status index is spent; the signer checks again with the entries.
    data_model.check(credential)
    locked = _lock_institution(institution)
    # As for the institution's own credentials (_issue_many): OB 3.0-strict offers no suspension.
    offers_suspension = not (locked or institution).ob3_strict
    now = timezone.now().replace(microsecond=0)
    row = ApiCredential(
        institution=institution,
        credential_id=credential_id,
        issued_at=now,
        issued_by=token.created_by,
        token_prefix=token.prefix,
        offers_suspension=offers_suspension,
    )
    document = dict(credential)
    if with_status:
        ((revocation, r_index),) = _allocate_indexes(institution, StatusPurpose.REVOCATION, 1)
        ((suspension, s_index),) = _allocate_indexes(institution, StatusPurpose.SUSPENSION, 1)
        row.revocation_list, row.revocation_index = revocation, r_index
        row.suspension_list, row.suspension_index = suspension, s_index
        entries = [
            status_list.status_entry(list_url=revocation.url, purpose="revocation", index=r_index)
        ]
        if offers_suspension:
            entries.append(
                status_list.status_entry(
                    list_url=suspension.url, purpose="suspension", index=s_index
                )
            )
        document = _with_status_entries(document, entries)
    key = institution_selectors.active_signing_key(institution=institution)
    signed = signing.sign_document(
        document,
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=signing.format_created(now),
    )
    types = signed.get("type")
    row.types = [each for each in (types if isinstance(types, list) else [types]) if each]
    subjects = signed.get("credentialSubject")
    first = subjects[0] if isinstance(subjects, list) and subjects else subjects
    subject_id = first.get("id") if isinstance(first, dict) else None
    row.subject_id = subject_id if isinstance(subject_id, str) else ""
    row.document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # Another institution took the id between our check and now.
        raise CredentialIdTaken(
            _("Another credential on this node already has the id %(id)s.") % {"id": credential_id}
        ) from None
    institution_services.audit(
        institution=institution,
        actor=token.created_by,
        action="vc_api.credential_signed",
        token=token.prefix,
        api_credential=str(row.public_id),
        credential_id=credential_id,
        type=row.types,
        with_status=with_status,
    )
    return row


# ---------------------------------------------------------------- endorsements

MAX_ENDORSEMENT_COMMENT: Final = 1000


def _endorsement_comment(comment: str) -> str:
    """The comment as signed: plain text, not blank, at most MAX_ENDORSEMENT_COMMENT long."""
    comment = comment.strip()
    if not comment:
        raise CredentialError(_("Write what the endorsement says."))
    if len(comment) > MAX_ENDORSEMENT_COMMENT or plain_text.control_character_problem(comment):
        raise CredentialError(
            _("The comment must be plain text of at most %(limit)s characters.")
            % {"limit": MAX_ENDORSEMENT_COMMENT}
        )
    return comment


@transaction.atomic
def endorsement_issue(
    *,
    actor: User | None,
    institution: Institution,
    subject_id: str,
    subject_name: str,
    comment: str,
) -> Endorsement:
    """Signs, under the institution's DID, an OB 3.0 endorsement of another institution's offer
    (`subject_id`, its address) with an entry in the institution's revocation list, and keeps
    it. Idempotent while the same comment stands unrevoked. Raises CredentialError."""
    comment = _endorsement_comment(comment)
    _lock_institution(institution)
    standing = Endorsement.objects.filter(
        source=Endorsement.Source.ISSUED,
        endorser_institution=institution,
        subject_id=subject_id,
        comment=comment,
        revoked_at__isnull=True,
    ).first()
    if standing is not None:
        return standing
    now = timezone.now().replace(microsecond=0)
    ((revocation, index),) = _allocate_indexes(institution, StatusPurpose.REVOCATION, 1)
    public_id = uuid.uuid4()
    unsigned = ob3.build_endorsement_credential(
        endorser=documents.issuer(institution),
        endorsement=ob3.Endorsement(
            credential_id=f"urn:uuid:{public_id}",
            subject_id=subject_id,
            subject_name=subject_name,
            comment=comment,
            issued_at=now,
            status=StatusEntry(purpose="revocation", list_url=revocation.url, index=index),
        ),
    )
    endorsement = Endorsement.objects.create(
        public_id=public_id,
        source=Endorsement.Source.ISSUED,
        endorser_institution=institution,
        credential_id=unsigned["id"],
        subject_id=subject_id,
        endorser_did=institution.did,
        endorser_name=institution.name,
        comment=comment,
        issued_at=now,
        state=Endorsement.State.VERIFIED,
        checked_at=now,
        revocation_list=revocation,
        revocation_index=index,
        created_by=actor,
        document=_sign(institution, unsigned, at=now),
    )
    institution_services.audit(
        institution=institution,
        actor=actor,
        action="endorsement.issued",
        endorsement=str(endorsement.public_id),
        subject=subject_id,
    )
    return endorsement


@transaction.atomic
def endorsement_revoke(*, actor: User | None, endorsement: Endorsement, reason: str) -> Endorsement:
    """Revokes an endorsement this node's institution gave, for good: sets its bit in the
    re-signed revocation list, so every verifier sees it. Idempotent; a reason is required."""
    reason = reason.strip()
    if not reason:
        raise CredentialError(_("Say why the endorsement is revoked."))
    current = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
    if current.source != Endorsement.Source.ISSUED:
        raise CredentialError(_("Only the endorser can revoke an endorsement."))
    if current.revoked_at is not None:
        return current
    assert current.revocation_list is not None and current.revocation_index is not None
    _set_status_bit(current.revocation_list, current.revocation_index, True)
    current.state = Endorsement.State.REVOKED
    current.revoked_at = current.checked_at = timezone.now()
    current.revocation_reason = reason
    current.save(update_fields=["state", "revoked_at", "checked_at", "revocation_reason"])
    assert current.endorser_institution is not None  # issued ones have it (a constraint)
    institution_services.audit(
        institution=current.endorser_institution,
        actor=actor,
        action="endorsement.revoked",
        endorsement=str(current.public_id),
        subject=current.subject_id,
        reason=reason,
    )
    return current


# What a verified endorsement's state is kept as (verifier.endorsement_state's names).
_KEPT_STATES: Final = {
    verifier.EndorsementState.VERIFIED: Endorsement.State.VERIFIED,
    verifier.EndorsementState.ENDORSER_UNKNOWN: Endorsement.State.ENDORSER_UNKNOWN,
    verifier.EndorsementState.REVOKED: Endorsement.State.REVOKED,
}


def endorsement_receive(
    *,
    actor: User | None,
    micro_credential: MicroCredential,
    document: str | bytes,
    source: str,
    endorser_did: str | None = None,
) -> Endorsement:
    """Verifies an EndorsementCredential of one of this node's offers (from a partner over the
    exchange, or recorded by an admin) and keeps it with what verification found; credentials
    issued afterwards carry it while it stays verified. `endorser_did`, when given, is whom it
    must come from. Raises CredentialError for a document that is no endorsement of this offer,
    or whose signature does not verify; keeps nothing then. Verifies before its transaction:
    the endorser's status list may be fetched."""
    try:
        parsed = strict_json.load_object(document)
        facts = ob3.endorsement_facts(parsed)
    except (strict_json.JsonRefused, ValueError):
        raise CredentialError(_("This is not an Open Badges 3.0 endorsement.")) from None
    if facts.subject_id != documents.offer_url(micro_credential):
        raise CredentialError(_("This endorsement is about something else than this offer."))
    if endorser_did is not None and facts.endorser_id != endorser_did:
        raise CredentialError(_("This endorsement was signed by someone else than its sender."))
    result = verifier.verify(document)
    found = verifier.endorsement_state(result)
    if found == verifier.EndorsementState.UNCHECKED:
        raise CredentialError(
            _(
                "The endorsement could not be checked: its signer's key or revocation list "
                "could not be read, or it needs more work than this portal spends on one "
                "document."
            )
        )
    state = _KEPT_STATES.get(found)
    if state is None:
        raise CredentialError(
            _(
                "The endorsement does not verify: its signature, its signing key or its dates "
                "are not valid."
            )
        )
    try:
        issued_at = verification.parse_date_time_stamp(parsed.get("validFrom"))
    except ValueError:
        issued_at = timezone.now()  # VC 2.0 makes validFrom optional; OB 3.0's schema does not
    text = document if isinstance(document, str) else document.decode("utf-8")
    return _endorsement_keep(
        actor=actor,
        micro_credential=micro_credential,
        facts=facts,
        state=state,
        source=source,
        issued_at=issued_at,
        document=text,
        endorser_name=(result["summary"] or {}).get("issuer", {}).get("name") or "",
    )


@transaction.atomic
def _endorsement_keep(
    *,
    actor: User | None,
    micro_credential: MicroCredential,
    facts: ob3.EndorsementFacts,
    state: str,
    source: str,
    issued_at: datetime,
    document: str,
    endorser_name: str,
) -> Endorsement:
    now = timezone.now()
    checked = {
        "state": state,
        "checked_at": now,
        "document": document,
        "comment": facts.comment,
        "endorser_name": (endorser_name or facts.endorser_name or facts.endorser_id)[:300],
    }
    endorsement, created = Endorsement.objects.update_or_create(
        micro_credential=micro_credential,
        credential_id=facts.credential_id,
        defaults=checked,
        create_defaults={
            **checked,
            "source": source,
            "subject_id": facts.subject_id,
            "endorser_did": facts.endorser_id,
            "issued_at": issued_at,
            "created_by": actor,
        },
    )
    institution_services.audit(
        institution=micro_credential.institution,
        actor=actor,
        action="endorsement.received" if created else "endorsement.checked",
        endorsement=str(endorsement.public_id),
        endorser=facts.endorser_id,
        state=state,
    )
    return endorsement


def endorsement_recheck(*, endorsement: Endorsement) -> Endorsement:
    """Verifies a received endorsement again (its endorser may have revoked it) and keeps what
    it finds; the state shows on the offer's pages and decides whether new credentials carry
    it. When nothing could be concluded (the endorser's node unreachable), the last finding
    stands. Verifies before its transaction."""
    found = verifier.endorsement_state(verifier.verify(endorsement.document))
    if found == verifier.EndorsementState.UNCHECKED:
        return endorsement
    state = _KEPT_STATES.get(found, Endorsement.State.INVALID)
    now = timezone.now()
    with transaction.atomic():
        Endorsement.objects.filter(pk=endorsement.pk).update(state=state, checked_at=now)
        if state != endorsement.state and endorsement.micro_credential is not None:
            institution_services.audit(
                institution=endorsement.micro_credential.institution,
                actor=None,
                action="endorsement.checked",
                endorsement=str(endorsement.public_id),
                endorser=endorsement.endorser_did,
                state=state,
            )
    endorsement.state, endorsement.checked_at = state, now
    return endorsement


def endorsements_recheck() -> int:
    """Checks again every standing endorsement of this node's offers (received or recorded;
    revoked ones stay revoked); returns how many changed state. The daily beat job."""
    changed = 0
    standing = (
        Endorsement.objects.filter(micro_credential__isnull=False)
        .exclude(state=Endorsement.State.REVOKED)
        .select_related("micro_credential__institution")
    )
    for endorsement in standing.iterator():
        before = endorsement.state
        changed += endorsement_recheck(endorsement=endorsement).state != before
    return changed
