//! Help Desk rules the model enforces for every face: one open deletion request per project
//! (a second is refused with the open one's ID), and the password re-check's lockout message.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use kc_console::console::{Config, Console, Error, FixedClock, InquiryDraft, Limits, SeededEntropy};
use kc_console::store::Table;
use tempfile::TempDir;

const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";

fn demo() -> (Console, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(
        dir.path(),
        Config {
            clock: Arc::new(FixedClock::new(
                Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
            )),
            entropy: Arc::new(SeededEntropy::new(7)),
            limits: Limits::default(),
        },
    )
    .unwrap();
    console.load_demo().unwrap();
    (console, dir)
}

fn inquiries(console: &Console) -> usize {
    console
        .store()
        .scan::<serde_json::Value>(Table::Inquiries, "")
        .unwrap()
        .len()
}

#[test]
fn a_second_deletion_request_for_a_project_is_refused_with_the_open_ones_id() {
    let (console, _dir) = demo();
    let owner = Console::actor_for(&console.user_by_email(OWNER).unwrap());
    let first = console
        .request_project_deletion(&owner, "web-shop", "Delete web-shop", "", false, None)
        .expect("the first request is accepted");
    let before = inquiries(&console);

    let second = console.submit_inquiry(&owner, &InquiryDraft::project_deletion("web-shop"));
    match &second {
        Err(Error::Conflict(message)) => {
            assert!(
                message.contains(&first.id),
                "names the open inquiry's ID: {message}"
            );
            assert!(message.contains("web-shop"), "{message}");
        }
        other => panic!("a duplicate request is a conflict, got {other:?}"),
    }
    assert_eq!(inquiries(&console), before, "nothing was written");
    let audit = console.list_audit(&owner, 1).unwrap();
    assert!(
        audit[0].outcome.starts_with("refused:") && audit[0].outcome.contains(&first.id),
        "the refusal is audited: {:?}",
        audit[0]
    );

    // Another project is not affected, nor is an ordinary inquiry about the same project.
    console
        .request_project_deletion(&owner, "data-lake", "Delete data-lake", "", false, None)
        .expect("another project's request is accepted");
    let mut question = InquiryDraft::project_deletion("web-shop");
    question.detail_type = "Billing".into();
    question.kind = kc_console::console::InquiryKind::General;
    console
        .submit_inquiry(&owner, &question)
        .expect("a general inquiry is accepted");

    // Once the open request is resolved, a new one may be made.
    console
        .reject_inquiry(
            &kc_console::console::Actor::operator(kc_console::console::Via::Password),
            &first.id,
        )
        .unwrap();
    console
        .request_project_deletion(&owner, "web-shop", "Delete web-shop, again", "", false, None)
        .expect("a new request after the first was rejected");
}

#[test]
fn the_last_wrong_answer_before_the_lock_is_named_in_the_singular() {
    let (console, _dir) = demo();
    let admin = Console::actor_for(&console.user_by_email(ADMIN).unwrap());
    let mut messages = Vec::new();
    for _ in 0..4 {
        messages.push(
            console
                .verify_password(&admin, "not-it")
                .unwrap_err()
                .message()
                .to_string(),
        );
    }
    assert!(
        messages[0].contains("4 more wrong answers lock verification"),
        "{}",
        messages[0]
    );
    assert!(
        messages[3].contains("1 more wrong answer locks verification"),
        "singular subject, singular verb: {}",
        messages[3]
    );
}
