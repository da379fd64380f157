"""Every setting of a govshare node, declared and validated in one place.

Settings come from environment variables prefixed ``GOVSHARE_`` (or a ``.env`` file in the working
directory). ``docs/configuration.md`` documents each one; a test keeps the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults. They let `make demo` run with no configuration; outside development the node
# refuses to start with them (see `_refuse_default_secrets`).
DEV_SECRET_KEY = "govshare-development-secret-key-do-not-use-in-production"  # noqa: S105
DEV_AUDIT_KEY = "govshare-development-audit-key-do-not-use-in-production"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="运行环境：development / test / production。"
    )
    data_dir: Path = Field(Path("data"), description="数据目录：内嵌 SQLite 数据库与节点文件所在目录。")
    database_url: str | None = Field(
        None,
        description="数据库连接串（SQLAlchemy URL）。默认是数据目录中的 SQLite 文件；生产用 PostgreSQL，"
        "如 postgresql+psycopg://user@host/govshare。",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET_KEY), description="会话与 CSRF 令牌的签名密钥，至少 32 个字符。"
    )
    audit_key: SecretStr = Field(
        SecretStr(DEV_AUDIT_KEY),
        description="审计日志哈希链的 HMAC-SM3 密钥，至少 32 个字符；"
        "保存在数据库之外，篡改者无法重算哈希链。",
    )
    audit_checkpoint_dir: Path | None = Field(
        None,
        description="审计检查点（签名的链位置与哈希）写入的目录；默认 <数据目录>/audit-checkpoints。"
        "生产环境应指向数据库管理员无权改写的位置（另一主机的挂载、WORM 存储）。",
    )
    audit_checkpoint_minutes: int = Field(
        10, ge=0, le=1440, description="`govshare worker` 每隔多少分钟写一个审计检查点；0 表示不定期写。"
    )
    node_name: str = Field("示例市政务信息资源共享交换平台", description="节点名称，显示在门户与接口文档中。")
    node_division_code: str = Field("990100", description="节点所在行政区划代码（6 位）。")
    host: str = Field("127.0.0.1", description="`govshare serve` 监听的地址。")
    port: int = Field(8000, ge=1, le=65535, description="`govshare serve` 监听的端口。")
    workers: int = Field(1, ge=1, le=64, description="`govshare serve` 的工作进程数。")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="日志级别。")
    log_json: bool = Field(False, description="以 JSON 行输出结构化日志（生产建议开启）。")
    session_ttl_minutes: int = Field(480, ge=5, le=7 * 24 * 60, description="网页登录会话有效期（分钟）。")
    cookie_secure: bool | None = Field(
        None, description="会话 Cookie 是否带 Secure 标志；未设置时按请求是否为 HTTPS 自动决定。"
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="同一账号在同一地址连续登录失败多少次后开始逐次加倍的等待。"
    )
    login_lockout_minutes: int = Field(
        15, ge=1, le=24 * 60, description="同一账号在同一地址登录失败后等待时间的上限（分钟）。"
    )
    login_address_max_failures: int = Field(
        20, ge=1, le=10_000, description="同一客户端地址在时间窗内登录失败多少次后暂停其登录（按进程计）。"
    )
    login_address_window_minutes: int = Field(
        15, ge=1, le=24 * 60, description="按地址限制登录失败的时间窗（分钟）。"
    )
    password_min_length: int = Field(12, ge=8, le=128, description="用户口令最短长度。")
    password_min_score: int = Field(
        3, ge=0, le=4, description="口令强度（zxcvbn 评分 0–4）的最低要求；常见口令、弱口令评分低。"
    )
    api_key_default_days: int = Field(180, ge=1, description="应用接口密钥默认有效期（天）。")
    api_key_max_days: int = Field(365, ge=1, description="应用接口密钥最长有效期（天）。")
    metrics_token: SecretStr | None = Field(
        None, description="若设置，访问 /metrics 需携带 `Authorization: Bearer <令牌>`。"
    )
    api_max_body_mb: int = Field(
        64,
        ge=1,
        le=4096,
        description="请求体（如推送的记录、上传的文件）的大小上限（MB），超出即拒绝（413）。",
    )
    api_page_max: int = Field(500, ge=1, le=10_000, description="分页接口（如审计记录）单页最大条数。")
    xlsx_max_unpacked_mb: int = Field(
        256,
        ge=1,
        le=65_536,
        description="Excel 工作簿解压后的大小上限（MB）：超过即在解析前拒绝（防压缩炸弹）；"
        ".xls 文件本身也以此为上限。",
    )
    xlsx_max_entries: int = Field(10_000, ge=1, le=1_000_000, description="Excel（.xlsx）压缩包条目数上限。")
    xlsx_max_ratio: int = Field(
        100, ge=2, le=100_000, description="Excel（.xlsx）单个条目（超过 1 MB 时）压缩比上限。"
    )
    jurisdiction_file: Path | None = Field(
        None,
        description="辖区规则配置文件（YAML）：目录规则、安全级别、资源代码方案等，见 docs/jurisdiction.md；"
        "不设置时使用国家默认规则。",
    )
    trusted_proxies: str = Field(
        "",
        description="可信反向代理地址（逗号分隔，如 127.0.0.1）。设置后采用其 X-Forwarded-For / "
        "X-Forwarded-Proto，审计记录真实客户端地址；未设置时不信任这些请求头。",
    )

    collection_memory_mb: int = Field(
        1024,
        ge=64,
        le=1_048_576,
        description="一个归集批次的内存预算（MB）：解析与暂存各用一半，超出部分写入工作目录。",
    )
    collection_chunk_rows: int = Field(
        100_000, ge=100, le=10_000_000, description="归集时每块读取和校验的行数；越大越快，占用内存越多。"
    )
    collection_dead_after_minutes: int = Field(
        10, ge=1, le=1440, description="运行中的归集批次超过多少分钟没有心跳即判定为已中断（进程被终止）。"
    )
    collection_quote_span_lines: int = Field(
        5,
        ge=2,
        le=1000,
        description="CSV 引号内的值最多跨多少行；超过即判定为未闭合的多余引号，"
        "只隔离该行，其后各行单独解析。",
    )
    collection_quote_span_bytes: int = Field(
        4096,
        ge=256,
        le=1_048_576,
        description="CSV 引号内的值最多占多少字节；超过即判定为未闭合的多余引号（同上）。",
    )
    collection_max_removal_share: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="全量归集最多可关闭现有记录的比例；超过即拒绝该批次，除非运行时明确允许（--allow-removals）。",
    )
    source_dirs: str = Field(
        "",
        description="SQLite 数据源连接的文件只能位于这些目录之内（以“:”分隔的绝对路径）；"
        "节点自己的数据库与数据目录始终拒绝。为空时不允许 SQLite 数据源。",
    )
    source_connect_timeout_seconds: int = Field(
        10, ge=1, le=300, description="连接数据源数据库的超时（秒），含握手与认证。"
    )
    source_read_timeout_seconds: int = Field(
        300,
        ge=1,
        le=86_400,
        description="读取数据源数据库的超时（秒）：一条语句（PostgreSQL statement_timeout）或一次等待"
        "（MariaDB/MySQL 读写超时、SQLite 忙等）超过即失败。",
    )

    data_rate_per_second: int = Field(
        200,
        ge=1,
        le=100_000,
        description="数据接口每个应用每秒的请求上限（令牌桶，允许两倍突发）；超出返回 429 与 Retry-After。"
        "按进程计数：多工作进程时总上限为进程数乘以该值。",
    )
    data_page_max: int = Field(1000, ge=1, le=100_000, description="数据接口查询单页最多返回的记录数。")
    open_rate_per_second: int = Field(
        10,
        ge=1,
        le=100_000,
        description="数据开放接口（/api/open/v1）每个客户端地址每秒的请求上限（令牌桶，允许两倍突发）；"
        "超出返回 429 与 Retry-After。按进程计数。",
    )
    data_query_timeout_ms: int = Field(
        3000, ge=100, le=600_000, description="数据接口一次查询的时间上限（毫秒），超时返回 503。"
    )
    subscription_requests_per_day: int = Field(
        100_000, ge=1, description="无条件订阅授权的默认配额：每日请求次数。"
    )
    subscription_rows_per_day: int = Field(
        1_000_000, ge=1, description="无条件订阅授权的默认配额：每日返回记录数。"
    )

    backup_key: SecretStr | None = Field(
        None,
        description="备份加密密钥（至少 32 个字符，不能与会话密钥或审计密钥相同）：由它经 HKDF-SM3 派生每个"
        "备份文件的 SM4-GCM 密钥；保存在数据库与备份之外。未设置时不能备份。",
    )
    backup_dir: Path | None = Field(None, description="备份文件目录；不设置时为数据目录下的 backups。")
    backup_offsite_dir: Path | None = Field(
        None, description="异地备份目录（另一台机器或存储挂载的目录）：每个新备份复制到这里并核对字节。"
    )
    backup_keep: str = Field(
        "7", pattern=r"^[1-9][0-9]{0,5}d?$", description="保留多少备份：份数（如 7）或天数（如 30d）。"
    )
    backup_verify_database_url: str | None = Field(
        None,
        description="校验 PostgreSQL 备份时创建临时数据库所用的服务器连接串（须有 CREATEDB 权限）；"
        "不设置时用节点自己的数据库服务器。",
    )
    backup_pg_bin_dir: Path | None = Field(
        None, description="pg_dump / pg_restore 所在目录（与数据库服务器同一大版本）；不设置时从 PATH 查找。"
    )

    @field_validator("node_division_code")
    @classmethod
    def _division_is_six_digits(cls, value: str) -> str:
        if len(value) != 6 or not value.isdigit():
            raise ValueError("行政区划代码必须是 6 位数字")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        for name, default in (("secret_key", DEV_SECRET_KEY), ("audit_key", DEV_AUDIT_KEY)):
            value: SecretStr = getattr(self, name)
            if self.env == "development":
                continue
            if value.get_secret_value() == default:
                raise ValueError(f"GOVSHARE_{name.upper()} 仍是开发环境默认值，{self.env} 环境不允许使用")
            if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
                raise ValueError(f"GOVSHARE_{name.upper()} 至少需要 {MIN_SECRET_LENGTH} 个字符")
        if self.api_key_default_days > self.api_key_max_days:
            raise ValueError("GOVSHARE_API_KEY_DEFAULT_DAYS 不能大于 GOVSHARE_API_KEY_MAX_DAYS")
        same_keys = self.secret_key.get_secret_value() == self.audit_key.get_secret_value()
        if self.env != "development" and same_keys:
            raise ValueError("GOVSHARE_SECRET_KEY 与 GOVSHARE_AUDIT_KEY 不能相同：请为审计日志设置单独的密钥")
        return self

    @model_validator(mode="after")
    def _backup_key_is_its_own(self) -> Settings:
        if self.backup_key is None or not self.backup_key.get_secret_value():
            return self
        value = self.backup_key.get_secret_value()
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"GOVSHARE_BACKUP_KEY 至少需要 {MIN_SECRET_LENGTH} 个字符")
        if value in (self.secret_key.get_secret_value(), self.audit_key.get_secret_value()):
            raise ValueError("GOVSHARE_BACKUP_KEY 不能与 GOVSHARE_SECRET_KEY 或 GOVSHARE_AUDIT_KEY 相同")
        return self

    @property
    def work_dir(self) -> Path:
        """Scratch space for running batches (deleted after each batch)."""
        return self.data_dir / "work"

    @property
    def resolved_audit_checkpoint_dir(self) -> Path:
        """Where audit checkpoints are written (outside the database; see docs/configuration.md)."""
        return self.audit_checkpoint_dir or self.data_dir / "audit-checkpoints"

    @property
    def source_directories(self) -> tuple[Path, ...]:
        """GOVSHARE_SOURCE_DIRS as paths (empty entries skipped)."""
        return tuple(Path(part) for part in self.source_dirs.split(":") if part.strip())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'govshare.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests build their own `Settings` and pass it explicitly."""
    return Settings()
