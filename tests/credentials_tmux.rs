//! Profile › Credentials in a real terminal (tmux, a socket of its own): pass the password
//! gate, create an IAM access key, read its ID and secret off the screen, copy the secret (with
//! no display the console must say honestly that it asked the terminal via OSC 52), close the
//! one-time popup, and find the secret gone from the screen while the ID stays listed. Then,
//! with the console quit, the CLI proves the secret read off the screen issues a token.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use support::tmux::{Tmux, BINARY};

/// The first run of exactly `len` lowercase hex digits following `label` on the screen.
fn hex_after(screen: &str, label: &str, len: usize) -> String {
    let start = screen
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} is on screen:\n{screen}"))
        + label.len();
    let value: String = screen[start..]
        .chars()
        .skip_while(|c| c.is_whitespace() || *c == '│')
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(
        value.len(),
        len,
        "{label:?} is followed by {len} hex digits:\n{screen}"
    );
    assert!(value.chars().all(|c| !c.is_ascii_uppercase()));
    value
}

/// `kc-console --data-dir D token issue --access-key-id ID --secret-stdin`, secret on stdin.
fn issue_token(data_dir: &Path, key_id: &str, secret: &str) -> std::process::Output {
    let mut child = Command::new(BINARY)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["token", "issue", "--access-key-id", key_id, "--secret-stdin"])
        .env_remove("KC_CONSOLE_USER")
        .env_remove("KC_CONSOLE_PASSWORD")
        .env_remove("KC_CONSOLE_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kc-console runs");
    child
        .stdin
        .take()
        .expect("a stdin pipe")
        .write_all(format!("{secret}\n").as_bytes())
        .expect("the secret is written");
    child.wait_with_output().expect("kc-console finishes")
}

/// Signs in as the owner, passes the Credentials password gate, creates an IAM access key
/// named `name`, and returns the access key ID and the secret read off its one-time popup.
fn create_key(tmux: &Tmux, name: &str) -> (String, String) {
    // First start fills the empty directory with the demo organization.
    tmux.sign_in("owner@pangyo.example", "owner-demo-pw");

    // Credentials asks for the password again.
    tmux.type_text(":credentials");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Verify password");
    tmux.type_text("owner-demo-pw");
    tmux.keys(&["Enter"]);
    tmux.wait_until("the IAM access key tab", |s| {
        s.contains("(0 rows)") && !s.contains("Verify password")
    });

    // Create: the form opens on the Project choice, so Tab to the name first.
    tmux.keys(&["c"]);
    tmux.wait_for("Create IAM access key");
    tmux.type_text(name);
    tmux.wait_for(name);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Secret access key: ");
    let key_id = hex_after(&screen, "Access key ID: ", 32);
    let secret = hex_after(&screen, "Secret access key: ", 64);
    assert!(screen.contains("will not be able"), "{screen}");
    (key_id, secret)
}

#[test]
fn create_a_key_copy_its_secret_once_and_use_it_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("key", 100, 30, dir.path());
    let (key_id, secret) = create_key(&tmux, "tmux-key");

    // Copy: no system clipboard here, and the popup says so honestly (OSC 52).
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("OSC 52");
    assert!(
        screen.contains("No system clipboard here") && screen.contains("nothing was copied"),
        "the popup says what copying did:\n{screen}"
    );
    assert!(
        screen.contains("IAM access key created"),
        "still the popup:\n{screen}"
    );

    // Enter alone does not close; Space (saved) then Enter does.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Press Space to confirm");
    tmux.keys(&["Space"]);
    tmux.wait_for("[x] I have saved it");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_until("the popup to close", |s| {
        !s.contains("IAM access key created") && s.contains("(1 row)")
    });
    let hint = format!("{}…{}", &key_id[..4], &key_id[28..]);
    assert!(
        screen.contains(&hint) && !screen.contains(&key_id[..8]),
        "the key is listed by a hint of its ID only:\n{screen}"
    );
    // Its detail shows the hint, never the ID (the new key is the selected row).
    tmux.keys(&["i"]);
    let detail = tmux.wait_for("not retrievable");
    assert!(detail.contains(&hint) && !detail.contains(&key_id), "{detail}");
    assert!(!detail.contains(&secret[..12]), "{detail}");
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_until("the detail to close", |s| !s.contains("not retrievable"));
    assert!(screen.contains("tmux-key"), "{screen}");
    assert!(
        !screen.contains(&secret[..12]),
        "the secret is gone from the screen:\n{screen}"
    );

    // Other tabs and screens do not bring it back.
    tmux.keys(&["Tab"]);
    let screen = tmux.wait_for("[ S3 access key ]");
    assert!(!screen.contains(&secret[..12]), "{screen}");
    tmux.type_text(":audit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Audit log  (");
    assert!(!screen.contains(&secret[..12]), "{screen}");

    // Quit, so the data directory is free for the CLI.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "the console exits 0:\n{screen}");
    assert!(
        !screen.contains(&secret[..12]),
        "nothing of the secret is left in the terminal:\n{screen}"
    );

    let out = issue_token(dir.path(), &key_id, &secret);
    assert!(
        out.status.success(),
        "the secret read off the screen issues a token: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&secret),
        "the CLI does not echo the secret"
    );

    // And a wrong secret does not.
    let mut wrong = secret.clone();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(63.., last);
    let out = issue_token(dir.path(), &key_id, &wrong);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a wrong secret is an authentication failure: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Inside tmux, OSC 52 reaches tmux's clipboard (and through it the outer terminal) when sent
/// plainly; tmux 3.3+ drops DCS-passthrough-wrapped sequences unless `allow-passthrough` is on.
#[test]
fn copy_reaches_the_tmux_clipboard() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("osc52", 100, 30, dir.path());
    let status = Command::new("tmux")
        .args(["-L", &tmux.socket, "set-option", "-g", "set-clipboard", "on"])
        .status()
        .expect("tmux set-option");
    assert!(status.success());
    let (_, secret) = create_key(&tmux, "osc-key");
    tmux.keys(&["s"]);
    tmux.wait_for("OSC 52");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = Command::new("tmux")
            .args(["-L", &tmux.socket, "show-buffer"])
            .output()
            .expect("tmux show-buffer");
        if String::from_utf8_lossy(&out.stdout) == secret {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "tmux's clipboard never received the secret (buffer: {:?})",
            String::from_utf8_lossy(&out.stdout).len()
        );
        sleep(Duration::from_millis(100));
    }
    tmux.keys(&["Space", "Enter", "q"]);
}
