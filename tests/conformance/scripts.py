"""Drives the identity calls an IAM-key user makes through openstacksdk and
python-keystoneclient, as a script would, for one principal of kc-console.

Reads the principal's context as JSON on stdin (see tests/conformance.rs) and prints one JSON
array of observations: {"id", "client", "ok", "status", "message"}. It only observes; the
expected outcome of every call is in tests/conformance.rs. A call that answers but breaks a
client-side check (the wrong key found, a field missing) is reported as not ok with
status null and the check's message.
"""

import json
import re
import sys
import warnings

warnings.filterwarnings("ignore")

import openstack  # noqa: E402
from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402
from keystoneclient import discover  # noqa: E402
from keystoneclient.v3 import client as ks_client  # noqa: E402

ctx = json.load(sys.stdin)
URL = ctx["url"]
ROOT = ctx["root"]
WHO = ctx["who"]
KEY = ctx["key"]
UID = ctx["user_id"]
PID = ctx["project_id"]
PASSWORD = ctx.get("password")
UNKNOWN = "0" * 32
APP_CRED_FIELDS = {"id", "name", "description", "project_id", "roles", "unrestricted",
                   "access_rules", "expires_at", "system", "links"}

results = []


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def observe(call_id, client, fn):
    """Runs fn, records how it went, and returns what it returned (None on failure)."""
    try:
        value = fn()
    except CheckFailed as e:
        results.append({"id": call_id, "client": client, "ok": False, "status": None,
                        "message": f"check failed: {e}"})
        return None
    except Exception as e:  # noqa: BLE001 - every failure is an observation
        status = getattr(e, "http_status", None) or getattr(e, "status_code", None)
        message = f"{type(e).__name__}: {e}".replace("\n", " ")
        if not isinstance(status, int):
            # openstacksdk wraps keystoneauth's errors during authentication in
            # SDKException, keeping the status only in the message.
            found = re.search(r"\(HTTP (\d{3})\)", message)
            status = int(found.group(1)) if found else None
        results.append({"id": call_id, "client": client, "ok": False,
                        "status": status if isinstance(status, int) else None,
                        "message": message[:400]})
        return None
    results.append({"id": call_id, "client": client, "ok": True, "status": None, "message": ""})
    return value


# ---- sessions and connections, as a script makes them ----

def key_auth(**extra):
    if extra:
        return v3.ApplicationCredential(auth_url=URL, application_credential_secret=KEY["secret"],
                                        **extra)
    return v3.ApplicationCredential(auth_url=URL, application_credential_id=KEY["id"],
                                    application_credential_secret=KEY["secret"])


def password_auth(**scope):
    return v3.Password(auth_url=URL, username=PASSWORD["email"], password=PASSWORD["password"],
                       **scope)


def ksc(auth):
    return ks_client.Client(session=ks_session.Session(auth=auth))


def sdk(auth_type, **auth):
    return openstack.connect(auth_type=auth_type, auth=dict(auth_url=URL, **auth),
                             identity_api_version="3", load_yaml_config=False,
                             load_envvars=False)


def sdk_key():
    return sdk("v3applicationcredential", application_credential_id=KEY["id"],
               application_credential_secret=KEY["secret"])


def sdk_password(**scope):
    return sdk("password", username=PASSWORD["email"], password=PASSWORD["password"],
               user_domain_name="Default", **scope)


def raw(resource):
    """The record as the server sent it (keystoneclient keeps it in _info)."""
    return resource._info  # noqa: SLF001


def has_keystone_fields(record):
    missing = APP_CRED_FIELDS - set(record)
    check(not missing, f"application credential lacks {sorted(missing)}")
    check(isinstance(record["roles"], list) and record["roles"],
          f"roles is {record['roles']!r}, not a list of the roles the key grants")
    for role in record["roles"]:
        check({"id", "name"} <= set(role), f"role {role!r} lacks id or name")
    check(record["access_rules"] == [], f"access_rules is {record['access_rules']!r}")
    check((record.get("links") or {}).get("self"), "links.self is missing")


def token_roles(auth):
    s = ks_session.Session(auth=auth)
    return sorted(auth.get_access(s).role_names)


# ---- with the principal's IAM access key (a restricted token) ----

k = ksc(key_auth())
conn = sdk_key()


def sdk_issue():
    token = conn.authorize()
    check(token, "no token")
    check(conn.current_user_id == UID, f"user {conn.current_user_id}")
    check(conn.current_project_id == PID, f"project {conn.current_project_id}")


observe("token.issue", "sdk", sdk_issue)


def ksc_issue():
    token = k.session.get_token()
    access = k.session.auth.get_access(k.session)
    check(token and access.user_id == UID and access.project_id == PID,
          f"token for {access.user_id} in {access.project_id}")
    return token


token = observe("token.issue", "ksc", ksc_issue)


def ksc_validate():
    access = k.tokens.validate(token)
    check(access.user_id == UID and access.project_id == PID,
          f"validated as {access.user_id} in {access.project_id}")
    body = k.tokens.get_token_data(token)["token"]
    check(body["methods"] == ["application_credential"], f"methods {body['methods']}")
    check(body["application_credential"]["id"] == KEY["id"], "another key's token")
    return body


first = observe("token.validate", "ksc", ksc_validate)


def ksc_nocatalog():
    data = k.tokens.get_token_data(token, include_catalog=False)
    check("catalog" not in data["token"], "?nocatalog still returned the catalog")


observe("token.validate.nocatalog", "ksc", ksc_nocatalog)

try:
    # A second token of the same key (when issuing fails, token.issue says so).
    sibling = ks_session.Session(auth=key_auth()).get_token()
except Exception:  # noqa: BLE001
    sibling = None


def ksc_sibling():
    access = k.tokens.validate(sibling)
    check(access.user_id == UID, f"validated as {access.user_id}")
    audit_ids = k.tokens.get_token_data(sibling)["token"]["audit_ids"]
    check(first is None or audit_ids != first["audit_ids"],
          f"two tokens share audit_ids {audit_ids}")


if sibling:
    observe("token.validate.sibling", "ksc", ksc_sibling)
observe("token.validate.foreign", "ksc", lambda: k.tokens.validate(ctx["foreign_token"]))


def ksc_revoke():
    k.tokens.revoke_token(sibling)
    try:
        k.tokens.validate(sibling)
    except Exception as e:  # noqa: BLE001
        check(getattr(e, "http_status", None) == 404, f"validating a revoked token: {e}")
        return
    raise CheckFailed("a revoked token still validates")


if sibling:
    observe("token.revoke", "ksc", ksc_revoke)


def sdk_list():
    creds = list(conn.identity.application_credentials(UID))
    check(KEY["id"] in [c.id for c in creds], "the principal's own key is not listed")
    for c in creds:
        check(isinstance(c.roles, list) and c.roles, f"{c.name}: roles {c.roles!r}")


def ksc_list():
    creds = k.application_credentials.list()
    check(KEY["id"] in [c.id for c in creds], "the principal's own key is not listed")
    for c in creds:
        has_keystone_fields(raw(c))


observe("appcred.list", "sdk", sdk_list)
observe("appcred.list", "ksc", ksc_list)


def ksc_list_name():
    found = [c.id for c in k.application_credentials.list(name=KEY["name"])]
    check(found == [KEY["id"]], f"?name={KEY['name']} gave {found}")
    none = k.application_credentials.list(name="no-such-key")
    check(none == [], f"?name=no-such-key gave {len(none)} keys")


observe("appcred.list.name", "ksc", ksc_list_name)


def sdk_get():
    c = conn.identity.get_application_credential(UID, KEY["id"])
    check(c.id == KEY["id"] and c.name == KEY["name"], f"got {c.id} {c.name}")
    check(isinstance(c.roles, list) and c.roles, f"roles {c.roles!r}")


def ksc_get():
    c = k.application_credentials.get(KEY["id"])
    check(c.id == KEY["id"], f"got {c.id}")
    has_keystone_fields(raw(c))


observe("appcred.show.id", "sdk", sdk_get)
observe("appcred.show.id", "ksc", ksc_get)


def sdk_find():
    c = conn.identity.find_application_credential(UID, KEY["name"], ignore_missing=False)
    check(c.id == KEY["id"], f"find({KEY['name']!r}) found {c.id}")


def ksc_find():
    c = k.application_credentials.find(name=KEY["name"])
    check(c.id == KEY["id"], f"find(name={KEY['name']!r}) found {c.id}")


observe("appcred.show.name", "sdk", sdk_find)
observe("appcred.show.name", "ksc", ksc_find)
observe("appcred.show.unknown", "sdk",
        lambda: conn.identity.get_application_credential(UID, UNKNOWN))
observe("appcred.show.unknown", "ksc", lambda: k.application_credentials.get(UNKNOWN))


def cleanup_app_cred(made):
    """A create the replica should have refused went through: undo it, so that the limits
    are as the other calls expect."""
    try:
        conn.identity.delete_application_credential(UID, made.id)
    except Exception:  # noqa: BLE001
        pass


made = observe("appcred.create", "sdk",
               lambda: conn.identity.create_application_credential(UID, "conformance-sdk"))
if made:
    cleanup_app_cred(made)
made = observe("appcred.create", "ksc", lambda: k.application_credentials.create("conformance-ksc"))
if made:
    cleanup_app_cred(made)
# A service account's other key (users: the key their password makes, below) is the target of
# the deletes a restricted token may not make.
if ctx.get("other_key"):
    observe("appcred.delete", "sdk", lambda: conn.identity.delete_application_credential(
        UID, ctx["other_key"], ignore_missing=False))
    observe("appcred.delete", "ksc", lambda: k.application_credentials.delete(ctx["other_key"]))

s3 = ctx.get("s3_access")


def ksc_ec2_list():
    listed = [c.access for c in k.ec2.list(UID)]
    check(s3 is None or s3 in listed, f"{s3} is not listed")


observe("ec2.list", "ksc", ksc_ec2_list)
if s3:
    observe("ec2.show", "ksc", lambda: k.ec2.get(UID, s3))
observe("ec2.show.unknown", "ksc", lambda: k.ec2.get(UID, UNKNOWN))
made = observe("ec2.create", "ksc", lambda: k.ec2.create(UID, PID))
if made:
    try:
        k.ec2.delete(UID, made.access)
    except Exception:  # noqa: BLE001
        pass
if s3:
    observe("ec2.delete", "ksc", lambda: k.ec2.delete(UID, s3))


def sdk_user(uid):
    def call():
        u = conn.identity.get_user(uid)
        check(u.id == uid, f"got user {u.id}")
    return call


def ksc_user(uid):
    def call():
        u = k.users.get(uid)
        check(u.id == uid, f"got user {u.id}")
    return call


observe("user.show.self", "sdk", sdk_user(UID))
observe("user.show.self", "ksc", ksc_user(UID))
observe("user.show.other", "sdk", sdk_user(ctx["other_user_id"]))
observe("user.show.other", "ksc", ksc_user(ctx["other_user_id"]))


def sdk_project(pid):
    def call():
        p = conn.identity.get_project(pid)
        check(p.id == pid, f"got project {p.id}")
    return call


def ksc_project(pid):
    def call():
        p = k.projects.get(pid)
        check(p.id == pid, f"got project {p.id}")
    return call


observe("project.show", "sdk", sdk_project(PID))
observe("project.show", "ksc", ksc_project(PID))
observe("project.show.other", "sdk", sdk_project(ctx["other_project_id"]))
observe("project.show.other", "ksc", ksc_project(ctx["other_project_id"]))


def all_projects(listed):
    ids = {p.id for p in listed}
    check({PID, ctx["other_project_id"]} <= ids, f"listed {sorted(ids)}")


observe("project.list", "sdk", lambda: all_projects(list(conn.identity.projects())))
observe("project.list", "ksc", lambda: all_projects(k.projects.list()))


def mine(listed):
    ids = {p.id for p in listed}
    check(PID in ids, f"{PID} not among {sorted(ids)}")


observe("project.list.mine", "sdk", lambda: mine(list(conn.identity.user_projects(UID))))
observe("project.list.mine", "ksc", lambda: mine(k.projects.list(user=UID)))

ROLE = ctx["role"]


def sdk_assignments():
    listed = list(conn.identity.role_assignments(user_id=UID, scope_project_id=PID,
                                                  include_names=True))
    names = [a.role.get("name") for a in listed]
    check(ROLE in names, f"role names {names}, not {ROLE}")


def ksc_assignments():
    listed = k.role_assignments.list(user=UID, project=PID, include_names=True)
    names = [a.role.get("name") for a in listed]
    check(ROLE in names, f"role names {names}, not {ROLE}")


observe("role_assignment.list.mine", "sdk", sdk_assignments)
observe("role_assignment.list.mine", "ksc", ksc_assignments)


def ksc_all_assignments():
    users = {a.user["id"] for a in k.role_assignments.list() if hasattr(a, "user")}
    check(UID in users and ctx["other_user_id"] in users, f"assignments of {sorted(users)}")


if WHO == "owner":
    observe("role_assignment.list.all", "ksc", ksc_all_assignments)


def sdk_domain():
    d = conn.identity.get_domain("default")
    check(d.name == "Default", f"domain {d.name}")


def ksc_domain():
    d = k.domains.get("default")
    check(d.name == "Default", f"domain {d.name}")


observe("domain.show.default", "sdk", sdk_domain)
observe("domain.show.default", "ksc", ksc_domain)


def ksc_discover():
    versions = discover.Discover(session=ks_session.Session(), auth_url=ROOT).version_data()
    check(any(v["version"][0] == 3 for v in versions), f"versions {versions}")


observe("discovery", "ksc", ksc_discover)


def sdk_by_name(**user):
    def call():
        c = sdk("v3applicationcredential", application_credential_name=KEY["name"],
                application_credential_secret=KEY["secret"], **user)
        c.authorize()
        check(c.current_user_id == UID, f"user {c.current_user_id}")
    return call


def ksc_by_name(**user):
    def call():
        s = ks_session.Session(auth=key_auth(application_credential_name=KEY["name"], **user))
        s.get_token()
        check(s.auth.get_access(s).user_id == UID, "another principal's token")
    return call


observe("auth.by_name.user_id", "sdk", sdk_by_name(user_id=UID))
observe("auth.by_name.user_id", "ksc", ksc_by_name(user_id=UID))
if PASSWORD:
    observe("auth.by_name.user_name", "sdk",
            sdk_by_name(username=PASSWORD["email"], user_domain_name="Default"))
    observe("auth.by_name.user_name", "ksc",
            ksc_by_name(username=PASSWORD["email"], user_domain_name="Default"))

if WHO == "owner":
    observe("auth.unsupported", "sdk", lambda: sdk(
        "v3totp", username=PASSWORD["email"], passcode="123456",
        user_domain_name="Default").authorize())
    observe("auth.unsupported", "ksc", lambda: ks_session.Session(auth=v3.TOTP(
        auth_url=URL, username=PASSWORD["email"], passcode="123456",
        user_domain_name="Default")).get_token())

# ---- with the user's console password (Keystone's password method) ----

if PASSWORD:
    scoped = dict(project_id=PID)

    def sdk_pw_issue():
        c = sdk_password(project_name=ctx["project_name"], project_domain_name="Default")
        c.authorize()
        check(c.current_project_id == PID, f"project {c.current_project_id}")

    def ksc_pw_issue():
        s = ks_session.Session(auth=password_auth(user_domain_id="default", **scoped))
        access = s.auth.get_access(s)
        check(access.project_id == PID, f"project {access.project_id}")
        body = ks_client.Client(session=s).tokens.get_token_data(s.get_token())["token"]
        check(body["methods"] == ["password"], f"methods {body['methods']}")
        check("application_credential" not in body, "a password token names a key")

    observe("pw.token.issue", "sdk", sdk_pw_issue)
    observe("pw.token.issue", "ksc", ksc_pw_issue)

    def ksc_pw_default():
        s = ks_session.Session(auth=password_auth(user_domain_name="Default"))
        access = s.auth.get_access(s)
        check(access.project_id == PID,
              f"scoped to {access.project_id}, not the default project {PID}")

    observe("pw.token.default_project", "ksc", ksc_pw_default)
    if ctx.get("no_role_project"):
        observe("pw.token.no_role_project", "sdk", lambda: sdk_password(
            project_name=ctx["no_role_project"], project_domain_name="Default").authorize())
        observe("pw.token.no_role_project", "ksc", lambda: ks_session.Session(
            auth=password_auth(user_domain_name="Default", project_name=ctx["no_role_project"],
                               project_domain_name="Default")).get_token())
    if WHO == "reader":
        observe("pw.token.wrong_password", "ksc", lambda: ks_session.Session(auth=v3.Password(
            auth_url=URL, username=PASSWORD["email"], password="not-the-password",
            user_domain_name="Default", **scoped)).get_token())

    pw = ksc(password_auth(user_domain_name="Default", **scoped))
    pconn = sdk_password(project_id=PID)

    made = observe("pw.appcred.create", "sdk", lambda: pconn.identity.create_application_credential(
        UID, "conformance-sdk", description="made by openstacksdk"))
    if made:
        # A restricted token may not delete it; then the password token does, by ID.
        observe("appcred.delete", "sdk", lambda: conn.identity.delete_application_credential(
            UID, made.id, ignore_missing=False))
        observe("pw.appcred.delete.id", "sdk", lambda: pconn.identity.delete_application_credential(
            UID, made.id, ignore_missing=False))

    def ksc_create():
        c = pw.application_credentials.create("conformance-ksc")
        has_keystone_fields(raw(c))
        check(c.secret, "no secret in the create response")
        return c

    made = observe("pw.appcred.create", "ksc", ksc_create)
    if made:
        observe("appcred.delete", "ksc",
                lambda: k.application_credentials.delete(made.id))
        observe("pw.appcred.delete.name", "ksc", lambda: pw.application_credentials.delete(
            pw.application_credentials.find(name="conformance-ksc")))

    GRANT = ctx["grant_role"]

    def role_key(make, delete):
        def call():
            c = make()
            try:
                auth = v3.ApplicationCredential(auth_url=URL, application_credential_id=c.id,
                                                application_credential_secret=c.secret)
                roles = token_roles(auth)
                check(roles == [GRANT], f"a key made with role {GRANT} gives tokens {roles}")
            finally:
                delete(c)
        return call

    observe("pw.appcred.create.role", "sdk", role_key(
        lambda: pconn.identity.create_application_credential(
            UID, "conformance-sdk-role", roles=[{"name": GRANT}]),
        lambda c: pconn.identity.delete_application_credential(
            UID, pconn.identity.find_application_credential(UID, "conformance-sdk-role"))))
    observe("pw.appcred.create.role", "ksc", role_key(
        lambda: pw.application_credentials.create("conformance-ksc-role",
                                                  roles=[{"name": GRANT}]),
        lambda c: pw.application_credentials.delete(c.id)))

    def refused_create(call_id, **attrs):
        made = observe(call_id, "sdk", lambda: pconn.identity.create_application_credential(
            UID, "conformance-sdk-bad", **attrs))
        if made:
            pconn.identity.delete_application_credential(UID, made.id)
        made = observe(call_id, "ksc", lambda: pw.application_credentials.create(
            "conformance-ksc-bad", **attrs))
        if made:
            pw.application_credentials.delete(made.id)

    if WHO == "owner":
        refused_create("pw.appcred.create.unrestricted", unrestricted=True)
        refused_create("pw.appcred.create.access_rules", access_rules=[
            {"service": "compute", "method": "GET", "path": "/v2.1/servers"}])

    def ksc_ec2_cycle():
        c = pw.ec2.create(UID, PID)
        check(c.access and c.secret, "no access or secret")
        return c

    made = observe("pw.ec2.create", "ksc", ksc_ec2_cycle)
    if made:
        observe("pw.ec2.delete", "ksc", lambda: pw.ec2.delete(UID, made.access))
    if ctx.get("ec2_other_project"):
        made = observe("pw.ec2.create.other_project", "ksc",
                       lambda: pw.ec2.create(UID, ctx["ec2_other_project"]))
        if made:
            pw.ec2.delete(UID, made.access)

print(json.dumps(results))
