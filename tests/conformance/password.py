"""Changes a user's console password back with python-keystoneclient, through Keystone's
password method (POST /users/{id}/password), after the `openstack` CLI changed it: reads
{"url", "email", "project_id", "old", "new"} on stdin and prints the observations as
tests/conformance/scripts.py does."""

import json
import sys
import warnings

warnings.filterwarnings("ignore")

from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402
from keystoneclient.v3 import client as ks_client  # noqa: E402

ctx = json.load(sys.stdin)


def password_session(password):
    return ks_session.Session(auth=v3.Password(
        auth_url=ctx["url"], username=ctx["email"], password=password,
        user_domain_name="Default", project_id=ctx["project_id"]))


def change_back():
    ks = ks_client.Client(session=password_session(ctx["old"]))
    ks.users.update_password(ctx["old"], ctx["new"])
    # The new password signs in.
    password_session(ctx["new"]).get_token()


try:
    change_back()
    result = {"ok": True, "status": None, "message": ""}
except Exception as e:  # noqa: BLE001 - every failure is an observation
    status = getattr(e, "http_status", None)
    result = {"ok": False, "status": status if isinstance(status, int) else None,
              "message": f"{type(e).__name__}: {e}".replace("\n", " ")[:400]}
print(json.dumps([dict(result, id="pw.password.change", client="ksc")]))
