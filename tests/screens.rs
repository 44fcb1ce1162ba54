//! Screen tests for the interactive console: every screen and popup driven through the real key
//! handling (`Headless`), rendered to ratatui's `TestBackend` and snapshotted with insta at
//! 80×24 and 120×40; flow assertions on what the keys do; and a no-panic sweep over sizes.
//!
//! Everything is deterministic: a fixed clock, seeded entropy, the bundled demo organization,
//! and TZ=UTC (times are shown in the local time zone). One-time secrets are replaced by
//! `<secret>` before a frame is snapshotted, so no secret is ever committed.

use std::sync::{Arc, Once};

use chrono::{TimeZone, Utc};
use kc_console::console::{Config, Console, FixedClock, Limits, SeededEntropy};
use kc_console::tui::app::{App, Input};
use kc_console::tui::config::Settings;
use kc_console::tui::effects::session_for;
use kc_console::tui::frame;
use kc_console::tui::headless::Headless;
use kc_console::tui::msg::Msg;
use kc_console::tui::popups::Popup;
use kc_console::tui::screens::Screen;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tempfile::TempDir;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";
const DELETE_SA: &str = "Delete service account";

/// Times are rendered with `chrono::Local`; pin the zone so snapshots do not depend on the machine.
fn utc() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("TZ", "UTC"));
}

/// A data directory holding the demo organization, with a fixed clock and seeded entropy.
struct World {
    console: Console,
    _dir: TempDir,
}

impl World {
    fn new() -> World {
        utc();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = Config {
            clock: Arc::new(FixedClock::new(
                Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
            )),
            entropy: Arc::new(SeededEntropy::new(42)),
            limits: Limits::default(),
        };
        let console = Console::open(dir.path(), config).expect("the console opens");
        console.load_demo().expect("the demo organization loads");
        World { console, _dir: dir }
    }

    /// The console on its sign-in screen.
    fn signed_out(&self) -> Headless<'_> {
        Headless::new(&self.console, App::new(Settings::default(), ""))
    }

    /// The console signed in as `email` (no password: the session is built directly).
    fn signed_in(&self, email: &str) -> Headless<'_> {
        let mut h = self.signed_out();
        let user = self.console.user_by_email(email).expect("a demo user");
        let session = session_for(&self.console, Console::actor_for(&user), None).expect("a session");
        h.send(Msg::SignedIn(Ok(session)));
        assert!(h.app.session.is_some(), "signed in as {email}");
        h
    }

    fn sa_names(&self, project: &str) -> Vec<String> {
        let owner = Console::actor_for(&self.console.user_by_email(OWNER).unwrap());
        self.console
            .list_service_accounts(&owner, project)
            .unwrap()
            .into_iter()
            .map(|sa| sa.name)
            .collect()
    }
}

/// Opens a screen the way a user does: `:` command, Enter.
fn go(h: &mut Headless, command: &str) {
    h.keys(&[":"]);
    h.type_text(command);
    h.keys(&["Enter"]);
    assert_eq!(h.app.input, Input::None, ":{command} leaves the command line");
}

/// Moves the selection to the first row whose cells contain `needle`.
fn select(h: &mut Headless, needle: &str) {
    h.keys(&["g"]);
    for _ in 0..50 {
        let table = h.app.table(h.app.screen).expect("a loaded table");
        if table
            .selected_cells()
            .is_some_and(|r| r.iter().any(|c| c.contains(needle)))
        {
            return;
        }
        h.keys(&["j"]);
    }
    panic!("no row contains {needle:?}");
}

/// The one-time secret a reveal popup holds.
fn revealed_secret(h: &Headless) -> String {
    match &h.app.popup {
        Some(Popup::Reveal(reveal)) => reveal.one_time.secret.expose().to_string(),
        other => panic!("expected the one-time reveal popup, found {other:?}"),
    }
}

/// Snapshots the current state at 80×24 and 120×40, as `{name}_80x24` and `{name}_120x40`.
fn snap(h: &mut Headless, name: &str) {
    for (w, ht) in SIZES {
        let frame = h.render(w, ht);
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), frame);
    }
}

/// Like [`snap`], with `secret` checked to be on screen and then blanked out of the snapshot:
/// replaced by `<secret>`, padded to the secret's width so the popup's border stays aligned.
fn snap_redacted(h: &mut Headless, name: &str, secret: &str) {
    assert!(secret.is_ascii() && secret.len() >= "<secret>".len());
    let placeholder = format!("{:<width$}", "<secret>", width = secret.len());
    for (w, ht) in SIZES {
        let frame = h.render(w, ht);
        assert!(
            frame.contains(secret),
            "{name} at {w}x{ht} shows the secret in full:\n{frame}"
        );
        let redacted = frame.replace(secret, &placeholder);
        assert!(!redacted.contains(secret));
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), redacted);
    }
}

/// The header: the top rows, down to the one naming the current project.
fn header(h: &mut Headless) -> String {
    let frame = h.render(120, 40);
    let rows: Vec<&str> = frame.lines().take(3).collect();
    let end = rows
        .iter()
        .position(|r| r.contains("Current project"))
        .map_or(1, |i| i + 1);
    rows[..end].join("\n")
}

/// The footer's hints at 120×40.
fn footer(h: &mut Headless) -> String {
    h.render(120, 40);
    h.footer_hints(120).join("  ")
}

// ───────────────────────────── sign-in ─────────────────────────────

#[test]
fn sign_in_screens() {
    let world = World::new();
    let mut h = world.signed_out();
    snap(&mut h, "signin_empty");

    h.type_text(OWNER);
    h.keys(&["Tab"]);
    h.type_text("owner-demo-pw");
    let frame = h.render(80, 24);
    assert!(
        !frame.contains("owner-demo-pw"),
        "the password is masked:\n{frame}"
    );
    assert!(frame.contains(&"•".repeat("owner-demo-pw".len())), "{frame}");
    snap(&mut h, "signin_typed");

    for _ in 0.."owner-demo-pw".len() {
        h.keys(&["BSpace"]);
    }
    h.type_text("not-my-password");
    h.keys(&["Enter"]);
    assert!(h.app.session.is_none(), "a wrong password does not sign in");
    assert_eq!(
        h.app.signin.value("Password"),
        "",
        "the wrong password is cleared"
    );
    snap(&mut h, "signin_wrong_password");

    h.type_text("owner-demo-pw");
    h.keys(&["Enter"]);
    assert!(h.app.session.is_some(), "the right password signs in");
    assert_eq!(h.app.screen, Screen::Dashboard);
}

// ───────────────────────────── screens ─────────────────────────────

#[test]
fn menu_screens() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    snap(&mut h, "dashboard");
    for (command, name) in [
        ("projects", "projects"),
        ("users", "users"),
        ("members", "members"),
        ("sa", "service_accounts"),
        ("agents", "service_agents"),
        ("services", "services"),
        ("payment", "payment_methods"),
        ("helpdesk", "helpdesk"),
        ("audit", "audit_log"),
    ] {
        go(&mut h, command);
        let table = h.app.table(h.app.screen).expect("the screen loaded");
        assert!(
            table.error().is_none(),
            ":{command} loads without error: {:?}",
            table.error()
        );
        assert!(!table.loading(), ":{command} finished loading");
        snap(&mut h, name);
    }
}

#[test]
fn korean_project_row() {
    let world = World::new();
    let owner = Console::actor_for(&world.console.user_by_email(OWNER).unwrap());
    world
        .console
        .create_project(
            &owner,
            "hangul-app",
            "한글 앱 프로젝트",
            "한국어 설명이 들어간 프로젝트",
        )
        .expect("the owner creates a project");
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    select(&mut h, "hangul-app");
    let frame = h.render(120, 40);
    assert!(frame.contains("한글 앱 프로젝트"), "{frame}");
    snap(&mut h, "projects_korean");
}

// ───────────────────────────── popups ─────────────────────────────

#[test]
fn project_popups() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");

    h.keys(&["c"]);
    h.type_text("new-shop");
    h.keys(&["Tab"]);
    h.type_text("새 프로젝트");
    h.keys(&["Tab"]);
    h.type_text("설명");
    let frame = h.render(80, 24);
    assert!(
        frame.contains("6/30"),
        "the nickname counter counts characters, not bytes:\n{frame}"
    );
    assert!(frame.contains("8/30"), "the name counter:\n{frame}");
    snap(&mut h, "create_project_korean");
    h.keys(&["Esc"]);

    h.keys(&["c"]);
    h.type_text("Bad_Name");
    h.keys(&["Enter"]);
    assert!(
        matches!(h.app.popup, Some(Popup::Form(_))),
        "an invalid form stays open"
    );
    let frame = h.render(120, 40);
    assert!(frame.contains("✗"), "the inline error is shown:\n{frame}");
    snap(&mut h, "create_project_invalid");
    h.keys(&["Esc"]);

    select(&mut h, "data-lake");
    h.keys(&["e"]);
    snap(&mut h, "edit_project");
    h.keys(&["Esc"]);

    select(&mut h, "web-shop");
    h.keys(&["d"]);
    match &h.app.popup {
        Some(Popup::Form(form)) => {
            assert_eq!(form.value("Inquiry type"), "Technical");
            assert_eq!(form.value("Detailed type"), "Service › Project deletion");
            assert_eq!(form.value("Project name"), "web-shop");
        }
        other => panic!("request deletion opens the Help Desk form, found {other:?}"),
    }
    snap(&mut h, "request_deletion");
    h.keys(&["Esc"]);

    h.keys(&["/"]);
    h.type_text("data");
    snap(&mut h, "projects_filter");
}

#[test]
fn user_popups_and_reveal() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "users");
    h.keys(&["c"]);
    snap(&mut h, "add_user_empty");
    h.type_text("newbie@pangyo.example");
    h.keys(&["Tab"]);
    h.type_text("신입 사원 Newbie");
    h.keys(&["Tab", "Right"]);
    snap(&mut h, "add_user_filled");
    h.keys(&["Enter"]);
    let secret = revealed_secret(&h);
    assert!(secret.len() >= 16, "a generated password");
    snap_redacted(&mut h, "add_user_reveal", &secret);
    h.keys(&["Space"]);
    snap_redacted(&mut h, "add_user_reveal_saved", &secret);
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none());
    let frame = h.render(120, 40);
    assert!(!frame.contains(&secret));
    snap(&mut h, "users_after_add");

    select(&mut h, "guest@pangyo.example");
    h.keys(&["d"]);
    snap(&mut h, "confirm_remove_user");
}

#[test]
fn member_and_service_popups() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "members");
    select(&mut h, DEV);
    h.keys(&["d"]);
    assert!(matches!(h.app.popup, Some(Popup::Confirm(_))));
    snap(&mut h, "confirm_remove_member");
    h.keys(&["Esc"]);
    h.keys(&["c"]);
    snap(&mut h, "add_member");
    h.keys(&["Esc"]);
    h.keys(&["e"]);
    snap(&mut h, "change_member_role");
    h.keys(&["Esc"]);

    go(&mut h, "services");
    select(&mut h, "data-query");
    h.keys(&["Enter"]);
    snap(&mut h, "confirm_start_service");
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none());
    snap(&mut h, "services_after_start");

    go(&mut h, "payment");
    h.keys(&["c"]);
    h.type_text("Mastercard");
    h.keys(&["Tab"]);
    h.type_text("5555");
    h.keys(&["Tab"]);
    h.type_text("12/29");
    snap(&mut h, "add_payment_method");
    h.keys(&["Esc"]);

    go(&mut h, "helpdesk");
    h.keys(&["c"]);
    h.keys(&["Right", "Tab"]);
    h.type_text("Quota");
    h.keys(&["Tab", "Tab"]);
    h.type_text("노드 한도 증설 요청");
    snap(&mut h, "submit_inquiry");
}

#[test]
fn service_account_popups() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    h.keys(&["c"]);
    snap(&mut h, "create_sa_empty");
    h.type_text("my-bot");
    let project_id = h.app.session.as_ref().unwrap().project_id().unwrap();
    let frame = h.render(120, 40);
    assert!(
        frame.contains(&format!("my-bot-{project_id}@kc.serviceaccount.com")),
        "the generated ID is previewed live:\n{frame}"
    );
    snap(&mut h, "create_sa_preview");
    h.keys(&["Esc"]);

    select(&mut h, "batch-sync");
    h.keys(&["s"]);
    snap(&mut h, "sa_settings");
    h.keys(&["Esc"]);

    select(&mut h, "deploy-bot");
    h.keys(&["d"]);
    snap(&mut h, "delete_sa_empty");
    h.type_text("Delete serv");
    assert!(matches!(&h.app.popup, Some(Popup::TypedConfirm(d)) if !d.matches()));
    snap(&mut h, "delete_sa_partial");
    h.type_text("ice account");
    assert!(matches!(&h.app.popup, Some(Popup::TypedConfirm(d)) if d.matches() && d.typed() == DELETE_SA));
    snap(&mut h, "delete_sa_exact");
}

#[test]
fn global_popups_and_inputs() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    h.keys(&["?"]);
    snap(&mut h, "help");
    // The help is searchable: `/` keeps only what matches.
    h.keys(&["/"]);
    h.type_text("who may");
    h.keys(&["Enter"]);
    let frame = h.render(120, 40);
    assert!(
        frame.contains("Who may do what") && !frame.contains("move down"),
        "help shows the permission matrix:\n{frame}"
    );
    snap(&mut h, "help_search");
    h.keys(&["Esc"]);
    assert!(h.app.popup.is_some(), "the first Esc clears the search");
    h.keys(&["j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j"]);
    snap(&mut h, "help_scrolled");
    h.keys(&["Esc"]);
    assert!(h.app.popup.is_none());

    h.keys(&["p"]);
    snap(&mut h, "switcher");
    h.type_text("la");
    snap(&mut h, "switcher_filtered");
    h.keys(&["Esc"]);

    h.keys(&[":"]);
    h.type_text("pro");
    snap(&mut h, "command_line_partial");
    h.keys(&["Esc"]);

    h.keys(&["/"]);
    h.type_text("머신");
    snap(&mut h, "filter_korean");
}

#[test]
fn refusal_flash() {
    let world = World::new();
    let mut h = world.signed_in(DEV);
    go(&mut h, "projects");
    h.keys(&["c"]);
    assert!(h.app.popup.is_none(), "a Project Member gets no create form");
    let flash = h.app.flash.as_ref().expect("a refusal message").text.clone();
    assert!(flash.contains("Org Admin"), "{flash}");
    snap(&mut h, "refusal_flash");
}

#[test]
fn too_small() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    for (w, ht) in [(40, 10), (59, 24), (80, 15)] {
        let frame = h.render(w, ht);
        assert!(frame.contains("Terminal too small"), "{w}x{ht}:\n{frame}");
        insta::assert_snapshot!(format!("too_small_{w}x{ht}"), frame);
    }
    let frame = h.render(60, 16);
    assert!(!frame.contains("Terminal too small"), "60x16 is enough:\n{frame}");
    insta::assert_snapshot!("minimum_60x16", frame);
}

// ───────────────────────────── flows ─────────────────────────────

#[test]
fn esc_closes_popups() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let cases: &[(&str, &[&str])] = &[
        ("projects", &["c"]),
        ("projects", &["e"]),
        ("projects", &["d"]),
        ("users", &["c"]),
        ("users", &["d"]),
        ("members", &["c"]),
        ("members", &["e"]),
        ("members", &["d"]),
        ("sa", &["c"]),
        ("sa", &["s"]),
        ("sa", &["d"]),
        ("services", &["j", "Enter"]),
        ("payment", &["c"]),
        ("helpdesk", &["c"]),
        ("dashboard", &["?"]),
        ("audit", &["p"]),
    ];
    for (screen, keys) in cases {
        go(&mut h, screen);
        h.keys(keys);
        assert!(h.app.popup.is_some(), ":{screen} {keys:?} opens a popup");
        h.keys(&["Esc"]);
        assert!(
            h.app.popup.is_none(),
            "Esc closes the popup of :{screen} {keys:?}"
        );
        let frame = h.render(80, 24);
        assert!(
            !frame.contains("Esc cancel") && !frame.contains("Esc to close"),
            "{frame}"
        );
    }
    // Nothing was changed by all that opening and closing.
    assert_eq!(world.sa_names("web-shop"), ["batch-sync", "deploy-bot"]);
}

#[test]
fn reveal_closes_only_when_saved_and_never_shows_again() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "users");
    h.keys(&["c"]);
    h.type_text("newbie@pangyo.example");
    h.keys(&["Tab"]);
    h.type_text("Newbie");
    h.keys(&["Enter"]);
    let secret = revealed_secret(&h);
    assert!(h.render(120, 40).contains(&secret));

    h.keys(&["Enter"]);
    assert!(
        matches!(h.app.popup, Some(Popup::Reveal(_))),
        "Enter before Space does not close"
    );
    let frame = h.render(120, 40);
    assert!(frame.contains("Press Space"), "it says why:\n{frame}");
    h.keys(&["Esc"]);
    assert!(matches!(h.app.popup, Some(Popup::Reveal(_))), "nor does Esc");
    h.keys(&["Space", "Space"]);
    h.keys(&["Enter"]);
    assert!(
        matches!(h.app.popup, Some(Popup::Reveal(_))),
        "Space twice unticks the box"
    );

    h.keys(&["s"]);
    assert_eq!(h.copied, std::slice::from_ref(&secret), "s copies the secret");
    h.keys(&["Space", "Enter"]);
    assert!(h.app.popup.is_none(), "Space then Enter closes");

    // The secret shows in no later frame, wherever the user goes.
    let mut frames = Vec::new();
    for (w, ht) in [(80, 24), (120, 40), (200, 60)] {
        frames.push(h.render(w, ht));
    }
    for command in ["users", "audit", "dashboard", "projects", "helpdesk"] {
        go(&mut h, command);
        frames.push(h.render(120, 40));
        h.keys(&["?"]);
        frames.push(h.render(120, 40));
        h.keys(&["Esc"]);
    }
    go(&mut h, "users");
    h.keys(&["/"]);
    h.type_text("newbie");
    frames.push(h.render(120, 40));
    for frame in &frames {
        assert!(
            !frame.contains(&secret),
            "the initial password reappeared:\n{frame}"
        );
    }
    assert!(
        frames.iter().any(|f| f.contains("newbie@pangyo.example")),
        "the user was added"
    );
    // The new user can sign in with it.
    world
        .console
        .sign_in("newbie@pangyo.example", &secret)
        .expect("the initial password works");
}

#[test]
fn typed_confirmation_requires_the_exact_phrase() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    for wrong in [
        "",
        "Delete",
        "Delete service",
        "Delete service account ",
        " Delete service account",
        "delete service account",
        "DELETE SERVICE ACCOUNT",
        "Delete Service Account",
        "Delete service accounts",
        "Remove service account",
    ] {
        select(&mut h, "deploy-bot");
        h.keys(&["d"]);
        h.type_text(wrong);
        h.keys(&["Enter"]);
        assert!(
            matches!(h.app.popup, Some(Popup::TypedConfirm(_))),
            "Enter with {wrong:?} does not run the deletion"
        );
        match &h.app.popup {
            Some(Popup::TypedConfirm(dialog)) => assert!(!dialog.matches(), "{wrong:?} does not match"),
            other => panic!("the dialog stays open, found {other:?}"),
        }
        let frame = h.render(120, 40);
        assert!(
            frame.contains("[Enter] Delete (type the phrase exactly)"),
            "not enabled for {wrong:?}:\n{frame}"
        );
        h.keys(&["Esc"]);
        assert!(h.app.popup.is_none());
        assert_eq!(
            world.sa_names("web-shop"),
            ["batch-sync", "deploy-bot"],
            "after {wrong:?}"
        );
        go(&mut h, "sa");
        assert!(
            h.render(120, 40).contains("deploy-bot"),
            "still listed after {wrong:?}"
        );
    }

    // Backspace fixes a typo; the exact phrase deletes.
    select(&mut h, "deploy-bot");
    h.keys(&["d"]);
    h.type_text(&format!("{DELETE_SA}x"));
    h.keys(&["Enter"]);
    assert!(matches!(h.app.popup, Some(Popup::TypedConfirm(_))));
    h.keys(&["BSpace", "Enter"]);
    assert!(h.app.popup.is_none(), "the exact phrase runs the deletion");
    assert_eq!(world.sa_names("web-shop"), ["batch-sync"]);
    let frame = h.render(120, 40);
    assert!(!frame.contains("deploy-bot-"), "no longer listed:\n{frame}");
    assert!(frame.contains("Deleted service account deploy-bot"), "{frame}");
}

#[test]
fn project_reader_sees_no_service_accounts() {
    let world = World::new();
    let mut h = world.signed_in(VIEWER);
    assert!(
        header(&mut h).contains("웹 쇼핑몰"),
        "the reader starts in web-shop"
    );
    go(&mut h, "sa");
    assert_eq!(h.app.screen, Screen::ServiceAccounts);
    // The model would refuse; the console does not ask, and says why where the list would be.
    let viewer = Console::actor_for(&world.console.user_by_email(VIEWER).unwrap());
    assert!(world.console.list_service_accounts(&viewer, "web-shop").is_err());
    assert!(h.app.table(Screen::ServiceAccounts).is_some_and(|t| t.is_empty()));
    let wide = h.render(250, 40);
    assert!(
        wide.contains("Not available: Service Account")
            && wide.contains("Viewing service accounts requires Org Admin or Org Reader or Project Admin; you are Project Reader"),
        "the reason is on screen:\n{wide}"
    );
    let foot = footer(&mut h);
    assert!(
        !foot.contains(" c "),
        "no create offered to a Project Reader: {foot}"
    );
    assert!(h.app.offered(kc_console::tui::keymap::Action::Create).is_none());
    h.keys(&["c"]);
    assert!(h.app.popup.is_none(), "c opens nothing");
    snap(&mut h, "sa_refused_reader");

    // Whereas the Project Admin is offered it.
    let mut admin = world.signed_in(ADMIN);
    go(&mut admin, "sa");
    assert!(
        footer(&mut admin).contains("c Create service account"),
        "{}",
        footer(&mut admin)
    );
}

#[test]
fn filter_narrows_and_esc_clears() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    let all = h.app.table(Screen::Projects).unwrap().shown();
    assert_eq!(all, 3);
    h.keys(&["/"]);
    h.type_text("lake");
    assert!(matches!(h.app.input, Input::Filter(_)));
    let frame = h.render(120, 40);
    assert_eq!(h.app.table(Screen::Projects).unwrap().shown(), 1);
    assert!(
        frame.contains("data-lake") && !frame.contains("web-shop  ") && !frame.contains("ml-lab"),
        "{frame}"
    );
    assert!(frame.contains("1 of 3 rows match /lake"), "{frame}");
    h.keys(&["Esc"]);
    assert_eq!(h.app.input, Input::None);
    assert_eq!(h.app.table(Screen::Projects).unwrap().shown(), all);
    let frame = h.render(120, 40);
    assert!(frame.contains("ml-lab") && frame.contains("(3 rows)"), "{frame}");

    // Enter keeps the filter; Esc (back) then clears it without leaving the screen.
    h.keys(&["/"]);
    h.type_text("ml");
    h.keys(&["Enter"]);
    assert_eq!(h.app.table(Screen::Projects).unwrap().shown(), 1);
    h.keys(&["Esc"]);
    assert_eq!(h.app.screen, Screen::Projects);
    assert_eq!(h.app.table(Screen::Projects).unwrap().shown(), all);

    // A filter nothing matches says so.
    h.keys(&["/"]);
    h.type_text("zzz");
    assert!(h.render(80, 24).contains("no rows match"));
}

#[test]
fn command_line_switches_project() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    assert!(header(&mut h).contains("웹 쇼핑몰"), "{}", header(&mut h));
    go(&mut h, "project data-lake");
    let lake = world.console.find_project("data-lake").unwrap();
    let head = header(&mut h);
    assert!(head.contains("Data Lake") && head.contains(&lake.id), "{head}");
    assert_eq!(
        h.app.session.as_ref().unwrap().project_id(),
        Some(lake.id.clone())
    );
    go(&mut h, "members");
    let table = h.app.table(Screen::Members).unwrap();
    let members: Vec<String> = (0..table.shown()).map(|i| table.key_at(i).to_string()).collect();
    assert!(
        members.contains(&ADMIN.to_string()) && members.contains(&DEV.to_string()),
        "{members:?}"
    );
    assert!(
        !members.contains(&VIEWER.to_string()),
        "web-shop's reader is not in data-lake: {members:?}"
    );
    assert!(
        h.render(120, 40).contains("Project Reader"),
        "dev is a reader in data-lake"
    );

    // An unknown project is refused and nothing changes.
    go(&mut h, "project nope");
    assert!(header(&mut h).contains("Data Lake"));
    assert!(h.app.flash.as_ref().unwrap().text.contains("nope"));

    // Tab completes a command.
    h.keys(&[":"]);
    h.type_text("aud");
    h.keys(&["Tab", "Enter"]);
    assert_eq!(h.app.screen, Screen::Audit);
}

#[test]
fn switcher_enter_switches_project() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    h.keys(&["p"]);
    h.type_text("ml");
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none());
    let ml = world.console.find_project("ml-lab").unwrap();
    let head = header(&mut h);
    assert!(
        head.contains("머신러닝 실험실") && head.contains(&ml.id),
        "{head}"
    );

    // Arrow keys pick in the unfiltered list.
    h.keys(&["p", "Down", "Enter"]);
    let session = h.app.session.as_ref().unwrap();
    let second = session.projects[1].project.clone();
    assert_eq!(session.project_id().as_deref(), Some(second.id.as_str()));
    assert!(header(&mut h).contains(&second.nickname));
}

// ───────────────────────────── no-panic sweep ─────────────────────────────
//
// Every screen, and each kind of popup and text input, drawn at every width 1..=120 with a few
// heights and every height 1..=40 with a few widths. Drawing one frame costs about 2 ms in a
// debug build, so the full set (about 1,500 sizes) is used once per screen and once per popup
// kind; every other popup on every screen gets the sizes around the layout's edges (1, the
// minimum 60×16 and either side of it, 80×24, 120×40).

/// Every width with a few heights, and every height with a few widths, 1×1 to 120×40.
fn full_sizes() -> Vec<(u16, u16)> {
    let mut sizes = Vec::new();
    for w in 1..=120 {
        for ht in [1, 2, 3, 5, 10, 15, 16, 23, 24, 40] {
            sizes.push((w, ht));
        }
    }
    for ht in 1..=40 {
        for w in [1, 2, 10, 59, 60, 79, 80, 120] {
            sizes.push((w, ht));
        }
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The sizes where the layout changes: tiny, around the 60×16 minimum, 80×24, 120×40.
fn edge_sizes() -> Vec<(u16, u16)> {
    let mut sizes = Vec::new();
    for w in [1, 2, 10, 59, 60, 61, 64, 66, 70, 72, 76, 79, 80, 120] {
        for ht in [1, 2, 15, 16, 17, 18, 20, 23, 24, 40] {
            sizes.push((w, ht));
        }
    }
    sizes
}

/// Draws the current state at each size; a panic fails the test with the state and size named.
///
/// The frame is drawn into the terminal's buffer with `view::draw`, exactly as the live loop
/// does, but not flushed to the test backend: panics come from drawing, and skipping the
/// cell-by-cell copy saves time in a debug build.
fn sweep(h: &mut Headless, what: &str, sizes: &[(u16, u16)]) {
    let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
    for &(w, ht) in sizes {
        h.send(Msg::Resize(w, ht));
        terminal.backend_mut().resize(w, ht);
        terminal.autoresize().unwrap();
        terminal.current_buffer_mut().reset();
        let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut frame = terminal.get_frame();
            frame::draw(&h.app, &mut frame);
            frame.area()
        }));
        match drawn {
            Ok(area) => assert_eq!(
                (area.width, area.height),
                (w, ht),
                "{what}: the frame follows the size"
            ),
            Err(_) => panic!("{what} at {w}x{ht}: draw panicked"),
        }
    }
}

/// Popups that can be opened on a screen, as the keys that open them (after selecting a row).
fn screen_popups(screen: Screen) -> &'static [&'static [&'static str]] {
    match screen {
        Screen::Projects => &[&["c"], &["e"], &["d"]],
        Screen::Users => &[&["c"], &["d"]],
        Screen::Members => &[&["c"], &["e"], &["d"]],
        Screen::ServiceAccounts => &[&["c"], &["s"], &["d"]],
        Screen::Services => &[&["j", "Enter"]],
        Screen::Payments => &[&["c"]],
        Screen::HelpDesk => &[&["c"]],
        _ => &[],
    }
}

#[test]
fn sweep_every_screen() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let (full, edges) = (full_sizes(), edge_sizes());
    for screen in Screen::MENU {
        go(&mut h, screen.command());
        assert_eq!(h.app.screen, screen);
        sweep(&mut h, screen.title(), &full);
        if h.app.popup.is_some() {
            // A screen that opens with a popup (Credentials' password gate): close it first.
            h.keys(&["Esc"]);
            assert!(
                h.app.popup.is_none(),
                "{}: Esc closes its opening popup",
                screen.title()
            );
            sweep(&mut h, &format!("{} behind its gate", screen.title()), &full);
        }
        let popups: Vec<&[&str]> = [&["?"][..], &["p"][..]]
            .into_iter()
            .chain(screen_popups(screen).iter().copied())
            .collect();
        for keys in popups {
            h.keys(keys);
            let what = format!("{} {keys:?}", screen.title());
            assert!(h.app.popup.is_some(), "{what} opens a popup");
            sweep(&mut h, &what, &edges);
            h.keys(&["Esc"]);
            assert!(h.app.popup.is_none(), "{what}: Esc closes");
        }
    }
}

#[test]
fn sweep_each_popup_kind() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let full = full_sizes();
    go(&mut h, "projects");

    // Form: errors shown inline, a long Korean value that scrolls, the intro lines.
    h.keys(&["c"]);
    h.type_text("Bad_Name");
    h.keys(&["Tab"]);
    h.type_text("아주 긴 한국어 별명을 입력해서 줄 바꿈을 시험합니다 정말로 깁니다");
    h.keys(&["Enter"]);
    assert!(matches!(h.app.popup, Some(Popup::Form(_))));
    sweep(&mut h, "create project form with errors", &full);
    h.keys(&["Esc", "d"]);
    sweep(&mut h, "request deletion form", &full);
    h.keys(&["Esc"]);

    // Help, scrolled, and the switcher with a filter that matches nothing.
    h.keys(&["?", "j", "j", "j"]);
    sweep(&mut h, "help", &full);
    h.keys(&["Esc", "p"]);
    h.type_text("없는");
    sweep(&mut h, "switcher without matches", &full);
    h.keys(&["Esc"]);

    // Text input in the status line.
    h.keys(&["/"]);
    h.type_text("웹");
    sweep(&mut h, "filter", &full);
    h.keys(&["Esc", ":"]);
    h.type_text("pro");
    sweep(&mut h, "command line", &full);
    h.keys(&["Esc"]);

    // Confirm, typed confirm, and the service-account form with its live ID preview.
    go(&mut h, "members");
    h.keys(&["d"]);
    assert!(matches!(h.app.popup, Some(Popup::Confirm(_))));
    sweep(&mut h, "confirm", &full);
    h.keys(&["Esc"]);
    go(&mut h, "sa");
    h.keys(&["d"]);
    h.type_text("Delete serv");
    assert!(matches!(h.app.popup, Some(Popup::TypedConfirm(_))));
    sweep(&mut h, "typed confirm", &full);
    h.keys(&["Esc", "c"]);
    h.type_text("a-rather-long-service-account-name");
    sweep(&mut h, "service account form", &full);
    h.keys(&["Esc"]);

    // The viewers (a row's details, the message log), a notice, the palette with a match
    // list, and a screen without the sidebar.
    h.keys(&["i"]);
    assert!(matches!(h.app.popup, Some(Popup::Viewer(_))));
    sweep(&mut h, "detail view", &full);
    h.keys(&["Esc", "m"]);
    sweep(&mut h, "message log", &full);
    h.keys(&["Esc"]);
    h.app.popup = Some(Popup::Notice(kc_console::tui::popups::Notice {
        title: "Changed elsewhere".into(),
        lines: vec!["deploy-bot was deleted by someone with a rather long email address while this dialog was open; nothing was done.".into()],
    }));
    sweep(&mut h, "notice", &full);
    h.keys(&["Esc", ":"]);
    h.type_text("project ");
    h.keys(&["Tab"]);
    sweep(&mut h, "palette", &full);
    h.keys(&["Esc", "b"]);
    sweep(&mut h, "the other sidebar setting", &full);
}

/// Screens reached from others rather than from the menu: Credentials once the password is
/// verified (both tabs), and a service account's detail page — with their create forms.
#[test]
fn sweep_inner_screens() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let (full, edges) = (full_sizes(), edge_sizes());
    go(&mut h, "credentials");
    assert!(
        matches!(h.app.popup, Some(Popup::Form(_))),
        "Credentials asks for the password first"
    );
    h.type_text("owner-demo-pw");
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none(), "the right password opens Credentials");
    for tab in ["IAM access key", "S3 access key"] {
        sweep(&mut h, &format!("Credentials, {tab} tab"), &full);
        h.keys(&["c"]);
        assert!(h.app.popup.is_some(), "{tab}: c opens the create form");
        sweep(&mut h, &format!("Credentials, {tab} create form"), &edges);
        h.keys(&["Esc", "Tab"]);
    }

    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["Enter"]);
    assert_ne!(
        h.app.screen,
        Screen::ServiceAccounts,
        "Enter opens the service account's page"
    );
    sweep(&mut h, "service account detail", &full);
    h.keys(&["c"]);
    assert!(h.app.popup.is_some(), "c opens the key form");
    sweep(&mut h, "service account key form", &edges);
}

#[test]
fn sweep_reveal_and_sign_in() {
    let world = World::new();
    let full = full_sizes();
    let mut h = world.signed_out();
    sweep(&mut h, "sign-in", &full);
    h.type_text("someone@pangyo.example");
    h.keys(&["Tab"]);
    h.type_text("wrong-password");
    h.keys(&["Enter"]);
    assert!(h.app.signin.error.is_some());
    sweep(&mut h, "sign-in error", &full);

    let mut h = world.signed_in(OWNER);
    go(&mut h, "users");
    h.keys(&["c"]);
    h.type_text("sweep@pangyo.example");
    h.keys(&["Tab"]);
    h.type_text("스윕 사용자");
    h.keys(&["Enter"]);
    assert!(matches!(h.app.popup, Some(Popup::Reveal(_))));
    h.keys(&["s"]);
    sweep(&mut h, "reveal with its copy note", &full);
    h.keys(&["Space", "Enter"]);
    assert!(h.app.popup.is_none());
    h.keys(&["q"]);
    assert!(h.app.quit, "q quits when no popup is open");
}
