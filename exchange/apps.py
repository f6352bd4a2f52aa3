from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange")

    def ready(self) -> None:
        # Answers what credentials asks of the exchange (credentials.hooks).
        from credentials import hooks
        from exchange import deliveries, selectors

        hooks.partner_issuer_name.answer_with(selectors.agreed_partner_name)
        hooks.deliveries_of_credential.answer_with(selectors.deliveries_of_credential)
        hooks.delivery_counts.answer_with(selectors.delivery_counts)

        def notify_partners(sender: Any, *, credential: Any, **kwargs: Any) -> None:
            deliveries.status_notices_enqueue(credential=credential)

        hooks.credential_status_changed.connect(
            notify_partners, dispatch_uid="exchange.status_notices", weak=False
        )
