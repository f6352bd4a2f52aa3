from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("Credentials")

    def ready(self) -> None:
        # The standards core imports no Django: hand it the active language here.
        from django.utils.translation import get_language

        from credentials.standards import vocabularies

        vocabularies.use_active_language(get_language)

        # An institution's public page lists its published offers (institutions.hooks).
        from credentials.catalogue import offers as catalogue
        from institutions import hooks

        def public_offers(*, institution: Any) -> catalogue.Results:
            return catalogue.offers(catalogue.Filters(institution=institution.slug))

        hooks.public_offers.answer_with(public_offers)

        # A status change reaches the SD-JWT VCs in learners' wallets, in the same transaction.
        from credentials import hooks as credential_hooks
        from credentials.wallet import issuance

        def sync_wallet_tokens(sender: Any, *, credential: Any, **kwargs: Any) -> None:
            issuance.token_status_sync(credential=credential, status=credential.status)

        credential_hooks.credential_status_changed.connect(
            sync_wallet_tokens, dispatch_uid="credentials.wallet.token_status", weak=False
        )

        # A migration that rebuilds the credentials table drops its tally triggers with it.
        from django.db import connections, transaction
        from django.db.models.signals import post_migrate

        from credentials import tally

        def ensure_tally(sender: Any, *, using: str, **kwargs: Any) -> None:
            with transaction.atomic(using=using):
                tally.ensure(connections[using])

        post_migrate.connect(
            ensure_tally, sender=self, dispatch_uid="credentials.tally", weak=False
        )
