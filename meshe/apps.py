from django.apps import AppConfig


class MesheConfig(AppConfig):
    name = "meshe"
    verbose_name = "MESHE"

    def ready(self) -> None:
        from meshe import rate_limits  # noqa: F401  # registers its system check
