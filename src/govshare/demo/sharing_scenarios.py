"""The demo city's sharing scenarios: one function a request state, and the subscriptions. Each runs through
the sharing service as the demo accounts would (see `govshare.demo.sharing`)."""

from __future__ import annotations

from dataclasses import dataclass

from govshare.demo.sharing_seeder import COUNTIES, Ask, S, Scenario, Seeder
from govshare.models import ShareRequest
from govshare.sharing import negotiation
from govshare.sharing import service as sharing
from govshare.sharing.schemas import DecisionIn, NegotiateIn
from govshare.sharing.vocabulary import PurposeKind

# --- the scenarios ----------------------------------------------------------------------------------------


def _pending_now(seeder: Seeder, code: str) -> ShareRequest:
    return seeder.file(
        Ask(
            "rs-shbx",
            "GA",
            "死亡注销户口信息",
            PurposeKind.ADMINISTRATIVE_BASIS,
            "养老保险待遇领取资格认证，死亡人员养老保险待遇及时停发，防止冒领",
            "《中华人民共和国社会保险法》",
            ("gmsfhm", "xm", "xb", "csrq", "swrq", "zxrq"),
            requests_per_day=2000,
            rows_per_day=20_000,
        ),
        code,
    )


def _pending_due_soon(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "yb-jsxt",
            "GA",
            "出生申报户口登记信息",
            PurposeKind.BUSINESS_COLLABORATION,
            "“出生一件事”联办：新生儿落户后同步办理城乡居民基本医疗保险参保登记",
            "《中华人民共和国社会保险法》；本市“出生一件事”联办业务",
            ("gmsfhm", "xm", "xb", "csrq", "jhr1_gmsfhm", "jhr1_xm", "sbrq"),
        ),
        code,
    )
    return seeder.backdate(request, max(seeder.rules.provider_days - 1, 0))  # due by the next working day


def _pending_overdue(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "zj-zfbz",
            "GA",
            "户籍迁移登记信息",
            PurposeKind.ADMINISTRATIVE_BASIS,
            "公共租赁住房保障资格审核：核验申请人户籍迁入本市的时间和迁入地",
            "《公共租赁住房管理办法》",
            ("gmsfhm", "xm", "qylx", "qrdxzqh", "qyrq"),
            requests_per_day=500,
            rows_per_day=5000,
        ),
        code,
    )
    return seeder.backdate(request, seeder.rules.provider_days + 3)  # three working days past due


def _approved_population(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "mz-hydj",
            "GA",
            "人口基本信息",
            PurposeKind.DATA_CHECK,
            "婚姻登记当事人身份信息核验，并按户籍所在地确定婚姻登记机关的管辖",
            "《婚姻登记条例》",
            ("gmsfhm", "xm", "xb", "csrq", "hjdz", "hjdxzqh", "hyzk"),
            requests_per_day=3000,
            rows_per_day=3000,
        ),
        code,
    )
    return seeder.approve(
        request, "GA", DecisionIn(decision="approve", reason="同意按申请的信息项和期限提供")
    )


def _approved_subsistence(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "yb-jsxt",
            "MZ",
            "最低生活保障对象信息",
            PurposeKind.ADMINISTRATIVE_BASIS,
            "最低生活保障对象城乡居民医保资助参保和医疗救助“一站式”结算的身份认定",
            "《社会救助暂行办法》；《中华人民共和国社会保险法》",
            ("gmsfhm", "xm", "bzlb", "xzqhdm", "bzzt"),
        ),
        code,
    )
    return seeder.approve(request, "MZ", DecisionIn(decision="approve"))


def _partial(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "zj-zfbz",
            "RS",
            "社会保险参保信息",
            PurposeKind.ADMINISTRATIVE_BASIS,
            "公共租赁住房保障资格审核：核验申请人在本市的参保状态和累计缴费月数",
            "《公共租赁住房管理办法》；《中华人民共和国社会保险法》",
            ("gmsfhm", "xm", "xzlx", "cbzt", "cbdwmc", "jfjs", "ljjfys", "cbdxzqh"),
            clear_items=("gmsfhm",),
            row_scope={"cbdxzqh": COUNTIES},
        ),
        code,
    )
    return seeder.approve(
        request,
        "RS",
        DecisionIn(
            decision="approve",
            items=["gmsfhm", "xm", "xzlx", "cbzt", "ljjfys", "cbdxzqh"],
            clear_items=[],
            row_scope={"cbdxzqh": COUNTIES[:2]},
            reason="部分同意：缴费基数和参保单位涉及个人收入和就业信息，资格审核只需参保状态和累计缴费月数；"
            "公民身份号码以遮盖形式提供，逐人核对请使用核验接口；市本级住房保障只受理越城区、柯桥区的申请，"
            "记录范围限于这两个区，其他区县请由区县住房保障部门另行申请",
        ),
    )


def _refused(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "scjg-djzc",
            "GA",
            "人口基本信息",
            PurposeKind.DATA_CHECK,
            "市场主体设立登记中法定代表人、股东的身份核验",
            "《中华人民共和国市场主体登记管理条例》",
            ("gmsfhm", "xm", "hjdz", "fwcs"),
        ),
        code,
    )
    return seeder.refuse(
        request,
        "GA",
        "身份核验所需的公民身份号码、姓名为无条件共享，可直接订阅；户籍地址、服务处所不是市场主体登记身份核验"
        "所必需的信息，按个人信息处理的最小必要原则不予提供",
    )


def _negotiating_after_refusal(seeder: Seeder, code: str) -> ShareRequest:
    ask = Ask(
        "zj-zfbz",
        "RS",
        "失业保险金领取信息",
        PurposeKind.ADMINISTRATIVE_BASIS,
        "公共租赁住房保障家庭收入核定：核实申请家庭成员领取失业保险金的情况",
        "《公共租赁住房管理办法》",
        ("gmsfhm", "xm", "lqqsny", "ylqbz", "ylqys"),
    )
    request = seeder.refuse(
        seeder.file(ask, code),
        "RS",
        "本资源的共享条件为仅向民政、医保部门提供，住房保障不在其列；家庭收入情况可通过民政部门的居民家庭"
        "经济状况核对结果获取",
    )
    return negotiation.dispute(
        seeder.session,
        seeder.consumer(ask.application),
        request.number,
        "住房保障家庭收入核定须逐项核实失业保险金收入，民政部门的核对结果不含该明细；请协商以核验方式"
        "（是否领取、月领取标准）提供",
    )


def _negotiating_not_shared(seeder: Seeder, code: str) -> ShareRequest:
    return negotiation.negotiate(
        seeder.session,
        seeder.consumer("mz-hydj"),
        NegotiateIn(
            application="mz-hydj",
            resource=code,
            reason="婚姻登记窗口需现场人证比对，防止冒用他人身份登记结婚；拟只调用比对结果（一致/不一致），"
            "不获取、不留存人像照片和特征值",
        ),
    )


def _escalated(seeder: Seeder, code: str) -> ShareRequest:
    ask = Ask(
        "rs-shbx",
        "MZ",
        "特困人员救助供养信息",
        PurposeKind.ADMINISTRATIVE_BASIS,
        "城乡居民基本养老保险困难群体代缴保费对象认定",
        "《中华人民共和国社会保险法》；《社会救助暂行办法》",
        ("gmsfhm", "xm", "xb", "csrq", "rdrq", "xzqhdm"),
    )
    consumer = seeder.consumer(ask.application)
    request = seeder.refuse(
        seeder.file(ask, code),
        "MZ",
        "本资源的共享条件为仅向医保、卫健部门提供，用于医疗救助和家庭医生签约服务",
    )
    negotiation.dispute(
        seeder.session,
        consumer,
        request.number,
        "特困人员由政府代缴城乡居民养老保险费，认定代缴对象须以民政部门认定的特困人员名单为准",
    )
    negotiation.answer_negotiation(
        seeder.session,
        seeder.provider("MZ"),
        request.number,
        "维持原答复。建议人社部门提供待认定的参保人员名单，由民政部门逐人反馈是否为特困供养人员",
    )
    return negotiation.escalate(
        seeder.session,
        consumer,
        request.number,
        "代缴对象须按月批量认定，逐人反馈的方式无法满足代缴时限，提请主管部门协调",
    )


def _settled(seeder: Seeder, code: str) -> ShareRequest:
    consumer = seeder.consumer("scjg-djzc")
    request = negotiation.negotiate(
        seeder.session,
        consumer,
        NegotiateIn(
            application="scjg-djzc",
            resource=code,
            reason="企业年度报告“双随机”抽查中，需比对企业年报填报的营业收入、利润总额与所得税申报数据",
        ),
    )
    negotiation.answer_negotiation(
        seeder.session,
        seeder.provider("SW"),
        request.number,
        "纳税人的申报信息依《中华人民共和国税收征收管理法》应予保密，不予共享；可按抽查名单反馈比对结果",
    )
    negotiation.escalate(
        seeder.session, consumer, request.number, "抽查工作需要明确的比对方式和时限，提请主管部门协调"
    )
    return negotiation.settle(
        seeder.session,
        seeder.reviewer,
        request.number,
        outcome="close",
        comment="经协调：税务部门按市场监管部门提供的抽查名单，反馈年报营业收入、利润总额与申报数据是否一致，"
        "不提供申报明细。本协商办结",
    )


def _withdrawn(seeder: Seeder, code: str) -> ShareRequest:
    request = seeder.file(
        Ask(
            "ga-rkgl",
            "WJ",
            "出生医学证明信息",
            PurposeKind.BUSINESS_COLLABORATION,
            "“出生一件事”联办：新生儿出生登记时核验出生医学证明",
            "《中华人民共和国户口登记条例》",
            ("csyxzmbh", "xsexm", "xb", "csrq", "csdd", "mqxm", "mq_gmsfhm", "fqxm", "fq_gmsfhm"),
        ),
        code,
    )
    return sharing.withdraw(seeder.session, seeder.consumer("ga-rkgl"), request.number)


def _left_in_prereview(seeder: Seeder, code: str) -> ShareRequest:
    ask = Ask(
        "yb-jsxt",
        "RS",
        "失业保险金领取信息",
        PurposeKind.ADMINISTRATIVE_BASIS,
        "领取失业保险金人员参加职工基本医疗保险的待遇衔接",
        "《中华人民共和国社会保险法》",
        ("gmsfhm", "xm", "sydjzh", "lqqsny", "lqqx"),
    )
    return sharing.apply(seeder.session, seeder.consumer(ask.application), ask.body(code, seeder.today))


def _prereview_rejected(seeder: Seeder, code: str) -> ShareRequest:
    ask = Ask(
        "scjg-djzc",
        "MZ",
        "最低生活保障对象信息",
        PurposeKind.WORK_REFERENCE,
        "了解困难群众经营个体工商户的情况",
        "工作需要",
        ("gmsfhm", "xm", "xzqhdm"),
    )
    request = sharing.apply(seeder.session, seeder.consumer(ask.application), ask.body(code, seeder.today))
    return sharing.prereview(
        seeder.session,
        seeder.reviewer,
        request.number,
        passed=False,
        comment="申请用途不在该资源的共享条件之内，且未说明具体业务事项和法律法规依据；请补充后重新申请",
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(S.PREREVIEW, "yb-jsxt", "RS", "失业保险金领取信息", _left_in_prereview, needs_prereview=True),
    Scenario(
        S.PREREVIEW_REJECTED,
        "scjg-djzc",
        "MZ",
        "最低生活保障对象信息",
        _prereview_rejected,
        needs_prereview=True,
    ),
    Scenario(S.PENDING, "rs-shbx", "GA", "死亡注销户口信息", _pending_now),
    Scenario(S.PENDING, "yb-jsxt", "GA", "出生申报户口登记信息", _pending_due_soon),
    Scenario(S.PENDING, "zj-zfbz", "GA", "户籍迁移登记信息", _pending_overdue),
    Scenario(S.APPROVED, "mz-hydj", "GA", "人口基本信息", _approved_population),
    Scenario(S.APPROVED, "yb-jsxt", "MZ", "最低生活保障对象信息", _approved_subsistence),
    Scenario(S.PARTIAL, "zj-zfbz", "RS", "社会保险参保信息", _partial),
    Scenario(S.REFUSED, "scjg-djzc", "GA", "人口基本信息", _refused),
    Scenario(S.WITHDRAWN, "ga-rkgl", "WJ", "出生医学证明信息", _withdrawn),
    Scenario(S.NEGOTIATING, "zj-zfbz", "RS", "失业保险金领取信息", _negotiating_after_refusal),
    Scenario(S.NEGOTIATING, "mz-hydj", "GA", "居民身份证人像信息", _negotiating_not_shared),
    Scenario(S.ESCALATED, "rs-shbx", "MZ", "特困人员救助供养信息", _escalated),
    Scenario(S.SETTLED, "scjg-djzc", "SW", "企业所得税申报信息", _settled),
)


@dataclass(frozen=True)
class Subscription:
    application: str
    provider: str
    resource: str
    purpose_kind: PurposeKind
    purpose: str
    items: tuple[str, ...] | None = None  # None: every 无条件 item


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        "zj-zfbz",
        "GA",
        "人口基本信息",
        PurposeKind.DATA_CHECK,
        "住房保障申请人及家庭成员身份信息核验",
        ("gmsfhm", "xm", "xb", "csrq"),
    ),
    Subscription(
        "ga-rkgl",
        "MZ",
        "婚姻登记信息",
        PurposeKind.DATA_CHECK,
        "户籍登记项目中婚姻状况变更更正的核验",
        ("nanf_xm", "nanf_gmsfhm", "nvf_xm", "nvf_gmsfhm"),
    ),
    Subscription(
        "rs-shbx", "SCJG", "企业登记注册信息", PurposeKind.DATA_CHECK, "参保单位登记和变更时核验企业登记信息"
    ),
    Subscription(
        "yb-jsxt",
        "WJ",
        "医疗机构执业许可信息",
        PurposeKind.BUSINESS_COLLABORATION,
        "定点医疗机构协议管理和执业状态核验",
    ),
)
