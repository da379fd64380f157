# ruff: noqa
# type: ignore
"""Names vulture reports as unused that are used where it cannot see: read by a framework, by Jinja
templates or by serialisation, or required by a protocol's signature. `make vulture` reads this file as
if it were code (a bare name, or `_.attribute`, counts as a use). Add a name here only with the reason
beside it; a name that is really unused is removed instead. Route, command, validator, event-hook and
fixture decorators, and Alembic's and pytest's own names, are ignored in [tool.vulture] (pyproject.toml).
"""

_ = object()

# --- SQLAlchemy: TypeDecorator hooks and class attributes, declarative configuration -------------------
impl
cache_ok
_.load_dialect_impl
_.process_bind_param
_.process_result_value
type_annotation_map
_.isolation_level  # set on the DBAPI connection
compare_to  # alembic include_object's signature

# --- ORM columns written by the services and read by the API, templates or audit, never by name in Python
password_changed_at
_.password_changed_at
is_seeded
granted_by
granted_at
revoked_by
_.revoked_by
provisional_calendar
_.provisional_calendar
approved_clear_items
_.approved_clear_items
actor_id

# --- pydantic response fields and dataclass fields read by serialisation or Jinja templates -------------
active_keys
govshare_version
regex
editable
by_category
by_update_cycle
by_version_state
type_label
_.type_label
_.code_hint
field_label
item_name
same_name
is_cursor
_.map_open
source_lines
mode_text
key_from_catalog
unmapped
last_loaded_at
withheld_items
grant_ended
consumer_department
input

# --- protocols: file objects (io), HTMLParser, signal handlers, context-manager __exit__ ----------------
_.writable
_.readinto
_.handle_starttag
signum
exc_type
tb

# --- set for their effect on a third-party object (openpyxl cells and validations, psycopg timeouts) ----
_.font
_.alignment
_.showInputMessage
_.promptTitle
_._read_timeout
_._write_timeout

# --- registered for their side effect (the job kind registry) -------------------------------------------
BATCH

# --- named in docs/architecture.md as the rule or error they implement; remove together with the doc -----
roles_that_read_audit
AccountLocked

# --- tests: fixtures requested for their effect, values that must be bound, tarfile members -------------
cli_env
demo_output
odd
_.linkname
