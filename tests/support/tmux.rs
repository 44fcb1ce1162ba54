//! A real terminal for the end-to-end tests: tmux on a socket of its own, the console started
//! on a data directory, keys in, screen text out.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_kc-console");

/// The sign-in screen's title. "Sign in" alone also appears in the first start's last words,
/// which stay on the terminal until the console takes it: keys typed then reach the terminal in
/// line mode, where Enter becomes a line feed (Ctrl-J to the console) and is lost.
pub const SIGN_IN_SCREEN: &str = "KakaoCloud console · Sign in";

pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// The console in a tmux session of its own on `data_dir`, which gets the demo organization
    /// first when it holds none (kc-console never fills an empty directory by itself).
    pub fn start(name: &str, width: u16, height: u16, data_dir: &Path) -> Tmux {
        if !data_dir.join("kc-console.initialized").exists() {
            let made = Command::new(BINARY)
                .arg("--data-dir")
                .arg(data_dir)
                .args(["init", "--demo"])
                .env_remove("KC_CONSOLE_DATA_DIR")
                .output()
                .expect("kc-console init --demo");
            assert!(made.status.success(), "init --demo: {made:?}");
        }
        Tmux::start_as_is(name, width, height, data_dir)
    }

    /// The console in a tmux session of its own on `data_dir` as it is (perhaps without an
    /// organization: the console's first start then offers the choice).
    pub fn start_as_is(name: &str, width: u16, height: u16, data_dir: &Path) -> Tmux {
        let socket = format!("kc-test-{}-{name}", std::process::id());
        let tmux = Tmux { socket };
        // No display: the system clipboard is unavailable, so copying must fall back to OSC 52.
        // No config file: the defaults, whatever the machine's own config says.
        let script = format!(
            "echo BEFORE-CONSOLE; env -u KC_CONSOLE_USER -u KC_CONSOLE_PASSWORD -u DISPLAY -u WAYLAND_DISPLAY TZ=UTC KC_CONSOLE_CONFIG={}/no-config.toml {BINARY} --data-dir {}; echo EXIT=$?",
            data_dir.display(),
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

    /// Signs in on the sign-in screen as `email` and waits for the Dashboard.
    pub fn sign_in(&self, email: &str, password: &str) {
        self.wait_for(SIGN_IN_SCREEN);
        self.type_text(email);
        self.keys(&["Tab"]);
        self.type_text(password);
        self.keys(&["Enter"]);
        self.wait_for("Go to Project Management");
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "capture-pane",
                "-p",
                "-J",
                "-S",
                "-",
                "-t",
                "t",
            ])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    pub fn type_text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t", "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Waits until `done` holds for the screen, or fails showing the last screen. The screen
    /// must read the same twice running: a frame goes out in several writes, and a capture
    /// between them shows half of it (a closed popup's title gone, its body still there).
    pub fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        loop {
            let screen = self.screen();
            if screen == last && done(&screen) {
                return screen;
            }
            last = screen;
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen was:\n{last}");
            }
            sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
