//! Sign-in tells nobody which e-mails exist, and a lockout always has a way back (issue 14,
//! item 10); sessions end when they should (issue 15).

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use kc_console::console::{Actor, Config, Console, Error, FixedClock, Limits, SeededEntropy, Via};
use tempfile::TempDir;

const OWNER: &str = "owner@acme.example";
const OWNER_PW: &str = "owner-password-1";

struct Org {
    _dir: TempDir,
    clock: Arc<FixedClock>,
    console: Console,
    owner: Actor,
}

fn org() -> Org {
    let dir = TempDir::new().unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
    ));
    let console = Console::open(
        dir.path(),
        Config {
            clock: clock.clone(),
            entropy: Arc::new(SeededEntropy::new(3)),
            limits: Limits::default(),
        },
    )
    .unwrap();
    let owner = Console::actor_for(&console.init_org("Acme", OWNER, "Owner", OWNER_PW).unwrap());
    Org {
        _dir: dir,
        clock,
        console,
        owner,
    }
}

fn message(result: Result<Actor, Error>) -> String {
    match result {
        Err(Error::Auth(m)) => m,
        other => panic!("expected an authentication refusal, got {other:?}"),
    }
}

#[test]
fn an_unknown_email_is_answered_exactly_as_a_wrong_password_lockout_included() {
    // Fails before this change: the unknown e-mail never "locked", so the sixth answer told
    // the two apart.
    let org = org();
    let known: Vec<String> = (0..7)
        .map(|_| message(org.console.sign_in(OWNER, "not-the-password")))
        .collect();
    let unknown: Vec<String> = (0..7)
        .map(|_| message(org.console.sign_in("nobody@acme.example", "not-the-password")))
        .collect();
    assert_eq!(known, unknown);
    assert!(known[0].contains("wrong email or password"), "{known:?}");
    assert!(known[4].contains("now locked"), "{known:?}");
    assert!(known[5].contains("try again in 15 minutes"), "{known:?}");
    // The lock ends as it should for both.
    org.clock.advance(Duration::minutes(16));
    assert_eq!(
        message(org.console.sign_in("nobody@acme.example", "x-password")),
        "wrong email or password"
    );
    org.console.sign_in(OWNER, OWNER_PW).unwrap();
}

#[test]
fn an_org_admin_unlocks_a_user_and_the_holder_recovers_the_owner() {
    let org = org();
    let c = &org.console;
    let (reader, reader_pw) = c
        .add_user(
            &org.owner,
            "reader@acme.example",
            "Reader",
            Some(kc_console::console::OrgRole::Reader),
        )
        .unwrap();
    let (user, user_pw) = c.add_user(&org.owner, "user@acme.example", "User", None).unwrap();
    for _ in 0..5 {
        let _ = c.sign_in(&user.email, "wrong-password");
    }
    assert!(message(c.sign_in(&user.email, user_pw.expose())).contains("locked"));
    // Only an Org Admin unlocks.
    let reader_actor = c.sign_in(&reader.email, reader_pw.expose()).unwrap();
    assert!(matches!(
        c.unlock_user(&reader_actor, &user.email),
        Err(Error::Denied(_))
    ));
    c.unlock_user(&org.owner, &user.email).unwrap();
    c.sign_in(&user.email, user_pw.expose()).unwrap();

    // The owner locks everyone out (the only Org Admin): whoever holds the data directory
    // recovers. Nobody signed in may use recovery, not even the owner.
    for _ in 0..5 {
        let _ = c.sign_in(OWNER, "wrong-password");
    }
    assert!(message(c.sign_in(OWNER, OWNER_PW)).contains("locked"));
    assert!(matches!(
        c.recover_user(&org.owner, OWNER, false),
        Err(Error::Denied(_))
    ));
    c.recover_user(&Actor::holder(), OWNER, false).unwrap();
    c.sign_in(OWNER, OWNER_PW).unwrap();
    let new = c
        .recover_user(&Actor::holder(), OWNER, true)
        .unwrap()
        .expect("a new password");
    message(c.sign_in(OWNER, OWNER_PW));
    c.sign_in(OWNER, new.expose()).unwrap();
    let audit = c.list_audit(&org.owner, 100).unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "user.recover" && e.actor == "data directory holder"));
    assert!(audit
        .iter()
        .any(|e| e.action == "user.unlock" && e.actor == OWNER));
}

#[test]
fn the_help_desk_operator_signs_in_and_only_it_resolves_inquiries() {
    // Fails before this change: approving needed no sign-in at all.
    let org = org();
    let c = &org.console;
    let password = c.reset_operator(&Actor::system()).unwrap();
    assert!(matches!(c.reset_operator(&org.owner), Err(Error::Denied(_))));
    message(c.sign_in("helpdesk@kakaocloud.example", "wrong-password"));
    let operator = c
        .sign_in("HelpDesk@KakaoCloud.example", password.expose())
        .unwrap();
    assert_eq!(operator, Actor::operator(Via::Password));
    assert!(matches!(c.helpdesk_queue(&org.owner), Err(Error::Denied(_))));
    c.helpdesk_queue(&operator).unwrap();
    // No user may take the operator's e-mail.
    assert!(matches!(
        c.add_user(&org.owner, "helpdesk@kakaocloud.example", "Fake", None),
        Err(Error::Conflict(_))
    ));
}

#[test]
fn sessions_end_by_expiry_logout_password_change_and_removal() {
    let org = org();
    let c = &org.console;
    let (user, pw) = c.add_user(&org.owner, "user@acme.example", "User", None).unwrap();
    let signed_in = c.sign_in(&user.email, pw.expose()).unwrap();
    let session = c.open_session(&signed_in).unwrap();
    assert_eq!(c.session_actor(session.token.expose()).unwrap().label, user.email);
    // Only the canonical spelling is a session.
    let upper = session.token.expose().to_uppercase().replace("KCS1", "kcs1");
    assert!(c.session_actor(&upper).is_err());
    assert!(c.session_actor(&format!(" {}", session.token.expose())).is_err());
    // Expiry.
    org.clock.advance(Duration::hours(12));
    assert!(c.session_actor(session.token.expose()).is_err());
    // Logout.
    let session = c.open_session(&signed_in).unwrap();
    c.close_session(session.token.expose()).unwrap();
    assert!(c.session_actor(session.token.expose()).is_err());
    // A password change.
    let session = c.open_session(&signed_in).unwrap();
    c.change_password(&signed_in, pw.expose(), "another-password-2")
        .unwrap();
    assert!(c.session_actor(session.token.expose()).is_err());
    // Removal from the organization.
    let signed_in = c.sign_in(&user.email, "another-password-2").unwrap();
    let session = c.open_session(&signed_in).unwrap();
    c.remove_user(&org.owner, &user.email).unwrap();
    assert!(c.session_actor(session.token.expose()).is_err());
}
