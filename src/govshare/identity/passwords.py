"""The password policy: long enough, and not guessable (zxcvbn: common and breached-style passwords,
dictionary words, keyboard runs, dates, the user's own names).

Both limits come from settings (`GOVSHARE_PASSWORD_MIN_LENGTH`, `GOVSHARE_PASSWORD_MIN_SCORE`) unless the
jurisdiction file overrides them (`passwords:` in docs/jurisdiction.md).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from zxcvbn import zxcvbn

from govshare.core.node import NodeConfig
from govshare.errors import InvalidInput

# zxcvbn's cost grows with the length; what it sees beyond this adds nothing to a score that is already 4.
_SCORED_CHARS = 72  # zxcvbn refuses longer input
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int
    min_score: int

    @classmethod
    def of(cls, cfg: NodeConfig) -> PasswordPolicy:
        rules = cfg.jurisdiction.passwords
        return cls(
            min_length=rules.min_length if rules.min_length is not None else cfg.password_min_length,
            min_score=rules.min_score if rules.min_score is not None else cfg.password_min_score,
        )

    def check(self, password: str, *, user_inputs: list[str], field: str = "password") -> None:
        """Raise InvalidInput naming `field` when `password` breaks the policy."""
        if len(password) < self.min_length:
            raise InvalidInput.on(field, f"口令至少需要 {self.min_length} 个字符")
        names = [n for n in user_inputs if n]
        lowered = password.lower()
        for name in names:
            if len(name) >= 3 and name.lower() in lowered:
                raise InvalidInput.on(field, "口令不能包含用户名或姓名")
        result = zxcvbn(password[:_SCORED_CHARS], user_inputs=names)
        if int(result["score"]) < self.min_score:
            raise InvalidInput.on(
                field,
                "口令太容易被猜中（常见口令、常见词语、键盘顺序、日期或简单重复），"
                "请换一个更长、更随机的口令，例如几个不相关的词加数字和符号",
            )


def one_time_password() -> str:
    """A random password for a reset (shown once, must be changed at the next login): 20 characters from
    62, about 119 bits, which any policy accepts."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))
