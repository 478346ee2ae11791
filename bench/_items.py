import sys, timeit, uuid
from datetime import datetime, timezone, timedelta, date
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import orjson
from sqlalchemy.engine.row import Row
from api.resources.focus_sessions.schemas import FocusSessionOut, FocusSessionPage
from api.http import json_response
from datastore.postgres.repositories.focus_sessions import to_focus_session
from api.pagination import encode_cursor

now = datetime.now(timezone.utc)
class R:
    def __init__(self, d): self._mapping = d
rows = [R({"id": uuid.uuid4(), "user_id": "u", "blocklist_id": None, "mode": "normal", "planned_duration_seconds": 1500,
          "started_at": now, "ended_at": now + timedelta(minutes=25), "outcome": "completed", "timezone": "UTC",
          "local_date": now.date(), "version": i, "created_at": now, "updated_at": now}) for i in range(50)]
dom = [to_focus_session(r) for r in rows]
outs = [FocusSessionOut.of(s) for s in dom]
page = FocusSessionPage(items=outs, next_cursor=encode_cursor(("5",)))
n = 200
def t(f): return min(timeit.repeat(f, number=n, repeat=5)) / n / 50 * 1e6
print("row->domain   µs/item", round(t(lambda: [to_focus_session(r) for r in rows]), 2))
print("domain->model µs/item", round(t(lambda: [FocusSessionOut.of(s) for s in dom]), 2))
print("page build    µs/item", round(t(lambda: FocusSessionPage(items=outs, next_cursor=None)), 2))
print("json_response µs/item", round(t(lambda: json_response(page)), 2))
print("dump_json     µs/item", round(t(lambda: page.__pydantic_serializer__.to_json(page, by_alias=True)), 2))
def bare(): return orjson.dumps([{k: m[k] for k in ("id","blocklist_id","mode","started_at","ended_at","outcome","timezone","local_date","version","created_at","updated_at")} | {"planned_duration_minutes": m["planned_duration_seconds"]//60} for m in (r._mapping for r in rows)])
print("bare out+orjson µs/item", round(t(bare), 2))
