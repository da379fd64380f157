"""The demo city's data sharing (共享申请): subscriptions and applications in every state.

`seed_sharing` runs after `demo.service.seed` (and after the demo sources are loaded, so that the approved
人口基本信息 and 最低生活保障对象信息 grants have records to answer with). Everything goes through the
sharing service, acting as the demo accounts who would really do it: the consuming department's 使用人员
(`mz.user`, `zj.user`, …) applies, disputes, escalates and withdraws; the providing department's admin
(`ga.admin`, `rs.admin`, …) decides and answers 协商; the 共享主管部门's reviewer (`reviewer`) does the
符合性审查 and settles escalated 协商.

What it creates (states of `RequestState`):

- 无条件订阅: 住建 and 公安 subscribe to the 无条件 items of 有条件 resources (人口基本信息, 婚姻登记信息),
  人社 and 医保 to 无条件 resources (企业登记注册信息, 医疗机构执业许可信息);
- pending: three applications waiting for the provider: one filed now, one due within a working day and
  one overdue. The last two are back-dated (their `submitted_at`, `stage_started_at` and `due_at` are moved
  into the past through the ORM session, since the service stamps them with the current time); each
  back-dating is written to the audit log as ``demo.backdate``. Run ``govshare sharing deadlines`` to see
  the reminder and the escalation;
- approved (2), partial (fewer items, no clear text and a narrower row scope, with the reason), refused;
- negotiating: a 协商 after a refusal, and a 协商 about a 不予共享 resource (居民身份证人像信息);
- escalated: a refusal disputed, answered by the provider, then taken to the 主管部门;
- settled: a 协商 about a 不予共享 resource (企业所得税申报信息) settled by the 主管部门;
- withdrawn;
- prereview and prereview_rejected only when the jurisdiction has a 符合性审查 step
  (`sharing.prereview_days` > 0). The default jurisdiction has none, so those two states are then not
  created, and `SharingDemo.skipped` says so. With the step, every other application passes the review
  first.

Idempotent: each scenario is one consuming application and one resource, and is skipped when that
application already has a request (or, for a subscription, a grant) for that resource. A scenario whose
resource is not published, or whose demo account is missing, is skipped with the reason. Legal bases name
laws and regulations without quoting articles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.catalog.repository import CatalogRepository
from govshare.core.clock import BEIJING, utcnow
from govshare.core.db import Database
from govshare.core.node import node_config
from govshare.demo.gen_city import CITY_COUNTIES
from govshare.demo.service import APPLICATIONS, CITY_DEPARTMENTS
from govshare.errors import Conflict, DenialContext, GovshareError, PermissionDenied
from govshare.identity.repository import UserRepository
from govshare.identity.service import actor_for_user
from govshare.models import Application, ShareGrant, ShareRequest
from govshare.sharing import negotiation, workflow
from govshare.sharing import service as sharing
from govshare.sharing.schemas import ApplyIn, DecisionIn, NegotiateIn, SubscribeIn
from govshare.sharing.vocabulary import PurposeKind, RequestState
from govshare.sharing.workdays import WorkCalendar

S = RequestState
REVIEWER = "reviewer"  # the 共享主管部门's account (目录审核员: sharing:supervise)
COUNTIES = [county.code for county in CITY_COUNTIES]  # the codes the demo population carries
_DEPARTMENT_OF_APP = {code: department for code, _, department in APPLICATIONS}
_SHORT = {code: short for code, _, short in CITY_DEPARTMENTS}


@dataclass
class SharingDemo:
    """What one run created: requests by the state they were left in, and subscriptions."""

    requests: dict[str, int] = field(default_factory=dict)  # RequestState value -> count
    subscriptions: int = 0
    backdated: list[str] = field(default_factory=list)  # request numbers whose clock was moved back
    skipped: list[str] = field(default_factory=list)  # what was not created, and why

    @property
    def created(self) -> int:
        return sum(self.requests.values()) + self.subscriptions

    def summary(self) -> str:
        if not self.created:
            return "共享申请：示例申请和订阅已存在，未新建"
        counts = "、".join(f"{s.label} {self.requests[s.value]}" for s in S if self.requests.get(s.value))
        return f"共享申请：{counts or '无'}；无条件订阅 {self.subscriptions} 个"


@dataclass(frozen=True)
class Ask:
    """An application (ApplyIn) of a demo application for a resource named by its provider and name."""

    application: str
    provider: str
    resource: str
    purpose_kind: PurposeKind
    purpose: str
    basis: str
    items: tuple[str, ...]
    clear_items: tuple[str, ...] = ()
    row_scope: dict[str, list[str]] = field(default_factory=dict)
    requests_per_day: int = 1000
    rows_per_day: int = 10_000
    days: int = 365

    def body(self, code: str, today: date) -> ApplyIn:
        return ApplyIn(
            application=self.application,
            resource=code,
            purpose_kind=self.purpose_kind,
            purpose=self.purpose,
            basis=self.basis,
            items=list(self.items),
            clear_items=list(self.clear_items),
            row_scope=self.row_scope,
            period_start=today,
            period_end=today + timedelta(days=self.days - 1),
            requests_per_day=self.requests_per_day,
            rows_per_day=self.rows_per_day,
        )


@dataclass(frozen=True)
class Target:
    id: int
    code: str


@dataclass(frozen=True)
class Scenario:
    """One consuming application and one resource, and the state the request is left in."""

    state: RequestState
    application: str
    provider: str
    resource: str
    run: Callable[[_Seeder, str], ShareRequest]  # (seeder, resource code) -> the request
    needs_prereview: bool = False  # only possible when the jurisdiction has a 符合性审查 step


class _Seeder:
    def __init__(self, session: Session, operator: Actor, result: SharingDemo) -> None:
        self.session, self.operator, self.result = session, operator, result
        self.rules = node_config(session).jurisdiction.sharing
        self.calendar = WorkCalendar(self.rules)
        self.today = utcnow().astimezone(BEIJING).date()
        self._actors: dict[str, Actor] = {}

    # --- who acts -------------------------------------------------------------------------------------

    def as_user(self, username: str) -> Actor:
        if username not in self._actors:
            user = UserRepository(self.session).by_username(username)
            if user is None or not user.is_active:
                raise Conflict(f"示例账号“{username}”不存在或已停用，请先运行 govshare demo 初始化示例市")
            self._actors[username] = actor_for_user(user)
        return self._actors[username]

    def consumer(self, application: str) -> Actor:
        """The consuming department's 使用人员 (sharing:apply for the department's applications)."""
        return self.as_user(f"{_SHORT[_DEPARTMENT_OF_APP[application]]}.user")

    def provider(self, department: str) -> Actor:
        """The providing department's admin (sharing:approve for the department's resources)."""
        return self.as_user(f"{_SHORT[department]}.admin")

    @property
    def reviewer(self) -> Actor:
        return self.as_user(REVIEWER)

    # --- steps ----------------------------------------------------------------------------------------

    def file(self, ask: Ask, code: str) -> ShareRequest:
        """Apply; with a 符合性审查 step the reviewer passes it, so the provider's clock runs."""
        request = sharing.apply(self.session, self.consumer(ask.application), ask.body(code, self.today))
        if request.state == S.PREREVIEW.value:
            request = sharing.prereview(
                self.session, self.reviewer, request.number, passed=True, comment="申请依据充分，用途明确"
            )
        return request

    def approve(self, request: ShareRequest, provider: str, decision: DecisionIn) -> ShareRequest:
        return sharing.decide(self.session, self.provider(provider), request.number, decision)

    def refuse(self, request: ShareRequest, provider: str, reason: str) -> ShareRequest:
        decision = DecisionIn(decision="refuse", reason=reason)
        return sharing.decide(self.session, self.provider(provider), request.number, decision)

    def backdate(self, request: ShareRequest, worked: int) -> ShareRequest:
        """Move the request's clock back so that `worked` working days of it have passed (the service
        stamps the current time; a demo needs requests that are about to fall due, or overdue)."""
        now = utcnow()
        day = now.astimezone(BEIJING).date()
        start = _local(day)
        while self.calendar.working_days_between(start, now) < worked:
            day -= timedelta(days=1)
            start = _local(day)
        while not self.calendar.is_workday(day)[0]:  # filed on a working day; the count stays the same
            day -= timedelta(days=1)
            start = _local(day)
        deadline = self.calendar.add_working_days(start, self.rules.provider_days)
        request.submitted_at = request.stage_started_at = start
        if request.prereview_at is not None:
            request.prereview_at = start
        request.due_at, request.provisional_calendar = deadline.due_at, deadline.provisional
        self.session.flush()
        audit.record(
            self.session,
            self.operator,
            "demo.backdate",
            target_type="share_request",
            target_id=request.number,
            detail={"submitted_at": start.isoformat(), "due_at": deadline.due_at.isoformat()},
        )
        self.result.backdated.append(request.number)
        return request


def _local(day: date) -> datetime:
    """09:30 Beijing time on `day`, in UTC: when the demo's back-dated applications were filed."""
    return datetime.combine(day, time(9, 30), tzinfo=BEIJING).astimezone(UTC)


# --- the scenarios ----------------------------------------------------------------------------------------


def _pending_now(seeder: _Seeder, code: str) -> ShareRequest:
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


def _pending_due_soon(seeder: _Seeder, code: str) -> ShareRequest:
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


def _pending_overdue(seeder: _Seeder, code: str) -> ShareRequest:
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


def _approved_population(seeder: _Seeder, code: str) -> ShareRequest:
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


def _approved_subsistence(seeder: _Seeder, code: str) -> ShareRequest:
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


def _partial(seeder: _Seeder, code: str) -> ShareRequest:
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


def _refused(seeder: _Seeder, code: str) -> ShareRequest:
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


def _negotiating_after_refusal(seeder: _Seeder, code: str) -> ShareRequest:
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


def _negotiating_not_shared(seeder: _Seeder, code: str) -> ShareRequest:
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


def _escalated(seeder: _Seeder, code: str) -> ShareRequest:
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


def _settled(seeder: _Seeder, code: str) -> ShareRequest:
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


def _withdrawn(seeder: _Seeder, code: str) -> ShareRequest:
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


def _left_in_prereview(seeder: _Seeder, code: str) -> ShareRequest:
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


def _prereview_rejected(seeder: _Seeder, code: str) -> ShareRequest:
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


# --- the entry point -------------------------------------------------------------------------------------


def seed_sharing(db: Database, actor: Actor) -> SharingDemo:
    """Create the demo city's subscriptions and applications (see the module docstring), in one
    transaction. `actor` is the console operator who runs the demo; the steps themselves are taken as the
    demo accounts. Needs `demo.service.seed` to have run."""
    if actor.kind != "system":
        raise PermissionDenied(
            "只有节点控制台（govshare demo）可以生成示例共享申请",
            context=DenialContext(action="demo.seed_sharing", permission="system"),
        )
    result = SharingDemo()
    with db.transaction() as session:
        seeder = _Seeder(session, actor, result)
        applications = _demo_applications(session)
        if len(applications) < len(APPLICATIONS):
            raise Conflict("示例应用不全，请先运行 govshare demo 初始化示例市")
        asked, subscribed = _existing(session, [a.id for a in applications.values()])
        targets = _targets(session)
        for subscription in SUBSCRIPTIONS:
            _subscribe(seeder, subscription, targets, applications, subscribed)
        prereview = seeder.rules.prereview_days > 0
        if not prereview:
            labels = "、".join(dict.fromkeys(s.state.label for s in SCENARIOS if s.needs_prereview))
            result.skipped.append(f"{labels}：辖区未设符合性审查环节（sharing.prereview_days 为 0），未生成")
        for scenario in SCENARIOS:
            if scenario.needs_prereview and not prereview:
                continue
            target = targets.get((scenario.provider, scenario.resource))
            if target is None:
                result.skipped.append(f"{scenario.resource}：未发布，未生成“{scenario.state.label}”示例")
                continue
            key = (applications[scenario.application].id, target.id)
            if key in asked:
                continue
            request = scenario.run(seeder, target.code)
            if request.state != scenario.state.value:  # a scenario out of step with the service
                raise Conflict(
                    f"示例申请 {request.number} 应为“{scenario.state.label}”，实为“{S(request.state).label}”"
                )
            asked.add(key)
            result.requests[scenario.state.value] = result.requests.get(scenario.state.value, 0) + 1
        if result.created:
            audit.record(
                session,
                actor,
                "demo.seed_sharing",
                detail={"subscriptions": result.subscriptions, **result.requests},
            )
    return result


def _subscribe(
    seeder: _Seeder,
    subscription: Subscription,
    targets: dict[tuple[str, str], Target],
    applications: dict[str, Application],
    subscribed: set[tuple[int, int]],
) -> None:
    target = targets.get((subscription.provider, subscription.resource))
    if target is None:
        seeder.result.skipped.append(f"{subscription.resource}：未发布，未生成订阅示例")
        return
    key = (applications[subscription.application].id, target.id)
    if key in subscribed:
        return
    sharing.subscribe(
        seeder.session,
        seeder.consumer(subscription.application),
        SubscribeIn(
            application=subscription.application,
            resource=target.code,
            purpose_kind=subscription.purpose_kind,
            purpose=subscription.purpose,
            items=list(subscription.items) if subscription.items is not None else None,
        ),
    )
    subscribed.add(key)
    seeder.result.subscriptions += 1


def _demo_applications(session: Session) -> dict[str, Application]:
    codes = [code for code, _, _ in APPLICATIONS]
    found = session.scalars(select(Application).where(Application.code.in_(codes))).all()
    return {application.code: application for application in found}


def _existing(
    session: Session, application_ids: list[int]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(application id, resource id) pairs that already have a request, and those that have a grant."""
    requests = session.execute(
        select(ShareRequest.application_id, ShareRequest.resource_id).where(
            ShareRequest.application_id.in_(application_ids)
        )
    )
    grants = session.execute(
        select(ShareGrant.application_id, ShareGrant.resource_id).where(
            ShareGrant.application_id.in_(application_ids)
        )
    )
    return {(a, r) for a, r in requests}, {(a, r) for a, r in grants}


def _targets(session: Session) -> dict[tuple[str, str], Target]:
    """(provider code, resource name) -> the published resource, for the resources used here."""
    repository = CatalogRepository(session)
    wanted = {(s.provider, s.resource) for s in SCENARIOS} | {(s.provider, s.resource) for s in SUBSCRIPTIONS}
    targets: dict[tuple[str, str], Target] = {}
    for provider, name in sorted(wanted):
        department = repository.department(provider)
        resource = repository.by_provider_and_name(department.id, name) if department else None
        if resource is None or not resource.code:
            continue
        try:
            workflow.published(session, resource.code)
        except GovshareError:  # withdrawn, or not published: nothing to apply for
            continue
        targets[(provider, name)] = Target(resource.id, resource.code)
    return targets
