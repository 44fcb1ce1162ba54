//! The console's everyday work, driven headless through the real key handling (`Headless`):
//! text fields that edit like a shell line, the config file, detail views, sorting, the message
//! log, the palette, the mouse, Ctrl-C over a secret, roles on screen, signing out, the live
//! change feed, and nothing raw from outside ever drawn. Snapshots at 80×24 and 120×40 (insta);
//! deterministic: fixed clock, seeded entropy, the demo organization, TZ=UTC.

use std::sync::{Arc, Once};

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kc_console::console::audit::layout;
use kc_console::console::{AuditEvent, Change, Config, Console, FixedClock, Limits, SeededEntropy};
use kc_console::store::{sequence_key, Table};
use kc_console::tui::app::{App, Input, Level};
use kc_console::tui::config::{self, Settings};
use kc_console::tui::effects::session_for;
use kc_console::tui::headless::Headless;
use kc_console::tui::msg::{Effect, Msg};
use kc_console::tui::popups::{Popup, ViewerKind};
use kc_console::tui::screens::Screen;
use kc_console::tui::widgets::form::{Form, Input as FieldInput};
use ratatui::layout::Rect;
use tempfile::TempDir;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";

fn utc() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("TZ", "UTC"));
}

struct World {
    console: Console,
    clock: Arc<FixedClock>,
    dir: TempDir,
}

impl World {
    fn new() -> World {
        utc();
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
        ));
        let console = Console::open(
            dir.path(),
            Config {
                clock: clock.clone(),
                entropy: Arc::new(SeededEntropy::new(42)),
                limits: Limits::default(),
            },
        )
        .unwrap();
        console.load_demo().unwrap();
        World { console, clock, dir }
    }

    fn app(&self, settings: Settings) -> App {
        App::new(settings, "").with_clock(self.clock.clone())
    }

    fn signed_in_with(&self, email: &str, settings: Settings) -> Headless<'_> {
        let mut h = Headless::new(&self.console, self.app(settings));
        let user = self.console.user_by_email(email).unwrap();
        let session = session_for(&self.console, Console::actor_for(&user), None).unwrap();
        h.send(Msg::SignedIn(Ok(session)));
        h
    }

    fn signed_in(&self, email: &str) -> Headless<'_> {
        self.signed_in_with(email, Settings::default())
    }

    fn actor(&self, email: &str) -> kc_console::console::Actor {
        Console::actor_for(&self.console.user_by_email(email).unwrap())
    }
}

fn go(h: &mut Headless, command: &str) {
    h.keys(&[":"]);
    h.type_text(command);
    h.keys(&["Enter"]);
    assert_eq!(h.app.input, Input::None, ":{command} closes the command line");
}

fn select(h: &mut Headless, needle: &str) {
    h.keys(&["g"]);
    for _ in 0..50 {
        if h.app
            .table(h.app.screen)
            .and_then(|t| t.selected_cells())
            .is_some_and(|r| r.iter().any(|c| c.contains(needle)))
        {
            return;
        }
        h.keys(&["j"]);
    }
    panic!("no row contains {needle:?}");
}

fn selected_key(h: &Headless) -> Option<String> {
    h.app
        .table(h.app.screen)
        .and_then(|t| t.selected_key())
        .map(str::to_string)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn alt(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)
}

fn snap(h: &mut Headless, name: &str) {
    for (w, ht) in SIZES {
        let frame = h.render(w, ht);
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), frame);
    }
}

/// The open form; any other popup, or none, fails the test.
fn open_form<'a>(h: &'a Headless) -> &'a Form {
    match &h.app.popup {
        Some(Popup::Form(form)) => form,
        other => panic!("expected a form, found {other:?}"),
    }
}

/// The focused text field of the open form: its value and cursor.
fn form_field(h: &Headless) -> (String, usize) {
    let form = open_form(h);
    match &form.fields[form.focus].input {
        FieldInput::Text(field) => (field.value().to_string(), field.cursor()),
        other => panic!("the focused field is not text: {other:?}"),
    }
}

// ───────────────────────────── text fields ─────────────────────────────

#[test]
fn form_fields_edit_like_a_shell_line() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    h.keys(&["c"]);
    h.type_text("new shop app");
    assert_eq!(form_field(&h), ("new shop app".into(), 12));
    h.keys(&["Left", "Left", "Left"]);
    h.type_text("X");
    assert_eq!(
        form_field(&h),
        ("new shop Xapp".into(), 10),
        "Left moves, typing inserts"
    );
    h.keys(&["Home"]);
    h.type_text("A");
    assert_eq!(form_field(&h), ("Anew shop Xapp".into(), 1), "Home");
    h.keys(&["End"]);
    assert_eq!(form_field(&h).1, 14, "End");
    h.press(ctrl('a'));
    assert_eq!(form_field(&h).1, 0, "C-a");
    h.keys(&["Del"]);
    assert_eq!(
        form_field(&h),
        ("new shop Xapp".into(), 0),
        "Delete removes under the cursor"
    );
    h.press(ctrl('e'));
    assert_eq!(form_field(&h).1, 13, "C-e");
    h.press(ctrl('w'));
    assert_eq!(
        form_field(&h),
        ("new shop ".into(), 9),
        "C-w deletes the word before"
    );
    h.press(alt('b'));
    assert_eq!(form_field(&h).1, 4, "M-b moves a word back");
    h.keys(&["C-Left"]);
    assert_eq!(form_field(&h).1, 0, "C-← moves a word back");
    h.press(alt('f'));
    assert_eq!(form_field(&h).1, 4, "M-f moves a word on");
    h.press(ctrl('k'));
    assert_eq!(form_field(&h), ("new ".into(), 4), "C-k deletes to the end");
    h.press(ctrl('y'));
    assert_eq!(
        form_field(&h),
        ("new shop ".into(), 9),
        "C-y puts back what was deleted"
    );
    h.press(ctrl('u'));
    assert_eq!(form_field(&h), (String::new(), 0), "C-u deletes the line");
    h.type_text("ab");
    h.keys(&["BSpace"]);
    assert_eq!(form_field(&h), ("a".into(), 1), "Backspace");
    // Letters that are keys elsewhere are text here.
    h.type_text("qjkdcs?/:");
    assert_eq!(form_field(&h).0, "aqjkdcs?/:");
    assert!(h.app.popup.is_some() && !h.app.quit);
}

#[test]
fn the_other_text_fields_edit_the_same_way() {
    let world = World::new();
    // The sign-in fields; the password stays masked.
    let mut h = Headless::new(&world.console, world.app(Settings::default()));
    h.type_text("owner@pangyo.exampl");
    h.keys(&["Left"]);
    h.type_text("X");
    assert_eq!(h.app.signin.value("Email"), "owner@pangyo.exampXl");
    h.keys(&["BSpace", "End"]);
    h.type_text("e");
    h.keys(&["Tab"]);
    h.type_text("some wrong words");
    h.press(ctrl('w'));
    h.press(ctrl('u'));
    h.type_text("owner-demo-pw");
    let frame = h.render(80, 24);
    assert!(
        !frame.contains("owner-demo-pw") && frame.contains("•••••••••••••"),
        "{frame}"
    );
    h.keys(&["Enter"]);
    assert!(h.app.session.is_some(), "signed in with the edited fields");

    // The filter.
    go(&mut h, "projects");
    h.keys(&["/"]);
    h.type_text("lake");
    h.keys(&["Home"]);
    h.type_text("data-");
    assert_eq!(h.app.table(Screen::Projects).unwrap().filter(), "data-lake");
    h.press(ctrl('u'));
    assert_eq!(h.app.table(Screen::Projects).unwrap().filter(), "");
    h.keys(&["Esc"]);

    // The `:` line.
    h.keys(&[":"]);
    h.type_text("audi");
    h.keys(&["Left"]);
    h.keys(&["Del"]);
    h.type_text("it");
    match &h.app.input {
        Input::Command(line) => assert_eq!(line.field.value(), "audit"),
        other => panic!("{other:?}"),
    }
    h.press(ctrl('u'));
    h.type_text("audit");
    h.keys(&["Enter"]);
    assert_eq!(h.app.screen, Screen::Audit);

    // The typed-phrase dialog.
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["d"]);
    h.type_text("Delete account");
    for _ in 0.."account".len() {
        h.keys(&["Left"]);
    }
    h.type_text("service ");
    match &h.app.popup {
        Some(Popup::TypedConfirm(dialog)) => assert!(dialog.matches(), "{:?}", dialog.typed()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn pasted_lines_are_joined_with_a_notice() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "helpdesk");
    h.keys(&["c", "Tab", "Tab", "Tab"]);
    h.send(Msg::Paste("첫 줄\r\nsecond line\nthird".into()));
    assert_eq!(form_field(&h).0, "첫 줄 second line third");
    let frame = h.render(120, 40);
    assert!(
        frame.contains("Pasted 3 lines, joined into one with spaces."),
        "{frame}"
    );
}

// ───────────────────────────── config file ─────────────────────────────

#[test]
fn a_bad_config_file_names_its_line_and_the_console_opens_with_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let cases: &[(&str, usize, &str)] = &[
        ("theme = \"dark\"\nmouse = \"yes\"\n", 2, "invalid type"),
        ("theme = \"blue\"\n", 1, "unknown theme \"blue\""),
        ("\n\ncolour = \"red\"\n", 3, "unknown field `colour`"),
        (
            "date_format = \"%Y-%m-%d %Q\"\n",
            1,
            "not a valid strftime format",
        ),
        ("sidebar = \"sometimes\"\n", 1, "unknown sidebar setting"),
        (
            "[keys.global]\nquit = [\"Ctrl-q\"]\n",
            2,
            "\"Ctrl-q\" is not a key name",
        ),
        (
            "[keys.global]\n\nhelp = [\"x\"]\nquit = [\"x\"]\n",
            4,
            "x is bound twice",
        ),
        (
            "[keys.always]\ninterrupt = [\"C-j\"]\n[keys.global]\ndown = [\"C-j\"]\n",
            4,
            "C-j is bound twice",
        ),
        (
            "[keys.always]\ninterrupt = [\"C-c\", \"z\"]\n",
            2,
            "cannot be an [keys.always] key",
        ),
        (
            "[keys.always]\ninterrupt = [\"C-u\"]\n",
            2,
            "\"C-u\" cannot be an [keys.always] key",
        ),
        (
            "[keys.always]\ninterrupt = [\"M-b\"]\n",
            2,
            "\"M-b\" cannot be an [keys.always] key",
        ),
        (
            "[keys.always]\ninterrupt = [\"Home\"]\n",
            2,
            "\"Home\" cannot be an [keys.always] key",
        ),
        (
            "[keys.always]\ninterrupt = [\"Del\"]\n",
            2,
            "\"Del\" cannot be an [keys.always] key",
        ),
        (
            "[keys.always]\ninterrupt = [\"Enter\"]\n",
            2,
            "\"Enter\" cannot be an [keys.always] key",
        ),
        (
            "[keys.always]\ninterrupt = [\"Esc\"]\n",
            2,
            "\"Esc\" cannot be an [keys.always] key",
        ),
        (
            "[keys.global]\nquit = [\"C-c\", \"q\"]\n",
            2,
            "C-c is bound twice",
        ),
        (
            "[keys.form]\nnext_field = [\"Enter\", \"Tab\"]\n",
            2,
            "leaves form.submit without a key",
        ),
        (
            "[keys.global]\nsidebar = [\":\"]\n",
            2,
            "leaves global.command without a key",
        ),
        (
            "[keys.global]\nhelp = [\"/\"]\n",
            2,
            "leaves global.filter without a key",
        ),
        (
            "[keys.globl]\nquit = [\"x\"]\n",
            2,
            "unknown key layer [keys.globl]",
        ),
        (
            "[keys.global]\nexplode = [\"x\"]\n",
            2,
            "unknown action \"explode\"",
        ),
        (
            "theme = \"dark\"\nmouse = true\nmouse = false\n",
            3,
            "duplicate key",
        ),
        (
            "default_project = \"bad\\u001b]52;c;x\\u0007\"\n",
            1,
            "default_project",
        ),
    ];
    for (text, line, what) in cases {
        std::fs::write(&path, text).unwrap();
        let (settings, problem) = config::load_from(&path);
        let problem = problem.unwrap_or_else(|| panic!("{text:?} is refused"));
        assert!(
            problem.contains(&format!("line {line}: ")) && problem.contains(what),
            "{text:?}: {problem}"
        );
        assert!(problem.contains("runs with the defaults"), "{problem}");
        assert!(
            !problem.contains('\u{1b}'),
            "nothing raw in the message: {problem:?}"
        );
        // The defaults are in force.
        assert!(settings.mouse);
        assert_eq!(settings.keymap.key(kc_console::tui::keymap::Action::Quit), "q");
    }

    // The console opens with the problem as its first message, and works.
    std::fs::write(&path, "theme = \"blue\"\n").unwrap();
    let (settings, problem) = config::load_from(&path);
    let world = World::new();
    let mut app = world.app(settings);
    app.note(Level::Error, problem.unwrap());
    let mut h = Headless::new(&world.console, app);
    let frame = h.render(80, 24);
    assert!(
        frame.contains("unknown theme \"blue\"")
            && h.app
                .flash
                .as_ref()
                .is_some_and(|f| f.text.contains("line 1: unknown theme")),
        "the problem is on the sign-in screen:\n{frame}"
    );
    h.type_text(OWNER);
    h.keys(&["Tab"]);
    h.type_text("owner-demo-pw");
    h.keys(&["Enter"]);
    assert!(h.app.session.is_some(), "the defaults work");
    h.keys(&["m"]);
    assert!(
        h.render(120, 40).contains("line 1: unknown theme"),
        "and it stays in the message log"
    );

    // A missing file is no problem; a file that is too big is refused without reading it.
    let (_, problem) = config::load_from(&dir.path().join("none.toml"));
    assert_eq!(problem, None);
    std::fs::write(&path, "#".repeat(70_000)).unwrap();
    let (_, problem) = config::load_from(&path);
    assert!(problem.unwrap().contains("larger than 64 KiB"));
}

/// A key the config file binds is taken from an action that had it only by default, so a
/// config written before that default existed keeps working (`u` became the profile menu's).
#[test]
fn a_key_the_config_file_binds_is_taken_from_a_default_that_had_it() {
    use kc_console::tui::keymap::Action;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[keys.global]\nsort = [\"u\"]\nhelp = [\"q\", \"?\"]\n").unwrap();
    let (settings, problem) = config::load_from(&path);
    assert_eq!(problem, None);
    assert_eq!(settings.keymap.key(Action::SortNext), "u");
    assert_eq!(settings.keymap.keys(Action::Profile), "(no key)");
    assert_eq!(settings.keymap.keys(Action::Quit), "(no key)");
    let world = World::new();
    let mut h = world.signed_in_with(OWNER, settings);
    go(&mut h, "projects");
    h.keys(&["u"]);
    assert!(h.app.popup.is_none(), "u sorts, as the file says");
    assert!(h.app.table(Screen::Projects).unwrap().sort().is_some());
    let hints = h.app.footer_rows(200).concat();
    assert!(
        hints
            .iter()
            .all(|(key, label)| !key.is_empty() && label != "quit"),
        "no hint without a key: {hints:?}"
    );
    h.keys(&["q"]);
    assert!(!h.app.quit, "q is help now");
    assert!(h.render(120, 40).contains("(no key)"), "the help says so");
    h.keys(&["Esc"]);
    go(&mut h, "profile");
    assert!(
        matches!(h.app.popup, Some(Popup::Profile(_))),
        "the palette still reaches the profile menu"
    );
}

#[test]
fn the_config_file_rebinds_keys_and_sets_mouse_dates_theme_and_project() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "theme = \"mono\"\nmouse = false\ndefault_project = \"data-lake\"\ndate_format = \"%d.%m.%Y\"\n\
         sidebar = \"hide\"\n[keys.global]\nquit = [\"x\"]\ncreate = [\"n\", \"F2\"]\n[keys.reveal]\ncopy_secret = [\"C-y\"]\n",
    )
    .unwrap();
    let (settings, problem) = config::load_from(&path);
    assert_eq!(problem, None);
    assert_eq!(settings.default_project.as_deref(), Some("data-lake"));
    let world = World::new();
    let user = world.console.user_by_email(OWNER).unwrap();
    let session = session_for(
        &world.console,
        Console::actor_for(&user),
        settings.default_project.as_deref(),
    )
    .unwrap();
    let mut h = Headless::new(&world.console, world.app(settings));
    h.send(Msg::SignedIn(Ok(session)));
    let frame = h.render(120, 40);
    assert!(
        frame.contains("Current project: Data Lake"),
        "default_project:\n{frame}"
    );
    assert!(
        !frame.contains("Payment methods"),
        "the sidebar is hidden:\n{frame}"
    );
    // Hints and help follow the keymap.
    go(&mut h, "projects");
    let frame = h.render(120, 40);
    assert!(
        frame.contains(" x quit") && frame.contains(" n Create project"),
        "{frame}"
    );
    assert!(frame.contains("24.11.2026"), "the date format:\n{frame}");
    h.keys(&["?"]);
    h.keys(&["/"]);
    h.type_text("create");
    h.keys(&["Enter"]);
    let help = h.render(120, 40);
    assert!(
        help.contains("n / F2") && help.contains("Create project"),
        "{help}"
    );
    h.keys(&["Esc", "Esc"]);
    h.keys(&["c"]);
    assert!(h.app.popup.is_none(), "c is no longer bound");
    h.keys(&["F2"]);
    assert!(matches!(h.app.popup, Some(Popup::Form(_))), "F2 creates");
    h.keys(&["Esc", "q"]);
    assert!(!h.app.quit, "q is no longer quit");
    // mouse = false: clicks do nothing.
    h.click(5, 6);
    assert_eq!(h.app.screen, Screen::Projects);
    h.keys(&["x"]);
    assert!(h.app.quit, "x quits");
}

#[test]
fn kc_console_config_print_default_prints_a_valid_documented_file() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kc-console"))
        .args(["config", "--print-default"])
        .env_remove("KC_CONSOLE_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    config::parse(&text).expect("the printed file is valid");
    for needle in [
        "theme = \"dark\"",
        "mouse = true",
        "date_format",
        "# quit = [\"q\"]",
        "[keys.reveal]",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
    // Uncommenting every binding gives the same keymap, valid as written.
    let uncommented: String = text
        .lines()
        .map(|l| {
            if l.starts_with("# [keys.") || l.starts_with("# ") && l.contains(" = [") {
                &l[2..]
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    config::parse(&uncommented).expect("every default binding, uncommented, is valid");
}

// ───────────────────────────── tables ─────────────────────────────

#[test]
fn detail_views_show_every_field_in_full() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "audit",
            "inquiry.submit",
            &["Sequence number", "Signed in with", "Time (UTC)"],
        ),
        (
            "sa",
            "deploy-bot",
            &["@kc.serviceaccount.com", "Project role", "Description"],
        ),
        (
            "projects",
            "data-lake",
            &["Project ID", "Services in use", "Default project"],
        ),
        ("members", "viewer@", &["User ID", "Project Reader", "Added at"]),
        (
            "helpdesk",
            "머신러닝",
            &["Inquiry ID", "History", "waiting for the Help Desk", "Project ID"],
        ),
        (
            "agents",
            "kubernetes",
            &["Service agent", "@kubernetes-engine.kc.serviceaccount.com"],
        ),
    ];
    for (command, row, fields) in cases {
        go(&mut h, command);
        select(&mut h, row);
        h.keys(&["i"]);
        let frame = h.render(120, 40);
        assert!(
            matches!(&h.app.popup, Some(Popup::Viewer(v)) if v.kind == ViewerKind::Detail),
            ":{command} i opens the detail"
        );
        for field in *fields {
            assert!(frame.contains(field), ":{command}: {field} in\n{frame}");
        }
        snap(&mut h, &format!("detail_{command}"));
        h.keys(&["Esc"]);
        assert!(h.app.popup.is_none());
    }
    // Enter opens it where a row has nothing else to open; `d` stays delete (spec §6).
    go(&mut h, "members");
    h.keys(&["Enter"]);
    assert!(matches!(&h.app.popup, Some(Popup::Viewer(_))));
    h.keys(&["Esc", "d"]);
    assert!(matches!(&h.app.popup, Some(Popup::Confirm(_))), "d still deletes");
    h.keys(&["Esc"]);

    // A service account's key, and one's own key (the ID in full, the secret never).
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["Enter"]);
    select(&mut h, "ci-pipeline");
    h.keys(&["i"]);
    let frame = h.render(120, 40);
    assert!(
        frame.contains("Access key ID") && frame.contains("not retrievable"),
        "{frame}"
    );
    snap(&mut h, "detail_sa_key");
}

#[test]
fn sorting_cycles_columns_shows_the_order_and_keeps_the_selection() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    select(&mut h, "ml-lab");
    let keys = |h: &Headless| {
        let t = h.app.table(Screen::Projects).unwrap();
        (0..t.shown())
            .map(|i| t.cells_at(i)[1].clone())
            .collect::<Vec<_>>()
    };
    h.keys(&["o"]);
    assert_eq!(
        keys(&h),
        ["data-lake", "ml-lab", "web-shop"].map(String::from).to_vec(),
        "o: NICKNAME"
    );
    h.keys(&["o"]);
    assert_eq!(
        keys(&h),
        ["data-lake", "ml-lab", "web-shop"].map(String::from).to_vec(),
        "o: NAME"
    );
    h.keys(&["O"]);
    assert_eq!(
        keys(&h),
        ["web-shop", "ml-lab", "data-lake"].map(String::from).to_vec(),
        "O reverses"
    );
    assert_eq!(
        selected_key(&h),
        Some(world.console.find_project("ml-lab").unwrap().id),
        "same row"
    );
    let frame = h.render(120, 40);
    assert!(
        frame.contains("NAME ▼") && frame.contains("sorted by NAME ▼"),
        "{frame}"
    );
    snap(&mut h, "projects_sorted_by_name_descending");

    // Times sort as times whatever the date format; audit sorts by sequence number too.
    go(&mut h, "audit");
    for _ in 0..7 {
        h.keys(&["o"]);
    }
    let t = h.app.table(Screen::Audit).unwrap();
    let seqs: Vec<u64> = (0..t.shown())
        .map(|i| t.cells_at(i)[6].parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "SEQ ascending: {seqs:?}");
    h.keys(&["o"]);
    assert!(
        !h.render(120, 40).contains("sorted by"),
        "after the last column, the model's order"
    );
}

#[test]
fn narrow_terminals_keep_the_seed_columns_with_ellipses() {
    let world = World::new();
    let owner = world.actor(OWNER);
    world
        .console
        .create_project(
            &owner,
            "hangul-app",
            "아주 긴 한국어 별명을 가진 프로젝트",
            "한국어 설명",
        )
        .unwrap();
    let mut h = world.signed_in(OWNER);
    for (command, headers) in [
        ("sa", &["ID", "NAME", "STATUS", "CREATED AT"][..]),
        ("agents", &["SERVICE", "ID", "STATUS", "CREATED AT"][..]),
        ("projects", &["NICKNAME", "NAME", "ID"][..]),
    ] {
        go(&mut h, command);
        let frame = h.render(80, 24);
        let header = frame
            .lines()
            .find(|l| l.contains(headers[0]))
            .unwrap_or_default()
            .to_string();
        for title in headers {
            assert!(
                header.contains(title),
                ":{command} at 80×24 keeps {title}: {header}"
            );
        }
        assert!(frame.contains('…'), ":{command}: what is cut is marked:\n{frame}");
    }
    go(&mut h, "projects");
    select(&mut h, "hangul-app");
    snap(&mut h, "projects_korean_narrow");
    // The detail view has what the narrow table cut.
    h.keys(&["i"]);
    assert!(h.render(80, 24).contains("아주 긴 한국어 별명을 가진 프로젝트"));
}

#[test]
fn after_a_create_the_new_row_is_selected() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    select(&mut h, "batch-sync");
    h.keys(&["c"]);
    h.type_text("zz-new-bot");
    h.keys(&["Enter"]);
    let project = world.console.find_project("web-shop").unwrap();
    assert_eq!(
        selected_key(&h),
        Some(format!("zz-new-bot-{}@kc.serviceaccount.com", project.id)),
        "the new service account is selected"
    );
    go(&mut h, "members");
    h.keys(&["c"]);
    h.type_text("guest@pangyo.example");
    h.keys(&["Enter"]);
    assert_eq!(selected_key(&h).as_deref(), Some("guest@pangyo.example"));
}

#[test]
fn switching_project_keeps_the_screen() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "members");
    h.keys(&["p"]);
    h.type_text("lake");
    h.keys(&["Enter"]);
    assert_eq!(h.app.screen, Screen::Members, "still on Members");
    let frame = h.render(120, 40);
    assert!(frame.contains("Current project: Data Lake"), "{frame}");
    let t = h.app.table(Screen::Members).unwrap();
    let emails: Vec<&str> = (0..t.shown()).map(|i| t.key_at(i)).collect();
    assert!(!emails.contains(&VIEWER), "data-lake's members: {emails:?}");
    // A service account's page belongs to its project: switching goes back to the list.
    go(&mut h, "project web-shop");
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["Enter"]);
    go(&mut h, "project data-lake");
    assert_eq!(h.app.screen, Screen::ServiceAccounts);
}

#[test]
fn slash_filters_the_dashboard_too() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    h.keys(&["/"]);
    h.type_text("project id");
    let t = h.app.table(Screen::Dashboard).unwrap();
    assert_eq!(t.shown(), 1, "one dashboard row matches");
    assert!(h.render(80, 24).contains("Project ID"));
}

// ───────────────────────────── messages and palette ─────────────────────────────

#[test]
fn the_message_log_keeps_every_message_with_time_and_level() {
    let world = World::new();
    let mut h = world.signed_in(DEV);
    go(&mut h, "projects");
    h.keys(&["c"]);
    assert!(h.app.flash.as_ref().is_some_and(|f| f.kind == Level::Error));
    go(&mut h, "credentials");
    h.type_text("wrong");
    h.keys(&["Enter", "Esc"]);
    h.keys(&["m"]);
    let frame = h.render(120, 40);
    for needle in [
        "09:00:00 ERROR Not available: Create project",
        "09:00:00 INFO  Signed in as dev@",
        "ERROR wrong password",
    ] {
        assert!(frame.contains(needle), "{needle}:\n{frame}");
    }
    snap(&mut h, "message_log");
}

#[test]
fn a_long_message_wraps_and_is_marked_when_cut() {
    let world = World::new();
    let mut h = world.signed_in(VIEWER);
    go(&mut h, "sa");
    h.keys(&["c"]);
    let frame = h.render(80, 24);
    let lines: Vec<&str> = frame.lines().collect();
    let status = &lines[lines.len() - 3..lines.len() - 1];
    assert!(
        status[0].contains("Not available: Viewing service accounts"),
        "{frame}"
    );
    assert!(
        status[1].ends_with("… (press m for all of it)"),
        "the cut is marked:\n{frame}"
    );
    let wide = h.render(250, 40);
    assert!(
        wide.contains("partially restricted."),
        "wide enough, it is whole:\n{wide}"
    );
}

#[test]
fn the_palette_completes_commands_and_arguments() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let line = |h: &Headless| match &h.app.input {
        Input::Command(line) => line.field.value().to_string(),
        other => panic!("{other:?}"),
    };
    h.keys(&[":"]);
    h.type_text("s");
    h.keys(&["Tab"]);
    assert_eq!(line(&h), "sa", ":s completes to sa");
    h.keys(&["Esc", ":"]);
    h.type_text("aud");
    h.keys(&["Tab"]);
    assert_eq!(line(&h), "audit");
    h.keys(&["Esc", ":"]);
    h.type_text("project ");
    h.keys(&["Tab"]);
    let first = line(&h);
    assert!(
        first.starts_with("project ") && first.len() > "project ".len(),
        "{first}"
    );
    h.keys(&["Tab"]);
    let second = line(&h);
    assert!(
        second.starts_with("project ") && second != first,
        "Tab cycles: {second}"
    );
    snap(&mut h, "palette_project_names");
    h.keys(&["Esc", ":"]);
    // Fuzzy: letters in order, not a prefix.
    h.type_text("srvc");
    h.keys(&["Enter"]);
    assert_eq!(h.app.screen, Screen::Services);
    h.keys(&[":"]);
    h.type_text("mssgs");
    h.keys(&["Enter"]);
    assert!(matches!(&h.app.popup, Some(Popup::Viewer(v)) if v.kind == ViewerKind::Log));
}

// ───────────────────────────── mouse ─────────────────────────────

#[test]
fn the_mouse_selects_rows_opens_menus_sorts_scrolls_and_switches_tabs() {
    let world = World::new();
    let owner = world.actor(OWNER);
    for i in 0..40 {
        world
            .console
            .create_service_account(&owner, "data-lake", &format!("bot-{i:02}"), "")
            .map(drop)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut h = world.signed_in(OWNER);
    h.render(120, 40);
    // Menu: "Projects" is on row 4 (headings shown at 40 rows).
    h.click(6, 4);
    assert_eq!(h.app.screen, Screen::Projects, "a click on a menu entry opens it");
    // The third row of the table (header on row 3).
    h.click(40, 6);
    assert_eq!(
        h.app.table(Screen::Projects).unwrap().selected(),
        2,
        "a click selects"
    );
    // The header sorts by the column clicked.
    h.click(24, 3);
    assert!(h.app.table(Screen::Projects).unwrap().sort().is_some());
    // The wheel scrolls.
    go(&mut h, "project data-lake");
    go(&mut h, "sa");
    h.keys(&["g"]);
    h.wheel(60, 10, true);
    assert_eq!(h.app.table(Screen::ServiceAccounts).unwrap().selected(), 3);
    h.wheel(60, 10, false);
    assert_eq!(h.app.table(Screen::ServiceAccounts).unwrap().selected(), 0);
    // Credentials' tabs.
    go(&mut h, "credentials");
    h.type_text("owner-demo-pw");
    h.keys(&["Enter"]);
    assert!(h.render(120, 40).contains("[ IAM access key ]"));
    h.click(22 + 25, 3);
    assert!(
        h.render(120, 40).contains("[ S3 access key ]"),
        "a click on a tab switches"
    );
}

// ───────────────────────────── safety ─────────────────────────────

#[test]
fn ctrl_c_over_a_one_time_secret_asks_first() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "users");
    h.keys(&["c"]);
    h.type_text("new@pangyo.example");
    h.keys(&["Tab"]);
    h.type_text("New");
    h.keys(&["Enter"]);
    assert!(matches!(h.app.popup, Some(Popup::Reveal(_))));
    h.keys(&["C-c"]);
    assert!(!h.app.quit, "not at once");
    let frame = h.render(120, 40);
    assert!(
        frame.contains("Quit now? The secret is not shown again"),
        "{frame}"
    );
    h.keys(&["n"]);
    assert!(!h.app.quit && matches!(&h.app.popup, Some(Popup::Reveal(r)) if !r.quit_asked));
    h.keys(&["C-c", "y"]);
    assert!(h.app.quit, "y quits");

    // Once the user says it is saved, Ctrl-C quits straight away; elsewhere too.
    let mut h = world.signed_in(OWNER);
    go(&mut h, "users");
    h.keys(&["c"]);
    h.type_text("new2@pangyo.example");
    h.keys(&["Tab"]);
    h.type_text("New");
    h.keys(&["Enter", "Space", "C-c"]);
    assert!(h.app.quit);
    let mut h = world.signed_in(OWNER);
    h.keys(&["C-c"]);
    assert!(h.app.quit);
}

#[test]
fn a_wrong_confirmation_phrase_says_why_nothing_happened() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    for (typed, why) in [
        ("", "nothing was typed"),
        ("delete service account", "capital letters count"),
        (" Delete service account", "remove the spaces"),
        ("Delete serv", "\"ice account\" is missing"),
        ("Delete service accounts", "remove \"s\" at the end"),
        ("Remove it", "you typed \"Remove it\""),
    ] {
        h.keys(&["d"]);
        h.type_text(typed);
        h.keys(&["Enter"]);
        let frame = h.render(120, 40);
        assert!(
            frame.contains("Nothing was deleted") && frame.contains(why),
            "{typed:?}:\n{frame}"
        );
        match &h.app.popup {
            Some(Popup::TypedConfirm(dialog)) => {
                let said = dialog.why.clone().unwrap_or_default();
                assert!(
                    said.starts_with(
                        "Nothing was deleted: the phrase must be exactly \"Delete service account\""
                    ),
                    "{said}"
                );
            }
            other => panic!("the dialog stays open, found {other:?}"),
        }
        if typed == "delete service account" {
            snap(&mut h, "wrong_phrase_reason");
        }
        h.keys(&["Esc"]);
    }
    assert_eq!(
        world
            .console
            .list_service_accounts(&world.actor(OWNER), "web-shop")
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_second_deletion_request_is_refused_on_screen_with_the_open_inquirys_id() {
    let world = World::new();
    let open = world
        .console
        .list_inquiries(&world.actor(OWNER))
        .unwrap()
        .into_iter()
        .find(|i| i.project_name.as_deref() == Some("ml-lab"))
        .unwrap();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    select(&mut h, "ml-lab");
    h.keys(&["d", "Enter"]);
    let frame = h.render(120, 40);
    assert!(
        frame.contains("already open") && frame.contains(&open.id),
        "the form says which inquiry is open:\n{frame}"
    );
}

// ───────────────────────────── roles, sign out, sidebar ─────────────────────────────

#[test]
fn what_a_role_cannot_use_is_not_offered_and_the_reason_is_where_one_looks() {
    let world = World::new();
    // Org Reader may look at service accounts but not change them (that needs Project Admin).
    let mut h = world.signed_in("auditor@pangyo.example");
    go(&mut h, "project data-lake");
    go(&mut h, "sa");
    let frame = h.render(200, 40);
    assert!(
        frame.contains(
            "read-only for you: Create service account, More › Settings, Delete need Project Admin"
        ),
        "{frame}"
    );
    assert!(
        !frame.contains(" c Create service account"),
        "not in the footer:\n{frame}"
    );
    h.keys(&["?"]);
    h.keys(&["/"]);
    h.type_text("service account");
    h.keys(&["Enter"]);
    assert!(
        h.render(200, 40)
            .contains("Create service account — not available to you: requires Project Admin"),
        "the help says why too"
    );
    h.keys(&["Esc", "Esc"]);

    // A Project Reader: Service Account and Service Agent are crossed out in the menu and say
    // why (with the seed's 2024-11-15 notice) instead of listing.
    let mut h = world.signed_in(VIEWER);
    h.render(120, 40);
    go(&mut h, "agents");
    snap(&mut h, "reader_agents_not_available");
}

#[test]
fn sign_out_and_sign_in_as_someone_else_without_quitting() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "credentials");
    h.type_text("owner-demo-pw");
    h.keys(&["Enter"]);
    assert!(h.app.credentials_unlocked);
    h.keys(&["S"]);
    assert!(h.app.session.is_none() && !h.app.quit);
    assert!(
        !h.app.credentials_unlocked,
        "the password re-check does not carry over"
    );
    let frame = h.render(80, 24);
    assert!(frame.contains("Signed out owner@pangyo.example"), "{frame}");
    h.keys(&["BTab"]);
    h.press(ctrl('u'));
    h.type_text(DEV);
    h.keys(&["Tab"]);
    h.type_text("dev-demo-pw");
    h.keys(&["Enter"]);
    assert_eq!(h.app.session.as_ref().map(|s| s.email.as_str()), Some(DEV));
    go(&mut h, "signout");
    assert!(h.app.session.is_none());
}

/// The Credentials guide starts "in the upper right corner of the KakaoCloud console … from
/// your profile": the user in the header opens the profile menu, by `u` or a click.
#[test]
fn the_user_in_the_upper_right_opens_the_profile_menu_with_credentials_and_sign_out() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let frame = h.render(80, 24);
    let top = frame.lines().next().unwrap();
    assert!(top.ends_with("owner@pangyo.example ▾"), "{top}");
    h.keys(&["u"]);
    assert!(matches!(h.app.popup, Some(Popup::Profile(_))));
    snap(&mut h, "profile_menu");
    h.keys(&["Enter"]);
    assert_eq!(
        h.app.screen,
        Screen::Credentials,
        "Credentials is the first entry"
    );
    assert!(
        h.render(80, 24).contains("[Enter] Verify password"),
        "the password re-check comes first, as from the menu"
    );
    h.keys(&["Esc"]);

    // By mouse at 120 columns: a click on the user, then on "Sign out" (the box hangs from the
    // right end: its border, the user, a rule, Credentials, Sign out).
    h.render(120, 40);
    h.click(110, 0);
    assert!(
        matches!(h.app.popup, Some(Popup::Profile(_))),
        "a click on the user opens it"
    );
    h.click(60, 10);
    assert!(h.app.popup.is_none(), "a click elsewhere closes it");
    assert!(h.app.session.is_some());
    // `u` again closes it; j and k move as in a table.
    h.keys(&["u"]);
    assert!(h.app.popup.is_some(), "u opens it");
    h.keys(&["u"]);
    assert!(h.app.popup.is_none(), "u closes what u opened");
    h.keys(&["u", "j", "k"]);
    let frame = h.render(120, 40);
    assert!(frame.contains("▶ Credentials"), "k moves back up:\n{frame}");
    h.keys(&["j"]);
    let frame = h.render(120, 40);
    assert!(frame.contains("▶ Sign out"), "{frame}");
    assert!(frame.contains("[Enter] open  [Esc] close"), "its keys are shown");

    // On a terminal too small to draw it, a click where Sign out was does nothing.
    h.render(50, 12);
    h.click(40, 5);
    assert!(h.app.session.is_some(), "nothing unseen is clicked");
    h.render(120, 40);
    h.click(110, 5);
    assert!(h.app.session.is_none(), "Sign out signs out");
}

/// Where the guides name a button ([Create], [Save], [OK], [Copy], [Delete], [Submit],
/// [Verify password], [More]), the hint beside its key uses that word, in every flow.
#[test]
fn the_guides_button_words_are_the_hints_in_every_flow() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    let offers = |h: &Headless, words: &[&str]| {
        let hints = h.footer_hints(200);
        for word in words {
            assert!(hints.iter().any(|h| h == word), "{word:?} not among {hints:?}");
        }
    };
    let popup_says = |h: &mut Headless, words: &[&str]| {
        let frame = h.render(120, 40);
        for word in words {
            assert!(frame.contains(word), "{word:?} not in the popup:\n{frame}");
        }
    };

    // Projects: [Create project] → [Create]; Edit project → [Save].
    go(&mut h, "projects");
    offers(&h, &["c Create project", "e Edit"]);
    h.keys(&["c"]);
    popup_says(&mut h, &["Create project", "[Enter] Create "]);
    h.keys(&["Esc", "e"]);
    popup_says(&mut h, &["Edit project", "[Enter] Save "]);
    h.keys(&["Esc"]);

    // Service Account: [Create service account] → [Create]; [More] › Settings → [Save];
    // [Delete] → the typed phrase → [Delete].
    go(&mut h, "sa");
    offers(&h, &["c Create service account", "s More › Settings", "d Delete"]);
    h.keys(&["c"]);
    popup_says(&mut h, &["[Enter] Create "]);
    h.keys(&["Esc", "s"]);
    popup_says(&mut h, &["[Enter] Save "]);
    h.keys(&["Esc", "d"]);
    popup_says(&mut h, &["Delete service account", "[Enter] Delete"]);
    h.keys(&["Esc"]);

    // The detail page: [Create IAM Access Key] → [Create] → [Copy] … [OK]; [Delete].
    select(&mut h, "deploy-bot");
    h.keys(&["Enter"]);
    assert_eq!(h.app.screen, Screen::ServiceAccountDetail);
    offers(&h, &["c Create IAM access key", "d Delete"]);
    h.keys(&["c"]);
    popup_says(&mut h, &["[Enter] Create "]);
    h.type_text("words");
    h.keys(&["Enter"]);
    popup_says(
        &mut h,
        &["Copy Access key ID", "Copy Secret access key", "[Enter] OK"],
    );
    h.keys(&["Space", "Enter"]);
    h.keys(&["d"]);
    popup_says(&mut h, &["Delete IAM access key", "[Enter] Delete"]);
    h.keys(&["Esc"]);

    // Credentials: [Verify password] → [Create IAM/S3 access key] → [Create] → [Copy] … [OK].
    go(&mut h, "credentials");
    popup_says(&mut h, &["[Enter] Verify password"]);
    h.type_text("owner-demo-pw");
    h.keys(&["Enter"]);
    offers(&h, &["c Create IAM access key"]);
    h.keys(&["Tab"]);
    offers(&h, &["c Create S3 access key"]);
    h.keys(&["c"]);
    popup_says(&mut h, &["Create S3 access key", "[Enter] Create "]);
    h.keys(&["Esc"]);

    // Help Desk: [Submit Inquiry] → [Submit].
    go(&mut h, "helpdesk");
    offers(&h, &["c Submit Inquiry"]);
    h.keys(&["c"]);
    popup_says(&mut h, &["[Enter] Submit "]);
}

#[test]
fn the_sidebar_hides_for_narrow_terminals_and_b_toggles_it() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    assert!(
        h.render(120, 40).contains("Payment methods"),
        "shown at 120 columns"
    );
    let narrow = h.render(80, 24);
    assert!(!narrow.contains("Payment methods"), "hidden at 80:\n{narrow}");
    assert!(
        narrow.contains(" b menu"),
        "and the footer says how to show it:\n{narrow}"
    );
    h.keys(&["b"]);
    assert!(h.render(80, 24).contains("Payment methods"));
    h.keys(&["b"]);
    assert!(!h.render(120, 40).contains("Payment methods"));
}

// ───────────────────────────── live changes ─────────────────────────────

/// The change the model just published for the newest audit event.
fn last_change(world: &World) -> Change {
    let e = world
        .console
        .list_audit(&world.actor(OWNER), 1)
        .unwrap()
        .remove(0);
    Change {
        seq: e.seq,
        at: e.at,
        actor: e.actor,
        action: e.action,
        target: e.target,
    }
}

#[test]
fn a_change_elsewhere_reloads_the_screen_keeps_the_selection_and_says_who() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    let before = selected_key(&h);
    // Someone else creates a service account that sorts before deploy-bot.
    world
        .console
        .create_service_account(&world.actor(ADMIN), "web-shop", "aaa-first", "")
        .unwrap();
    h.send(Msg::Changed(last_change(&world)));
    assert!(
        h.app.table(Screen::ServiceAccounts).unwrap().len() == 3,
        "the list reloaded"
    );
    assert_eq!(selected_key(&h), before, "the selection stays on deploy-bot");
    let frame = h.render(120, 40);
    assert!(
        frame
            .contains("Changed elsewhere: admin@pangyo.example service_account.create aaa-first in web-shop"),
        "{frame}"
    );
    assert!(h.app.log.iter().any(|e| e.text.contains("aaa-first")));
}

#[test]
fn a_dialog_whose_row_was_deleted_elsewhere_explains_it() {
    let world = World::new();
    let mut h = world.signed_in(ADMIN);
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["s"]);
    assert!(matches!(h.app.popup, Some(Popup::Form(_))));
    let sa = world.console.find_project("web-shop").unwrap().id;
    world
        .console
        .delete_service_account(
            &world.actor(OWNER),
            &format!("deploy-bot-{sa}@kc.serviceaccount.com"),
            "Delete service account",
        )
        .unwrap();
    h.send(Msg::Changed(last_change(&world)));
    match &h.app.popup {
        Some(Popup::Notice(notice)) => assert!(
            notice.lines[0].contains(
                "deploy-bot was deleted by owner@pangyo.example while this dialog was open; nothing was done"
            ),
            "{notice:?}"
        ),
        other => panic!("a notice replaces the dialog, found {other:?}"),
    }
    snap(&mut h, "dialog_row_deleted_elsewhere");
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none());
}

#[test]
fn a_burst_of_changes_costs_one_reload_and_missed_changes_reload() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "audit");
    let change = last_change(&world);
    // The first change asks for a reload; the rest of the burst asks for nothing more...
    let first = h.app.update(Msg::Changed(change.clone()));
    assert_eq!(
        first
            .iter()
            .filter(|e| matches!(e, Effect::Reload { .. }))
            .count(),
        1
    );
    for _ in 0..50 {
        assert!(h.app.update(Msg::Changed(change.clone())).is_empty(), "coalesced");
    }
    // ...until the reload lands, which asks for one more (the burst came during it).
    h.run(first);
    assert!(!h.app.log.is_empty());
    // A lagged feed reloads too.
    let effects = h.app.update(Msg::Missed);
    assert!(effects.iter().any(|e| matches!(e, Effect::Reload { .. })));
    h.run(effects);
    assert!(h.app.log.iter().any(|e| e.text.contains("went by unseen")));
}

// ───────────────────────────── nothing raw ─────────────────────────────

#[test]
fn text_from_outside_is_drawn_escaped_everywhere() {
    let world = World::new();
    let hostile = "evil\u{1b}]52;c;aGk=\u{7}\nforged line\u{202e}";
    // An audit event whose target carries an OSC 52 sequence, a newline and a bidi override.
    let seq = 1_000_000;
    let event = AuditEvent {
        seq,
        at: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
        actor: "owner@pangyo.example".into(),
        via: "password".into(),
        action: "service_account.create".into(),
        target: hostile.into(),
        outcome: "ok".into(),
        count: 1,
    };
    world
        .console
        .store()
        .transact::<(), ()>(|tx| {
            tx.put(Table::Audit, &sequence_key(seq), &event)?;
            // Counted as the model counts its own events, so the screen's total stays true.
            let count: u64 = tx.get(Table::Audit, layout::COUNT)?.unwrap_or(0);
            tx.put(Table::Audit, layout::COUNT, &(count + 1))
        })
        .unwrap();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "audit");
    select(&mut h, "evil");
    let table = h.render(120, 40);
    assert!(
        table.contains("evil\\u{1b}]52") && !table.contains('\u{1b}'),
        "{table}"
    );
    let mut frames = Vec::new();
    h.keys(&["i"]);
    frames.push(h.render(120, 40));
    snap(&mut h, "detail_audit_escaped");
    h.keys(&["Esc"]);
    // The same text arriving as a change: the flash and the message log.
    h.send(Msg::Changed(Change {
        seq,
        at: event.at,
        actor: format!("mallory\u{1b}[2J{}", "@x"),
        action: "service_account.create".into(),
        target: hostile.into(),
    }));
    frames.push(h.render(120, 40));
    h.keys(&["m"]);
    frames.push(h.render(120, 40));
    for frame in &frames {
        assert!(
            !frame.contains('\u{1b}') && !frame.contains('\u{7}') && !frame.contains('\u{202e}'),
            "{frame:?}"
        );
        assert!(
            frame.contains("\\u{1b}]52;c;aGk=\\u{7}\\u{a}forged") && frame.contains("line\\u{202e}"),
            "escaped:\n{frame}"
        );
    }
    let _ = &world.dir;
}

// ───────────────────────────── the guides, word for word ─────────────────────────────

fn sa_id(world: &World, name: &str) -> String {
    let project = world.console.find_project("web-shop").unwrap().id;
    format!("{name}-{project}@kc.serviceaccount.com")
}

fn marked(h: &Headless) -> usize {
    h.app.table(h.app.screen).unwrap().marked()
}

#[test]
fn checked_service_accounts_are_deleted_with_one_phrase_and_one_event_each() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["Space"]);
    select(&mut h, "batch-sync");
    h.keys(&["Space"]);
    assert_eq!(marked(&h), 2);
    let frame = h.render(120, 40);
    assert!(
        frame.contains("(2 rows · 2 checked)") && frame.contains("Space check (2 checked)"),
        "the count is above the table and in the footer:\n{frame}"
    );
    snap(&mut h, "sa_checked");
    h.keys(&["d"]);
    snap(&mut h, "sa_delete_checked");
    h.type_text("Delete service account");
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none(), "{:?}", h.app.popup);
    assert_eq!(h.app.table(Screen::ServiceAccounts).unwrap().len(), 0);
    assert!(
        h.app
            .log
            .iter()
            .any(|e| e.text == "Deleted 2 service accounts: batch-sync, deploy-bot."),
        "{:?}",
        h.app.log
    );
    let deletes: Vec<String> = world
        .console
        .list_audit(&world.actor(OWNER), 10)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "service_account.delete" && e.outcome == "ok")
        .map(|e| e.target)
        .collect();
    assert_eq!(deletes.len(), 2, "one audit event per account: {deletes:?}");
}

#[test]
fn checks_survive_reloads_and_go_with_their_rows() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["Space"]);
    select(&mut h, "batch-sync");
    h.keys(&["Space", "Space", "Space"]);
    assert_eq!(marked(&h), 2, "Space unchecks and checks again");
    world
        .console
        .create_service_account(&world.actor(ADMIN), "web-shop", "aaa-first", "")
        .unwrap();
    h.send(Msg::Changed(last_change(&world)));
    assert_eq!(h.app.table(Screen::ServiceAccounts).unwrap().len(), 3);
    assert_eq!(marked(&h), 2, "a reload keeps the checks");
    world
        .console
        .delete_service_account(
            &world.actor(ADMIN),
            &sa_id(&world, "batch-sync"),
            "Delete service account",
        )
        .unwrap();
    h.send(Msg::Changed(last_change(&world)));
    assert_eq!(marked(&h), 1, "a check goes with its row");
    h.keys(&["d"]);
    match &h.app.popup {
        Some(Popup::TypedConfirm(dialog)) => {
            let text = dialog.lines.join("\n");
            assert!(text.contains("Delete the 1 checked service accounts?"), "{text}");
            assert!(text.contains(&sa_id(&world, "deploy-bot")) && !text.contains("batch-sync"));
        }
        other => panic!("expected the typed confirmation, found {other:?}"),
    }
}

#[test]
fn a_batch_that_cannot_be_deleted_whole_deletes_nothing_and_says_which() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "sa");
    select(&mut h, "deploy-bot");
    h.keys(&["Space"]);
    select(&mut h, "batch-sync");
    h.keys(&["Space", "d"]);
    // batch-sync goes while the dialog is open (and before the change reaches the console).
    world
        .console
        .delete_service_account(
            &world.actor(ADMIN),
            &sa_id(&world, "batch-sync"),
            "Delete service account",
        )
        .unwrap();
    h.type_text("Delete service account");
    h.keys(&["Enter"]);
    match &h.app.popup {
        Some(Popup::TypedConfirm(dialog)) => {
            let why = dialog.why.clone().unwrap_or_default();
            assert!(why.contains("nothing was deleted"), "{why}");
            assert!(
                why.contains(&sa_id(&world, "batch-sync")),
                "names the one that blocked it: {why}"
            );
        }
        other => panic!("the dialog stays with the reason, found {other:?}"),
    }
    snap(&mut h, "sa_delete_checked_refused");
    assert!(
        world
            .console
            .list_service_accounts(&world.actor(OWNER), "web-shop")
            .unwrap()
            .iter()
            .any(|sa| sa.name == "deploy-bot"),
        "all or nothing: deploy-bot is still there"
    );
}

#[test]
fn stopping_a_service_sets_its_agent_inactive_and_it_is_no_longer_in_use() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "services");
    select(&mut h, "kubernetes-engine");
    h.keys(&["d"]);
    snap(&mut h, "services_stop_confirm");
    h.keys(&["Enter"]);
    let project = world.console.find_project("web-shop").unwrap();
    assert_eq!(
        project.agents["kubernetes-engine"].status,
        kc_console::console::SaStatus::Inactive,
        "the same request as `service disable`"
    );
    assert!(h.render(120, 40).contains("⚪ stopped (agent Inactive)"));
    go(&mut h, "agents");
    snap(&mut h, "agents_inactive");
    go(&mut h, "dashboard");
    let frame = h.render(120, 40);
    assert!(frame.contains("Services in use   none"), "{frame}");
    // Started again, the same agent is Active.
    go(&mut h, "services");
    select(&mut h, "kubernetes-engine");
    h.keys(&["Enter", "Enter"]);
    go(&mut h, "agents");
    assert!(h.render(120, 40).contains("🟢 Active"));
}

fn choice_options(h: &Headless, label: &str) -> Vec<String> {
    match &open_form(h)
        .fields
        .iter()
        .find(|f| f.label == label)
        .unwrap()
        .input
    {
        FieldInput::Choice { options, .. } => options.clone(),
        other => panic!("{label} is not a choice: {other:?}"),
    }
}

#[test]
fn the_help_desk_form_offers_detailed_types_and_reads_an_attachment() {
    let world = World::new();
    let mut h = world.signed_in(DEV);
    go(&mut h, "helpdesk");
    h.keys(&["c"]);
    assert_eq!(
        choice_options(&h, "Detailed type"),
        [
            "Customer support › Account",
            "Customer support › Billing",
            "Customer support › Other"
        ]
    );
    h.keys(&["Right"]);
    assert_eq!(
        choice_options(&h, "Detailed type")[0],
        "Service › Project deletion",
        "the choices follow the inquiry type"
    );
    h.keys(&["Tab", "Right", "Tab", "Tab"]);
    h.type_text("API 응답이 느립니다");
    h.keys(&["Tab"]);
    h.type_text("details");
    h.keys(&["Tab", "Tab"]);
    let missing = world.dir.path().join("no-such-file.txt");
    h.type_text(missing.to_str().unwrap());
    h.keys(&["Enter"]);
    assert!(
        matches!(h.app.popup, Some(Popup::Form(_))),
        "a bad path keeps the form open"
    );
    let frame = h.render(120, 40);
    assert!(frame.contains("✗ cannot attach"), "{frame}");
    let good = world.dir.path().join("trace.log");
    std::fs::write(&good, "0123456789").unwrap();
    h.press(ctrl('u'));
    h.type_text(good.to_str().unwrap());
    h.keys(&["Enter"]);
    assert!(h.app.popup.is_none(), "{:?}", h.app.popup);
    let inquiry = world
        .console
        .list_inquiries(&world.actor(DEV))
        .unwrap()
        .into_iter()
        .find(|i| i.title == "API 응답이 느립니다")
        .expect("submitted");
    assert_eq!(inquiry.detail_type, "Usage");
    assert_eq!(
        inquiry.attachment.map(|a| (a.name, a.size)),
        Some(("trace.log".into(), 10))
    );
}

#[test]
fn a_deletion_request_is_service_project_deletion() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    select(&mut h, "data-lake");
    h.keys(&["d"]);
    let form = open_form(&h);
    assert_eq!(form.value("Inquiry type"), "Technical");
    assert_eq!(form.value("Detailed type"), "Service › Project deletion");
    snap(&mut h, "request_deletion_detailed_type");
}

/// A console whose server is out of reach keeps what it shows, read-only: a change is refused
/// with the reason and nothing is done; when the server is back, it reloads and works again.
#[test]
fn an_offline_console_keeps_its_screen_read_only_until_the_server_is_back() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    go(&mut h, "projects");
    let before = h.render(120, 40);
    h.send(Msg::Offline("connection refused".into()));
    assert!(h
        .app
        .log
        .iter()
        .any(|e| e.text.contains("out of reach (connection refused)")));
    assert_eq!(
        h.render(120, 40).lines().nth(4),
        before.lines().nth(4),
        "the table stays"
    );
    let offline = h.render(120, 40);
    assert!(offline.contains("offline: read-only"), "{offline}");
    let hints: Vec<String> = h
        .app
        .footer_rows(200)
        .concat()
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert!(
        !hints.iter().any(|l| l == "Create project" || l == "Edit"),
        "changes are not offered: {hints:?}"
    );
    let refused = |h: &Headless| {
        h.app
            .log
            .iter()
            .filter(|e| e.text.starts_with("Nothing was done: the server is out of reach"))
            .count()
    };
    h.keys(&["c"]);
    assert!(
        h.app.popup.is_none(),
        "no form opens for a change that cannot be made"
    );
    assert_eq!(refused(&h), 1, "the reason is said");
    // A screen never loaded says why it is empty; the password re-check waits for the server.
    go(&mut h, "members");
    assert!(h
        .render(120, 40)
        .contains("Not loaded: the server is out of reach."));
    go(&mut h, "credentials");
    h.keys(&["Enter"]);
    assert!(
        h.app.popup.is_none(),
        "no password is asked for that cannot be checked"
    );
    assert_eq!(refused(&h), 2);
    assert!(h.render(120, 40).contains("once the server is back"));
    go(&mut h, "projects");
    // Another project's screens would have to be loaded: switching waits too.
    h.keys(&["p"]);
    assert!(h.app.popup.is_none());
    go(&mut h, "project data-lake");
    assert_eq!(refused(&h), 4);
    assert_eq!(
        h.app.session.as_ref().unwrap().project_id(),
        world.console.find_project("web-shop").ok().map(|p| p.id)
    );

    // A form opened just before the server went away is refused when submitted.
    h.send(Msg::Online);
    h.keys(&["c"]);
    h.send(Msg::Offline("connection refused".into()));
    h.type_text("offline-proj");
    h.keys(&["Tab"]);
    h.type_text("오프라인");
    h.keys(&["Enter"]);
    assert_eq!(refused(&h), 5, "the change is refused with the reason");
    h.keys(&["Esc"]);
    let names = |w: &World| -> Vec<String> {
        w.console
            .list_projects(&w.actor(OWNER))
            .unwrap()
            .into_iter()
            .map(|v| v.project.name)
            .collect()
    };
    assert!(
        !names(&world).contains(&"offline-proj".to_string()),
        "nothing was done"
    );

    h.send(Msg::Online);
    assert!(h.app.log.iter().any(|e| e.text.contains("The server is back")));
    h.keys(&["c"]);
    h.type_text("online-proj");
    h.keys(&["Tab"]);
    h.type_text("온라인");
    h.keys(&["Enter"]);
    assert!(
        names(&world).contains(&"online-proj".to_string()),
        "it works again"
    );

    // Signing out forgets the lost server: the next session watches it afresh.
    h.send(Msg::Offline("connection refused".into()));
    h.keys(&["S"]);
    assert!(h.app.session.is_none());
    assert!(h.app.offline.is_none());
}

/// The footer's height depends on the screen, the role and the width only: filtering the
/// table empty or checking rows never moves the screen (at 80 columns the Service Account
/// screen's actions take two rows, with or without a row to act on).
#[test]
fn the_footer_keeps_its_height_while_rows_come_and_go() {
    let world = World::new();
    let mut h = world.signed_in(OWNER);
    h.render(80, 24);
    go(&mut h, "sa");
    let screen = Rect::new(0, 0, 80, 24);
    let body = h.app.areas(screen).expect("a frame").body;
    let height = h.app.footer_height(80);
    assert_eq!(height, 2, "{}", h.render(80, 24));
    assert_eq!(h.app.footer_rows(80).len(), 2);

    h.keys(&["Space"]);
    assert_eq!(h.app.footer_height(80), height, "a checked row");
    h.keys(&["Space"]);

    h.keys(&["/"]);
    h.type_text("no-such-account");
    h.keys(&["Enter"]);
    let table = h.app.table(Screen::ServiceAccounts).expect("a table");
    assert!(table.selected_key().is_none(), "the filter leaves no row");
    assert_eq!(h.app.footer_height(80), height, "no row selected");
    assert_eq!(
        h.app.areas(screen).expect("a frame").body,
        body,
        "the table did not move"
    );
    h.keys(&["Esc"]);

    // With rows checked, the longer label still fits the rows counted, at every width (a row
    // beyond them would not be drawn).
    h.keys(&["Space", "j", "Space"]);
    let table = h.app.table(Screen::ServiceAccounts).expect("a table");
    assert_eq!(table.marked(), 2, "two rows checked");
    let own = |rows: Vec<Vec<(String, String)>>| -> Vec<String> {
        let labels: Vec<String> = rows.concat().into_iter().map(|(_, label)| label).collect();
        ["(2 checked)", "Delete", "copy"]
            .iter()
            .filter(|want| labels.iter().any(|l| l.contains(*want)))
            .map(|want| want.to_string())
            .collect()
    };
    assert_eq!(
        own(h.app.footer_rows(500)).len(),
        3,
        "{:?}",
        h.app.footer_rows(500)
    );
    for columns in 60..=200 {
        h.render(columns, 40);
        let rows = h.app.footer_rows(columns);
        assert!(
            rows.len() <= h.app.footer_height(columns),
            "{columns} columns: {rows:?}"
        );
    }
}
