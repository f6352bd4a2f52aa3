from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = _("Learners")

    def ready(self) -> None:
        from credentials import hooks
        from learners import security_events, selectors, signals  # noqa: F401  # connects the receivers

        # Imported credentials count toward pathways (credentials.hooks).
        hooks.imported_holdings.answer_with(selectors.imported_holdings)
