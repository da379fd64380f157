import base64
from tests import factories
from tests.sharing.helpers import setup, resource_code, approved_grant, PURPOSE, ZHANG
from tests.catalog.helpers import apply, definition
from tests.sharing.helpers import PEOPLE

def b64(s): return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")

def test_probe(db, client, tmp_path):
    keys = setup(db, tmp_path); code = resource_code(db); approved_grant(client, code)
    h = {**factories.bearer(keys["mz"]), **PURPOSE}
    for url in [f"/api/v1/data/{code}/records?after={b64('s9999999999999999999')}",
                f"/api/v1/data/{code}/changes?since={b64('v1.' + str(2**70) + '.1.u.0')}",
                f"/api/v1/data/{code}/changes?since={b64('v1.' + str(2**70) + '.1.d.0')}",
                f"/api/v1/data/{code}/changes?since={b64('v1.5.' + str(2**62) + '.d.0')}",
                f"/api/v1/data/{code}/changes?since={b64('v1.1.1.d.' + str(2**62))}",
                ]:
        r = client.get(url, headers=h); print(url[-40:], r.status_code, r.text[:200])
    # republish as 不予
    d = definition(PEOPLE, share={"type": "不予"}, legal_basis="《某法》第一条")
    print(apply(db, d))
    r = client.get(f"/api/v1/person/{ZHANG}", headers=h); print("person", r.status_code, r.text[:400])
    r = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=h); print("rec", r.status_code, r.text[:200])
    r = client.get(f"/api/v1/data", headers=h); print("mine", r.status_code, r.text[:400])
