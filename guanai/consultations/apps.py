from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def check_crisis_rules(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A malformed GUANAI_CRISIS_RULES_FILE stops the start, not the first child asking for help."""
    from guanai.consultations.triage import crisis_rules

    try:
        crisis_rules()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="guanai.E101")]
    return []


class ConsultationsConfig(AppConfig):
    name = "guanai.consultations"
    label = "consultations"
    verbose_name = "网上律师事务所与心理志愿服务"

    def ready(self) -> None:
        checks.register(check_crisis_rules)
