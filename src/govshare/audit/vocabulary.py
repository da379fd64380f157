"""The audit log's vocabulary in Chinese: the names of audited actions, their families (the filter by
prefix), outcomes, kinds of actor and of target. One table for the portal's log pages and the API's
`action_label` / `target_type_label`, so an API client shows the auditor the same words."""

from __future__ import annotations

OUTCOMES = {"success": "成功", "denied": "拒绝", "failure": "失败"}
ACTOR_KINDS = {"user": "用户", "application": "应用", "system": "系统", "anonymous": "匿名"}
# Action families (the part before the first dot), for the filter by prefix.
CATEGORIES = {
    "data.": "数据接口调用",
    "sharing.": "共享申请与授权",
    "applications.": "应用与接口密钥",
    "identity.": "账号、角色与登录",
    "catalog.": "资源目录",
    "collection.": "数据归集",
    "inventory.": "信息系统清单",
    "standards.": "数据元与代码集",
    "open.": "数据开放",
    "audit.": "审计本身（查看、校验、追溯）",
}
ACTIONS = {
    "data.record": "按主键查询记录",
    "data.query": "按条件查询记录",
    "data.export": "批量导出",
    "data.verify": "信息核验",
    "data.changes": "增量同步",
    "data.person": "一人一档查询",
    "applications.create": "登记应用系统",
    "applications.key.issue": "签发接口密钥",
    "applications.key.revoke_reason": "吊销接口密钥的理由（旧版记录）",
    "applications.key.revoke": "吊销接口密钥",
    "audit.read": "查看审计记录",
    "audit.verify": "校验审计链",
    "audit.checkpoint": "写入审计检查点",
    "audit.trace": "谁查看了我",
    "identity.login": "登录",
    "identity.logout": "退出登录",
    "sharing.apply": "提出共享申请",
    "sharing.decide": "审批共享申请",
    "sharing.revoke": "撤销授权",
}
TARGET_TYPES = {
    "application": "应用系统",
    "api_key": "接口密钥",
    "user": "用户",
    "department": "部门",
    "resource": "信息资源",
    "grant": "授权",
    "share_request": "共享申请",
    "audit_log": "审计日志",
    "audit_chain": "审计链",
    "subject": "查询对象",
}
SUBJECT_KINDS = {"person": "公民身份号码", "org": "统一社会信用代码"}


def action_label(action: str) -> str:
    """The Chinese name of an audited action ("" for one without a name yet: the code is shown)."""
    return ACTIONS.get(action, "")


def target_type_label(target_type: str | None) -> str:
    """The Chinese name of an audit entry's kind of target (the code itself for one without a name)."""
    return TARGET_TYPES.get(target_type or "", target_type or "")
