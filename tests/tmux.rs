//! The console in a real terminal (tmux): start, sign in, create a project, see it listed,
//! quit, and find the terminal restored. `.ci/run` installs tmux.

mod support;

use support::tmux::Tmux;

#[test]
fn sign_in_create_a_project_and_quit_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("create", 100, 30, dir.path());
    // First start fills the empty directory with the demo organization, then signs in.
    tmux.wait_for("Sign in");
    tmux.type_text("owner@pangyo.example");
    tmux.keys(&["Tab"]);
    tmux.type_text("owner-demo-pw");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Go to Project Management");

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
    tmux.wait_for("Sign in");
    tmux.type_text("owner@pangyo.example");
    tmux.keys(&["Tab"]);
    tmux.type_text("not-the-password");
    tmux.keys(&["Enter"]);
    tmux.wait_for("wrong email or password");
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
}
