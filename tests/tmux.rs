//! The console in a real terminal (tmux): start, sign in, create a project, see it listed,
//! quit, and find the terminal restored. `.ci/run` installs tmux.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, width: u16, height: u16, data_dir: &Path) -> Tmux {
        let socket = format!("kc-test-{}-{name}", std::process::id());
        let tmux = Tmux { socket };
        let binary = env!("CARGO_BIN_EXE_kc-console");
        // A shell that prints a marker first, so we can see the primary screen come back.
        let script = format!(
            "echo BEFORE-CONSOLE; env -u KC_CONSOLE_USER -u KC_CONSOLE_PASSWORD TZ=UTC {binary} --data-dir {}; echo EXIT=$?",
            data_dir.display()
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &tmux.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
            ])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .args(["sh", "-c", &format!("{script}; sleep 30")])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux must be installed (.ci/run installs it)");
        assert!(status.success(), "tmux could not start");
        tmux
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "t"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    fn type_text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t", "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Waits until the screen contains `text`, or fails showing the last screen.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {text:?}; the screen was:\n{screen}");
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

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
