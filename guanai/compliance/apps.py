from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "guanai.compliance"
    label = "compliance"
    verbose_name = "个人信息保护合规"
