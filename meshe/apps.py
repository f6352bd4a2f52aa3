from django.apps import AppConfig


class MesheConfig(AppConfig):
    name = "meshe"
    verbose_name = "MESHE"
