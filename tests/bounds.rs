//! Nothing from outside is held or printed whole and raw: every argument of the model has a
//! length bound checked before it reaches a lookup, a message or the audit log; one audit
//! event has a fixed maximum size; control characters are refused in every text field; and
//! everything the command line prints that came from outside has its hidden characters made
//! visible — through the model, then the real binary.

use std::path::Path;
use std::process::{Command, Output};

use kc_console::console::{
    Actor, Attachment, Config, Console, Error, InquiryDraft, InquiryKind, KeyKind, ProjectRole, SaStatus, Via,
};
use kc_console::store::Table;

const BIN: &str = env!("CARGO_BIN_EXE_kc-console");
const OWNER: &str = "owner@acme.example";
const PASSWORD: &str = "Owner-Passw0rd!";
const PROJECT: &str = "web-shop";
/// The size of the largest audit record a refusal may leave (the bound is `EVENT_MAX_BYTES`,
/// about 5.4 KiB; a whole 60,000-character argument would be ten times this).
const RECORD_LIMIT: usize = 6 * 1024;

/// An organization whose owner (Org Admin) has a payment method and is Project Admin of
/// `web-shop`, with a service account there.
fn organization(console: &Console) -> (Actor, String) {
    let owner = console
        .init_org("Acme", OWNER, "Owner", PASSWORD)
        .expect("init_org");
    let actor = Console::actor_for(&owner);
    console
        .add_payment_method(&actor, "Visa", "4242", "09/28")
        .expect("payment method");
    console
        .create_project(&actor, PROJECT, "Web", "")
        .expect("project");
    let sa = console
        .create_service_account(&actor, PROJECT, "ci-bot", "")
        .expect("service account");
    (actor, sa.id())
}

/// One call of the model, its result reduced to success or the error.
type Call<'a> = Box<dyn Fn() -> Result<(), Error> + 'a>;

/// Every audit record as stored, with its size.
fn audit_records(console: &Console) -> Vec<(String, String)> {
    console
        .store()
        .scan::<serde_json::Value>(Table::Audit, "")
        .expect("a scan")
        .into_iter()
        .map(|(key, value)| (key, value.to_string()))
        .collect()
}

#[test]
fn over_long_arguments_are_refused_and_never_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), Config::default()).unwrap();
    let (owner, sa_id) = organization(&console);
    let operator = Actor::operator(Via::Password);
    let long = "k".repeat(60_000);
    let long = long.as_str();
    let draft = |f: &dyn Fn(&mut InquiryDraft)| {
        let mut draft = InquiryDraft {
            kind: InquiryKind::General,
            detail_type: "Account".into(),
            project: None,
            title: "A question".into(),
            details: "Details".into(),
            private: false,
            attachment: None,
        };
        f(&mut draft);
        draft
    };
    let c = &console;
    let calls: Vec<(&str, Call)> = vec![
        ("sign_in email", Box::new(|| c.sign_in(long, PASSWORD).map(drop))),
        ("sign_in password", Box::new(|| c.sign_in(OWNER, long).map(drop))),
        ("verify_password", Box::new(|| c.verify_password(&owner, long))),
        (
            "change_password",
            Box::new(|| c.change_password(&owner, PASSWORD, long)),
        ),
        (
            "add_user email",
            Box::new(|| c.add_user(&owner, long, "N", None).map(drop)),
        ),
        (
            "add_user name",
            Box::new(|| c.add_user(&owner, "n@acme.example", long, None).map(drop)),
        ),
        ("remove_user", Box::new(|| c.remove_user(&owner, long))),
        ("user_by_id", Box::new(|| c.user_by_id(long).map(drop))),
        ("user_by_email", Box::new(|| c.user_by_email(long).map(drop))),
        (
            "lockout_remaining",
            Box::new(|| c.lockout_remaining(long).map(drop)),
        ),
        (
            "add_payment_method brand",
            Box::new(|| c.add_payment_method(&owner, long, "4242", "09/28").map(drop)),
        ),
        (
            "add_payment_method last4",
            Box::new(|| c.add_payment_method(&owner, "Visa", long, "09/28").map(drop)),
        ),
        (
            "add_payment_method expiry",
            Box::new(|| c.add_payment_method(&owner, "Visa", "4242", long).map(drop)),
        ),
        ("find_project", Box::new(|| c.find_project(long).map(drop))),
        ("project_role", Box::new(|| c.project_role(long, long).map(drop))),
        (
            "create_project name",
            Box::new(|| c.create_project(&owner, long, "N", "").map(drop)),
        ),
        (
            "create_project nickname",
            Box::new(|| c.create_project(&owner, "other", long, "").map(drop)),
        ),
        (
            "create_project description",
            Box::new(|| c.create_project(&owner, "other", "N", long).map(drop)),
        ),
        (
            "edit_project",
            Box::new(|| c.edit_project(&owner, PROJECT, Some(long), None).map(drop)),
        ),
        (
            "edit_project project",
            Box::new(|| c.edit_project(&owner, long, Some("N"), None).map(drop)),
        ),
        (
            "set_default_project",
            Box::new(|| c.set_default_project(&owner, long)),
        ),
        (
            "list_members",
            Box::new(|| c.list_members(&owner, long).map(drop)),
        ),
        (
            "add_member",
            Box::new(|| c.add_member(&owner, PROJECT, long, ProjectRole::Member)),
        ),
        (
            "set_member_role",
            Box::new(|| c.set_member_role(&owner, PROJECT, long, ProjectRole::Reader)),
        ),
        (
            "remove_member",
            Box::new(|| c.remove_member(&owner, PROJECT, long).map(drop)),
        ),
        (
            "service_account",
            Box::new(|| c.service_account(&owner, long).map(drop)),
        ),
        (
            "get_service_account",
            Box::new(|| c.get_service_account(long).map(drop)),
        ),
        (
            "list_service_accounts",
            Box::new(|| c.list_service_accounts(&owner, long).map(drop)),
        ),
        (
            "create_service_account name",
            Box::new(|| c.create_service_account(&owner, PROJECT, long, "").map(drop)),
        ),
        (
            "create_service_account description",
            Box::new(|| c.create_service_account(&owner, PROJECT, "bot", long).map(drop)),
        ),
        (
            "set_service_account_status",
            Box::new(|| {
                c.set_service_account_status(&owner, long, SaStatus::Active)
                    .map(drop)
            }),
        ),
        (
            "delete_service_account",
            Box::new(|| c.delete_service_account(&owner, &sa_id, long).map(drop)),
        ),
        (
            "enable_service",
            Box::new(|| c.enable_service(&owner, PROJECT, long).map(drop)),
        ),
        ("list_agents", Box::new(|| c.list_agents(&owner, long).map(drop))),
        ("access_key", Box::new(|| c.access_key(long).map(drop))),
        (
            "create_credential name",
            Box::new(|| {
                c.create_credential(&owner, KeyKind::Iam, PROJECT, long, "")
                    .map(drop)
            }),
        ),
        (
            "create_credential description",
            Box::new(|| {
                c.create_credential(&owner, KeyKind::S3, PROJECT, "k", long)
                    .map(drop)
            }),
        ),
        (
            "delete_credential",
            Box::new(|| c.delete_credential(&owner, KeyKind::Iam, long).map(drop)),
        ),
        (
            "list_sa_keys",
            Box::new(|| c.list_sa_keys(&owner, long).map(drop)),
        ),
        (
            "create_sa_key name",
            Box::new(|| c.create_sa_key(&owner, &sa_id, long, "").map(drop)),
        ),
        (
            "create_sa_key description",
            Box::new(|| c.create_sa_key(&owner, &sa_id, "k", long).map(drop)),
        ),
        (
            "delete_sa_key key",
            Box::new(|| {
                c.delete_sa_key(&owner, &sa_id, long, "Delete IAM access key")
                    .map(drop)
            }),
        ),
        (
            "delete_sa_key phrase",
            Box::new(|| c.delete_sa_key(&owner, &sa_id, "k", long).map(drop)),
        ),
        (
            "submit_inquiry title",
            Box::new(|| {
                c.submit_inquiry(&owner, &draft(&|d| d.title = long.into()))
                    .map(drop)
            }),
        ),
        (
            "submit_inquiry details",
            Box::new(|| {
                c.submit_inquiry(&owner, &draft(&|d| d.details = long.into()))
                    .map(drop)
            }),
        ),
        (
            "submit_inquiry type",
            Box::new(|| {
                c.submit_inquiry(&owner, &draft(&|d| d.detail_type = long.into()))
                    .map(drop)
            }),
        ),
        (
            "submit_inquiry project",
            Box::new(|| {
                c.submit_inquiry(&owner, &draft(&|d| d.project = Some(long.into())))
                    .map(drop)
            }),
        ),
        (
            "submit_inquiry attachment",
            Box::new(|| {
                c.submit_inquiry(
                    &owner,
                    &draft(&|d| {
                        d.attachment = Some(Attachment {
                            name: long.into(),
                            size: 1,
                        })
                    }),
                )
                .map(drop)
            }),
        ),
        (
            "request_project_deletion",
            Box::new(|| {
                c.request_project_deletion(&owner, long, "T", "D", false, None)
                    .map(drop)
            }),
        ),
        (
            "approve_inquiry",
            Box::new(|| c.approve_inquiry(&operator, long).map(drop)),
        ),
        (
            "reject_inquiry",
            Box::new(|| c.reject_inquiry(&operator, long).map(drop)),
        ),
        ("issue_token", Box::new(|| c.issue_token(long, long).map(drop))),
        ("validate_token", Box::new(|| c.validate_token(long).map(drop))),
        (
            "revoke_token",
            Box::new(|| c.revoke_token(&owner, long).map(drop)),
        ),
    ];
    let before: usize = audit_records(c).iter().map(|(_, r)| r.len()).sum();
    for (name, call) in &calls {
        let e = call().expect_err(name);
        assert!(
            e.message().len() < 1000,
            "{name}: the message holds the argument ({} bytes)",
            e.message().len()
        );
    }
    let records = audit_records(c);
    for (key, record) in &records {
        assert!(
            record.len() <= RECORD_LIMIT,
            "record {key} is {} bytes",
            record.len()
        );
        assert!(
            !record.contains(&"k".repeat(600)),
            "record {key} holds the argument"
        );
    }
    let after: usize = records.iter().map(|(_, r)| r.len()).sum();
    assert!(
        after - before < calls.len() * RECORD_LIMIT,
        "{} calls wrote {} bytes of audit records",
        calls.len(),
        after - before
    );
}

#[test]
fn an_over_long_target_is_audited_as_a_marked_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), Config::default()).unwrap();
    let (owner, _) = organization(&console);
    // Within the bound for any text argument, far over the name's own rule (30): refused in the
    // change, whose audit target ("NAME in PROJECT") is cut with a marker.
    let name = "n".repeat(4000);
    let e = console
        .create_credential(&owner, KeyKind::Iam, PROJECT, &name, "")
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    let event = &console.list_audit(&owner, 1).unwrap()[0];
    assert_eq!(event.action, "credential.iam.create");
    assert!(event.target.starts_with("nnnn"), "{}", event.target);
    assert!(
        event.target.ends_with("…[cut from 4012 characters]"),
        "{}",
        event.target
    );
    assert!(event.target.len() <= 512);
}

#[test]
fn control_characters_are_refused_in_every_help_desk_field() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), Config::default()).unwrap();
    let (owner, _) = organization(&console);
    let files = tempfile::tempdir().unwrap();
    let plain = files.path().join("plain.txt");
    std::fs::write(&plain, b"x").unwrap();
    let escaping = files.path().join("evil\u{1b}]0;owned\u{7}.txt");
    std::fs::write(&escaping, b"x").unwrap();
    let draft = |title: &str, details: &str, attachment: &Path| InquiryDraft {
        kind: InquiryKind::General,
        detail_type: "Account".into(),
        project: None,
        title: title.into(),
        details: details.into(),
        private: false,
        attachment: Some(Attachment::from_file(attachment).unwrap()),
    };
    let refused = [
        draft("Title \u{1b}]52;c;aGk=\u{7}", "details", &plain),
        draft("Title", "line one\nline two", &plain),
        draft("Title", "bell\u{7}", &plain),
        draft("Title", "\u{9b}31m red", &plain),
        draft("Title", "hidden \u{202e}txt.exe", &plain),
        draft("Title", "details", &escaping),
    ];
    for d in &refused {
        match console.submit_inquiry(&owner, d) {
            Err(Error::Invalid(m)) => assert!(m.contains("control or invisible"), "{m}"),
            other => panic!("{d:?}: expected a refusal, got {other:?}"),
        }
    }
    assert!(
        console.list_inquiries(&owner).unwrap().is_empty(),
        "nothing was stored"
    );
    let accepted = console
        .submit_inquiry(&owner, &draft("Title", "웹 쇼핑몰 details", &plain))
        .unwrap();
    assert_eq!(accepted.attachment.unwrap().name, "plain.txt");
}

fn kc(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KC_CONSOLE_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--data-dir")
        .arg(dir)
        .args(["--user", OWNER])
        .env("KC_CONSOLE_PASSWORD", PASSWORD)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn an_over_long_argument_is_refused_before_the_data_directory_is_opened() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let long = "p".repeat(60_000);
    let out = kc(&dir, &["project", "create", "--name", &long, "--nickname", "N"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("60000 characters long; the limit is 4096"),
        "{stderr}"
    );
    assert!(stderr.len() < 200, "{stderr}");
    assert!(!dir.exists(), "nothing was created before the refusal");
}

/// No byte a terminal obeys: ESC, BEL, a C1 control (U+009B, CSI to some terminals), or a
/// carriage return.
fn assert_inert(what: &str, bytes: &[u8]) {
    for bad in [&[0x1b][..], &[0x07], &[0xc2, 0x9b], b"\r"] {
        assert!(
            !bytes.windows(bad.len()).any(|w| w == bad),
            "{what} carries {bad:02x?}: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn escapes_sent_through_the_model_are_printed_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let clipboard = "\u{1b}]52;c;aGVsbG8=\u{7}";
    let title = "\u{1b}]0;owned\u{7}";
    let forged = "x\n2026-01-01 09:00:00  owner@acme.example  password  project.create  evil  ok";
    let csi = "\u{9b}2J";
    {
        let console = Console::open(dir.path(), Config::default()).unwrap();
        let (owner, _) = organization(&console);
        for key_id in [clipboard, title, forged, csi] {
            let refused = console.delete_credential(&owner, KeyKind::Iam, key_id);
            assert!(refused.is_err(), "{key_id:?}");
        }
    }
    // The four refusals, and the sign-in of the listing itself.
    let out = kc(dir.path(), &["audit", "list", "--limit", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_inert("audit list", &out.stdout);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\\u{1b}]52;c;aGVsbG8=\\u{7}"), "{text}");
    assert!(text.contains("\\u{1b}]0;owned\\u{7}"), "{text}");
    assert!(text.contains("\\u{9b}2J"), "{text}");
    assert!(text.contains("x\\u{a}2026-01-01"), "{text}");
    // A header and one line per event (and the hint for older events): no forged line.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(!lines.iter().any(|l| l.starts_with("2026-01-01")), "{text}");

    let out = kc(dir.path(), &["--json", "audit", "list", "--limit", "6"]);
    assert!(out.status.success());
    assert_inert("audit list --json", &out.stdout);
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 6);

    // An error message quoting the input (no such project) is shown the same way.
    let out = kc(dir.path(), &["project", "edit", clipboard, "--nickname", "N"]);
    assert_eq!(out.status.code(), Some(5));
    assert_inert("an error message", &out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\\u{1b}]52;c;"),
        "{out:?}"
    );
    // And clap's own usage errors, which quote the argument they did not expect.
    let out = kc(dir.path(), &["project", "list", title]);
    assert_eq!(out.status.code(), Some(2));
    assert_inert("a usage error", &out.stderr);
}
