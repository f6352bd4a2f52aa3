from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange")

    def ready(self) -> None:
        # Answers what credentials asks of the exchange (credentials.hooks, credentials.catalogue.offers).
        from credentials import hooks
        from credentials.catalogue import offers as catalogue
        from exchange import deliveries, partner_catalogue, selectors
        from institutions import hooks as institution_hooks

        hooks.partner_issuer_name.answer_with(selectors.agreed_partner_name)
        hooks.deliveries_of_credential.answer_with(selectors.deliveries_of_credential)
        hooks.delivery_counts.answer_with(selectors.delivery_counts)
        catalogue.partner_offers_matching.answer_with(partner_catalogue.partner_offers_matching)
        catalogue.partner_listings.answer_with(partner_catalogue.partner_listings)
        catalogue.offer_recognitions.answer_with(selectors.offer_recognitions)
        institution_hooks.public_partners.answer_with(selectors.confirmed_partners)

        def notify_partners(sender: Any, *, credential: Any, **kwargs: Any) -> None:
            deliveries.status_notices_enqueue(credential=credential)

        hooks.credential_status_changed.connect(
            notify_partners, dispatch_uid="exchange.status_notices", weak=False
        )
