from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("Credentials")

    def ready(self) -> None:
        # An institution's public page lists its published offers (institutions.hooks).
        from credentials import catalogue
        from institutions import hooks

        def public_offers(*, institution: Any) -> catalogue.Results:
            return catalogue.offers(catalogue.Filters(institution=institution.slug))

        hooks.public_offers.answer_with(public_offers)
