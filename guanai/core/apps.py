import sys

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guanai.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from guanai.core import cached  # noqa: F401  # watches every connection's writes (guanai.core.cached)
        from guanai.core.keys import key_ring

        # `generate_keys` is how an operator makes the keys that are missing, so it must start without.
        if sys.argv[1:2] == ["generate_keys"]:
            return
        # Read and validate the key ring now: in production missing or malformed keys refuse to start
        # (ImproperlyConfigured); with DEBUG on and none configured, local keys are generated in var/.
        key_ring()
