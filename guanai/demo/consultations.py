"""The demo's online help: the demo lawyer and counsellor on duty for 淳安县 around the clock, the
questions and answers they published in the knowledge base, and a year of made-up requests in both demo
counties (the supervisors' figures, the professionals' history), with the latest still waiting, accepted
or overdue. Loading again adds nothing that is there already."""

from __future__ import annotations

from dataclasses import dataclass

from guanai.accounts.selectors import actor_for_user
from guanai.consultations.generation import generate_consultations
from guanai.consultations.knowledge import article_create, article_publish
from guanai.consultations.models import Article, Consultation, DutySlot
from guanai.consultations.vocabulary import DutyPart, Kind, Topic
from guanai.core import region_codes
from guanai.volunteers.models import Volunteer

CHUNAN = "330127000000"  # 淳安县
JIANDE = "330182000000"  # 建德市

# (username, kind): the demo professionals, on duty every part of every day so that a request made while
# trying the demo always finds someone.
ON_DUTY: tuple[tuple[str, str], ...] = (("demo-lawyer", Kind.LEGAL), ("demo-counsellor", Kind.PSYCHOLOGICAL))

# (county, requests over the last year, seed)
DEMO_REQUESTS = ((CHUNAN, 160, 71), (JIANDE, 90, 72))

# (author, kind, topic, question, keywords, answer)
ARTICLES: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "demo-lawyer",
        Kind.LEGAL,
        Topic.SCHOOL_BULLYING,
        "在学校被同学欺负，应该怎么办？",
        "校园欺凌 欺负 打人 勒索 起绰号",
        "先保证自己的安全，及时告诉老师和家长，不要独自忍受。学校发现欺凌行为应当立即制止，并通知双方监护人"
        "（未成年人保护法第三十九条）。保留证据：受伤照片、聊天记录、证人姓名。情节严重的可以报警（110）。"
        "也可以拨打 12355 青少年服务台求助。",
    ),
    (
        "demo-lawyer",
        Kind.LEGAL,
        Topic.DOMESTIC_VIOLENCE,
        "家里人打我，我可以向谁求助？",
        "家庭暴力 家暴 打骂 人身安全保护令",
        "任何人都不能对未成年人实施家庭暴力。遇到危险请立即拨打 110。你、你的老师或居委会、妇联都可以为你"
        "向法院申请人身安全保护令（反家庭暴力法第二十三条）。学校、医院、居委会发现未成年人遭受家暴有义务"
        "报告。你也可以在本平台留言，律师志愿者会帮你。",
    ),
    (
        "demo-lawyer",
        Kind.LEGAL,
        Topic.ONLINE_HARM,
        "网上有人发我的照片威胁我，怎么办？",
        "网络侵害 照片 威胁 敲诈 网络欺凌",
        "不要按对方要求转钱或发更多照片。截图保存聊天记录、对方账号，向平台举报并报警。网络运营者发现侵害"
        "未成年人的信息应当删除、屏蔽（未成年人保护法第八十条）。告诉一位你信任的大人。",
    ),
    (
        "demo-lawyer",
        Kind.LEGAL,
        Topic.LABOUR_RIGHTS,
        "不满十六岁可以打暑假工吗？",
        "打工 童工 劳动 暑假工 十六周岁",
        "用人单位不得招用不满十六周岁的未成年人（劳动法第十五条），文艺、体育等特殊单位须经批准。"
        "已满十六周岁不满十八周岁的未成年工不得从事有毒有害、过重体力劳动，并应定期体检。遇到拖欠工资"
        "可以向当地劳动保障监察机构投诉。",
    ),
    (
        "demo-lawyer",
        Kind.LEGAL,
        Topic.GUARDIANSHIP,
        "父母离婚后，我能选择跟谁生活吗？",
        "离婚 抚养权 监护 抚养费 八周岁",
        "子女已满八周岁的，法院判决抚养问题时应当尊重其真实意愿（民法典第一千零八十四条）。不直接抚养的一方"
        "仍要负担抚养费，也有探望的权利。没有固定收入的未成年人申请法律援助不需要经济困难审查"
        "（法律援助法第四十二条）。",
    ),
    (
        "demo-counsellor",
        Kind.PSYCHOLOGICAL,
        Topic.STUDY_PRESSURE,
        "考试前总是紧张、睡不着怎么办？",
        "考试 紧张 焦虑 失眠 学习压力",
        "考前紧张是很常见的反应，适度的紧张还能帮助集中注意力。可以试试：规律作息，睡前一小时放下手机；"
        "把复习计划拆成每天能完成的小目标；紧张时做几次慢慢的深呼吸（吸气四秒、停两秒、呼气六秒）。"
        "如果持续两周以上睡不好、吃不下，请告诉家长或老师，也可以在这里留言。",
    ),
    (
        "demo-counsellor",
        Kind.PSYCHOLOGICAL,
        Topic.PARENT_CHILD,
        "爸妈在外地打工，我很想他们，心里难受。",
        "留守 想念 父母 孤独 亲子关系",
        "想念爸爸妈妈是再自然不过的感受。可以和他们约好固定的视频时间，把学校里的事讲给他们听；"
        "写日记或画画记下想说的话。身边的爷爷奶奶、老师和五老爷爷奶奶都愿意听你说。难受的时候不要一个人扛着。",
    ),
    (
        "demo-counsellor",
        Kind.PSYCHOLOGICAL,
        Topic.EMOTIONAL_DISTRESS,
        "最近总是提不起精神，什么都不想做，是怎么了？",
        "情绪低落 没精神 抑郁 不开心 情绪困扰",
        "每个人都会有情绪低落的时候。如果这种状态持续两周以上，影响了吃饭、睡觉和上学，建议告诉家长，"
        "去医院的心理门诊看看，这和感冒看医生一样平常。如果你有伤害自己的想法，请立即拨打 12355 或 120，"
        "或者在这里留言，会有心理志愿者马上回复你。",
    ),
    (
        "demo-counsellor",
        Kind.PSYCHOLOGICAL,
        Topic.PEER_RELATIONS,
        "在班上没有朋友，怎么和同学相处？",
        "朋友 同学 孤单 人际关系 同伴关系",
        "交朋友需要一点时间。可以从身边兴趣相同的同学开始，比如一起打球、画画或讨论一本书；主动打个招呼、"
        "借还文具都是好的开始。也可以参加学校的社团活动。被排挤或欺负时，请告诉老师。",
    ),
)


@dataclass
class ConsultationDemo:
    duty_slots_created: int = 0
    articles_published: int = 0
    requests_created: int = 0


def load_consultations(*, counties: set[str]) -> ConsultationDemo:
    """Duty slots and knowledge for the demo professionals; a year of requests in each demo county of
    `counties` that has none yet."""
    result = ConsultationDemo()
    professionals = {
        volunteer.user.username if volunteer.user else "": volunteer
        for volunteer in Volunteer.objects.filter(
            user__username__in=[name for name, _kind in ON_DUTY]
        ).select_related("user")
    }
    for username, kind in ON_DUTY:
        volunteer = professionals.get(username)
        if volunteer is None or DutySlot.objects.filter(volunteer=volunteer, kind=kind).exists():
            continue
        coverage = volunteer.region_id[:6].ljust(region_codes.CODE_LENGTH, "0")  # their county
        slots = [
            DutySlot(volunteer=volunteer, kind=kind, region_id=coverage, weekday=day, part=part)
            for day in range(7)
            for part in DutyPart.values
        ]
        DutySlot.objects.bulk_create(slots)
        result.duty_slots_created += len(slots)
    for username, kind, topic, question, keywords, answer in ARTICLES:
        volunteer = professionals.get(username)
        if volunteer is None or Article.objects.filter(author=volunteer, question=question).exists():
            continue
        assert volunteer.user is not None
        actor = actor_for_user(volunteer.user)
        article = article_create(
            actor=actor, kind=kind, topic=topic, question=question, answer=answer, keywords=keywords
        )
        article_publish(actor=actor, article_id=article.pk)
        result.articles_published += 1
    for county, count, seed in DEMO_REQUESTS:
        if (
            county in counties
            and not Consultation.objects.filter(region_codes.within_q("region_id", county)).exists()
        ):
            result.requests_created += generate_consultations(count=count, region_code=county, seed=seed)
    return result
