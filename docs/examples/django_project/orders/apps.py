from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        # Declare the workers in every process: the web server's and `manage.py oban start`'s.
        from . import workers  # noqa: F401
