from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from guanai.core.errors import ValidationFailed
from guanai.demo.services import DEMO_ACCOUNTS, demo_load


class Command(BaseCommand):
    help = "载入演示数据 (Load the demo data set: committees of 淳安县 and 建德市 and one account per role)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("GUANAI_DEMO_PASSWORD") or None
        try:
            result = demo_load(password=password)
        except ValidationFailed as error:
            raise CommandError(error.summary) from error
        self.stdout.write(
            f"演示数据：新建关工委 {result.committees_created} 个，班子成员 {result.members_created} 人，"
            f"新建账号 {len(result.users_created)} 个，演示儿童 {result.minors_created} 名，"
            f"五老志愿者 {result.volunteers_created} 名，五老队伍 {result.teams_created} 支"
        )
        self.stdout.write(
            f"结对关爱：新建结对 {result.pairings_created} 对"
            f"（其中逾期未走访 {result.pairings_overdue} 对），"
            f"走访记录 {result.visits_created} 条，强制报告 {result.reports_opened} 件；"
            f"网吧 {result.cafes_created} 家，巡查 {result.inspections_created} 次，"
            f"待处理问题 {result.findings_opened} 件；帮教案件 {result.mentoring_cases_created} 件"
        )
        self.stdout.write(
            f"网上咨询：值班时段 {result.duty_slots_created} 个，知识问答 {result.articles_published} 篇，"
            f"历史求助 {result.consultations_created} 件（演示律师、心理咨询师全天值班，服务淳安县）"
        )
        if result.no_sealed_record:
            self.stdout.write("演示儿童中没有特殊青少年（封存）记录，未建帮教案件。")
        self.stdout.write("演示账号 (demo logins):")
        for username, display_name, role, code in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<16} {role.label}（{display_name}，区划 {code}）")
        self.stdout.write(
            "管理员账号（省、市、县级管理员，安全、审计、系统管理员）首次登录时须用验证器应用扫码绑定双因素认证。"
        )
        if result.password_generated:
            self.stdout.write(f"演示密码 (password, shown only this once): {result.password}")
        elif password:
            self.stdout.write("演示密码：GUANAI_DEMO_PASSWORD 的值")
        else:
            self.stdout.write("演示密码：首次载入时打印的密码（设置 GUANAI_DEMO_PASSWORD 可重设）")
