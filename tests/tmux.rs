//! The console in a real terminal (tmux): start, sign in, create a project, see it listed,
//! quit, and find the terminal restored. `.ci/run` installs tmux.

mod support;

use support::tmux::{Tmux, SIGN_IN_SCREEN};

#[test]
fn sign_in_create_a_project_and_quit_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("create", 100, 30, dir.path());
    // First start fills the empty directory with the demo organization, then signs in.
    tmux.sign_in("owner@pangyo.example", "owner-demo-pw");

    tmux.type_text(":projects");
    tmux.keys(&["Enter"]);
    tmux.wait_for("IAM › Projects");
    tmux.keys(&["c"]);
    tmux.wait_for("Create project");
    tmux.type_text("tmux-proj");
    tmux.keys(&["Tab"]);
    tmux.type_text("터미널 프로젝트");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Created project");
    assert!(
        screen.contains("tmux-proj"),
        "the new project is listed:\n{screen}"
    );
    assert!(
        screen.contains("터미널 프로젝트"),
        "with its Korean nickname:\n{screen}"
    );

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "the console exits 0:\n{screen}");
    assert!(
        screen.contains("BEFORE-CONSOLE"),
        "the primary screen is back:\n{screen}"
    );
    assert!(
        !screen.contains("IAM › Projects"),
        "nothing of the console is left on screen:\n{screen}"
    );
}

#[test]
fn wrong_password_is_refused_on_the_sign_in_screen() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("wrong", 80, 24, dir.path());
    tmux.wait_for(SIGN_IN_SCREEN);
    tmux.type_text("owner@pangyo.example");
    tmux.keys(&["Tab"]);
    tmux.type_text("not-the-password");
    tmux.keys(&["Enter"]);
    tmux.wait_for("wrong email or password");
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
}

/// A left click at column `x`, row `y` (zero-based), as a terminal with SGR mouse reporting
/// sends it: the press and the release, written into the pane as input.
fn click(tmux: &Tmux, x: u16, y: u16) {
    let (x, y) = (x + 1, y + 1);
    tmux.type_text(&format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m"));
}

/// One turn of the wheel at column `x`, row `y` (zero-based).
fn wheel(tmux: &Tmux, x: u16, y: u16, down: bool) {
    let button = if down { 65 } else { 64 };
    tmux.type_text(&format!("\x1b[<{button};{};{}M", x + 1, y + 1));
}

/// Signs in as the owner on a fresh data directory.
fn signed_in(name: &str, width: u16, height: u16) -> (Tmux, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(name, width, height, dir.path());
    tmux.sign_in("owner@pangyo.example", "owner-demo-pw");
    (tmux, dir)
}

#[test]
fn the_mouse_opens_menus_selects_rows_sorts_and_scrolls_in_a_real_terminal() {
    let (tmux, _dir) = signed_in("mouse", 120, 40);
    // The menu entry "Projects" is row 4 (the "IAM" heading is row 3).
    click(&tmux, 6, 4);
    // The title comes at once, the rows after a worker has read them: a click before then
    // would find no row to select.
    let screen = tmux.wait_until("the projects listed", |s| {
        s.contains("IAM › Projects") && s.contains("3 rows")
    });
    assert!(
        screen.lines().any(|l| l.contains("│▶ ")),
        "a row is selected:\n{screen}"
    );
    // The third project (rows start under the header on row 3).
    click(&tmux, 40, 6);
    let screen = tmux.wait_until("the third row to be selected", |s| {
        let rows: Vec<&str> = s.lines().collect();
        rows.get(6).is_some_and(|r| r.contains("│▶ "))
    });
    assert!(
        !screen.lines().nth(4).unwrap_or_default().contains("│▶ "),
        "{screen}"
    );
    // A click on the NAME header sorts by it.
    click(&tmux, 42, 3);
    tmux.wait_for("sorted by NAME ▲");
    // The wheel moves the selection.
    tmux.keys(&["g"]);
    wheel(&tmux, 40, 6, true);
    tmux.wait_until("the wheel to move the selection", |s| {
        s.lines().nth(6).is_some_and(|r| r.contains("│▶ "))
    });
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains("[<0;"),
        "no mouse report leaked onto the screen:\n{screen}"
    );
}

#[test]
fn ctrl_c_over_a_one_time_secret_asks_before_quitting() {
    let (tmux, _dir) = signed_in("ctrlc", 100, 30);
    tmux.type_text(":users");
    tmux.keys(&["Enter"]);
    tmux.wait_for("IAM › Users");
    tmux.keys(&["c"]);
    tmux.wait_for("Add user");
    tmux.type_text("newbie@pangyo.example");
    tmux.keys(&["Tab"]);
    tmux.type_text("Newbie");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Initial password:");
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("Quit now?");
    assert!(
        screen.contains("unless you have saved it, it is lost"),
        "{screen}"
    );
    assert!(!screen.contains("EXIT="), "still running:\n{screen}");
    tmux.keys(&["n"]);
    tmux.wait_until("the question to go", |s| {
        !s.contains("Quit now?") && s.contains("Initial password:")
    });
    tmux.keys(&["C-c"]);
    tmux.wait_for("Quit now?");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains("Initial password:"),
        "the terminal is restored:\n{screen}"
    );
}

/// Waits for the first start's `prompt`, then types `text` and Enter.
fn answer(tmux: &Tmux, prompt: &str, text: &str) {
    tmux.wait_for(prompt);
    tmux.type_text(text);
    tmux.keys(&["Enter"]);
}

/// At the first start's choice: a new organization named `org`, an e-mail the model refuses,
/// and a password typed twice; returns once the refusal is said.
fn choose_a_new_organization_with_a_bad_email(tmux: &Tmux, org: &str) {
    answer(tmux, "Choose 1, 2 or q", "2");
    answer(tmux, "Organization name", org);
    answer(tmux, "Your e-mail", "not-an-email");
    for prompt in ["Password:", "The same password again"] {
        answer(tmux, prompt, "first-start-pw-1");
    }
    tmux.wait_for("nothing was created. Again:");
}

/// The first start ended, saying it created nothing, with exit 0.
fn left_creating_nothing(tmux: &Tmux) {
    let screen = tmux.wait_for("EXIT=");
    assert!(
        screen.contains("Nothing was created.") && screen.contains("EXIT=0"),
        "{screen}"
    );
}

#[test]
fn a_first_start_offers_the_choice_and_creates_only_what_is_chosen() {
    let root = tempfile::tempdir().unwrap();

    // q: nothing is created, not even the directory's database.
    let dir = root.path().join("mistyped");
    let tmux = Tmux::start_as_is("first-q", 100, 30, &dir);
    answer(&tmux, "holds no organization yet", "q");
    left_creating_nothing(&tmux);
    assert!(!dir.join("db").exists(), "q creates no database");

    // An over-long answer is asked again; Ctrl-C at the hidden password leaves, creating
    // nothing.
    let dir = root.path().join("interrupted");
    let tmux = Tmux::start_as_is("first-interrupted", 100, 30, &dir);
    answer(&tmux, "Choose 1, 2 or q", "2");
    answer(&tmux, "Organization name", &"A".repeat(300));
    answer(
        &tmux,
        "An answer is at most 256 characters; again.",
        "Interrupted",
    );
    answer(&tmux, "Your e-mail", "owner@interrupted.example");
    tmux.wait_for("Password:");
    tmux.type_text("half-typed");
    tmux.keys(&["C-c"]);
    left_creating_nothing(&tmux);
    assert!(!dir.exists(), "Ctrl-C creates nothing, not even the directory");

    // A refused answer, then the questions abandoned (Ctrl-D): the next start offers the
    // choice again, though the refused answer had opened the database.
    let dir = root.path().join("abandoned");
    let tmux = Tmux::start_as_is("first-abandoned", 100, 30, &dir);
    choose_a_new_organization_with_a_bad_email(&tmux, "Abandoned");
    tmux.keys(&["C-d"]);
    left_creating_nothing(&tmux);
    assert!(dir.join("db").exists(), "the refused answer opened the database");
    let tmux = Tmux::start_as_is("first-again", 100, 30, &dir);
    answer(&tmux, "holds no organization yet", "q");
    left_creating_nothing(&tmux);

    // 2: a new organization; the owner's password is typed without echo, twice.
    let dir = root.path().join("new-org");
    let tmux = Tmux::start_as_is("first-new", 100, 30, &dir);
    // A refused answer is said, creates nothing, and the questions come again.
    choose_a_new_organization_with_a_bad_email(&tmux, "판교 스타트업");
    tmux.type_text("판교 스타트업");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the e-mail asked again", |s| {
        s.matches("Your e-mail").count() == 2
    });
    tmux.type_text("founder@startup.example");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the password asked again", |s| {
        s.matches("Password:").count() == 2
    });
    tmux.type_text("first-start-pw-1");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the repeat asked again", |s| {
        s.matches("The same password again").count() == 2
    });
    tmux.type_text("first-start-pw-1");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Press Enter to open the console");
    assert!(
        !screen.contains("first-start-pw-1"),
        "the password is not echoed:\n{screen}"
    );
    assert!(screen.contains("helpdesk@kakaocloud.example"), "{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(SIGN_IN_SCREEN);
    assert!(
        screen.contains("founder@startup.example"),
        "the owner's e-mail is filled in:\n{screen}"
    );
    tmux.type_text("first-start-pw-1");
    tmux.keys(&["Enter"]);
    tmux.wait_for("판교 스타트업");
    tmux.keys(&["q"]);
    assert!(tmux.wait_for("EXIT=").contains("EXIT=0"));

    // 1: the demo organization, whose owner then signs in.
    let dir = root.path().join("demo");
    let tmux = Tmux::start_as_is("first-demo", 100, 30, &dir);
    answer(&tmux, "Choose 1, 2 or q", "1");
    tmux.wait_for("Sign in as its owner, owner@pangyo.example / owner-demo-pw");
    tmux.keys(&["Enter"]);
    tmux.sign_in("owner@pangyo.example", "owner-demo-pw");
    assert!(tmux.screen().contains("Pangyo Demo Co."));
}
