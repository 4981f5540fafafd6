"""factory_boy factories for 网吧义务监督."""

from __future__ import annotations

import factory

from guanai.cafes.models import InternetCafe

TOWNSHIP_A = "330127100000"  # 千岛湖镇 (淳安县)
TOWNSHIP_B = "330182001000"  # 新安江街道 (建德市)


class InternetCafeFactory(factory.django.DjangoModelFactory[InternetCafe]):
    class Meta:
        model = InternetCafe

    region_id = TOWNSHIP_A
    name = factory.Sequence(lambda n: f"测试网吧{n}")
    address = factory.Sequence(lambda n: f"浙江省杭州市淳安县千岛湖镇新安东路{n}号")
    licence_number = factory.Sequence(lambda n: f"浙网文〔2019〕{1000 + n}-056号")
    operator = "陈国强"
    phone = factory.Sequence(lambda n: f"138{n:08d}")
