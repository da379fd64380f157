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

from sqlalchemy.orm import Session

from govshare.applications import readers as application_readers
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.catalog import readers as catalog_readers
from govshare.core.db import Database
from govshare.demo.service import APPLICATIONS
from govshare.demo.sharing_scenarios import SCENARIOS, SUBSCRIPTIONS, Subscription
from govshare.demo.sharing_seeder import S, Seeder, SharingDemo, Target
from govshare.errors import Conflict, DenialContext, GovshareError, PermissionDenied
from govshare.models import Application
from govshare.sharing import readers as sharing_readers
from govshare.sharing import service as sharing
from govshare.sharing import workflow
from govshare.sharing.schemas import SubscribeIn

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
        seeder = Seeder(session, actor, result)
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
    seeder: Seeder,
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
    found = application_readers.applications_by_codes(session, codes)
    return {application.code: application for application in found}


def _existing(
    session: Session, application_ids: list[int]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(application id, resource id) pairs that already have a request, and those that have a grant."""
    return sharing_readers.requested_and_granted_pairs(session, application_ids)


def _targets(session: Session) -> dict[tuple[str, str], Target]:
    """(provider code, resource name) -> the published resource, for the resources used here."""
    wanted = {(s.provider, s.resource) for s in SCENARIOS} | {(s.provider, s.resource) for s in SUBSCRIPTIONS}
    targets: dict[tuple[str, str], Target] = {}
    for provider, name in sorted(wanted):
        resource = catalog_readers.resource_by_provider_and_name(session, provider, name)
        if resource is None or not resource.code:
            continue
        try:
            workflow.published(session, resource.code)
        except GovshareError:  # withdrawn, or not published: nothing to apply for
            continue
        targets[(provider, name)] = Target(resource.id, resource.code)
    return targets
