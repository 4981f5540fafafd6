from django.apps import AppConfig


class EncryptionTestAppConfig(AppConfig):
    name = "guanai.core.tests.encryption_testapp"
    label = "encryption_testapp"
    verbose_name = "加密字段测试"
