from django.apps import AppConfig


class MesheConfig(AppConfig):
    name = "meshe"
    verbose_name = "MESHE"

    def ready(self) -> None:
        from django.db.models import fields
        from django.utils.translation import gettext_lazy

        from meshe import rate_limits  # noqa: F401  # registers its system check

        # A select's empty choice in MESHE's words ("Choose…", as the editor's own lists say):
        # Django's "- Select an option -" has no French or German yet, so German pages showed
        # it in English.
        fields.BLANK_CHOICE_LABEL = gettext_lazy("Choose…")
