"""What the 系统管理 pages share: the form state a failed form is re-shown with, the Chinese sentence for
invalid input or a conflict, the CSRF check, the 303 back, and Beijing dates.

Used by `admin.py` (departments, users, roles).
"""

from __future__ import annotations

from govshare.web import forms
from govshare.web.forms import FormState as FormState
from govshare.web.forms import beijing as beijing
from govshare.web.forms import beijing_today as beijing_today
from govshare.web.forms import check_csrf as check_csrf
from govshare.web.forms import error_status as error_status
from govshare.web.forms import see_other as see_other

FIELD_LABELS = {
    "code": "代码",
    "name": "名称",
    "division_code": "行政区划代码",
    "level": "层级",
    "parent_code": "上级部门",
    "uscc": "统一社会信用代码",
    "username": "用户名",
    "display_name": "姓名",
    "department_code": "所属部门",
    "password": "初始口令",
    "roles": "角色",
    "role": "角色",
    "version": "版本号",
    "label": "名称",
    "position": "排序",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "note": "备注",
    "file": "文件",
    "standard": "标准编号",
}


def explain(exc: Exception) -> str:
    """The Chinese sentence a form shows for invalid input or a conflict."""
    return forms.explain(exc, forms.labeller(FIELD_LABELS))
