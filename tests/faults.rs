//! Faults of the file system: a full disk and a read-only data directory, made real with a
//! small tmpfs (this needs root, which CI has here; elsewhere the test says so and stops).
//! Each fault gets a clear message and exit 7, leaves nothing half-written, and the console
//! works again once the fault is gone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kc-console");

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount {
    path: PathBuf,
}

impl Mount {
    fn new(size: &str) -> Option<Mount> {
        let path = tempfile::tempdir().unwrap().keep();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(Mount { path })
        } else {
            eprintln!("skipped: mounting a tmpfs needs root (CI runs this as root)");
            None
        }
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success(), "remount {mode}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
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
        .args(["--user", "admin@pangyo.example"])
        .env("KC_CONSOLE_PASSWORD", "admin-demo-pw")
        .args(args)
        .output()
        .unwrap()
}

fn service_accounts(dir: &Path) -> String {
    let out = kc(dir, &["--json", "sa", "list", "--project", "web-shop"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn refused_with_7(out: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_full_disk_refuses_changes_cleanly_and_service_resumes_when_space_is_freed() {
    let Some(mount) = Mount::new("16m") else {
        return;
    };
    let dir = mount.path.join("data");
    assert!(kc(&dir, &["init", "--demo"]).status.success());
    let before = service_accounts(&dir);

    // Fill what is left of the file system.
    let filler = mount.path.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", "count=64"])
        .arg(format!("of={}", filler.display()))
        .output();
    for name in ["full-one", "full-two"] {
        let out = kc(&dir, &["sa", "create", "--project", "web-shop", "--name", name]);
        refused_with_7(&out, "disk is full");
    }

    std::fs::remove_file(&filler).unwrap();
    assert_eq!(service_accounts(&dir), before, "nothing was half-written");
    let out = kc(
        &dir,
        &["sa", "create", "--project", "web-shop", "--name", "after-free"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(service_accounts(&dir).contains("after-free"));
}

#[test]
fn a_read_only_data_directory_is_refused_clearly_and_works_again_when_writable() {
    let Some(mount) = Mount::new("16m") else {
        return;
    };
    let dir = mount.path.join("data");
    assert!(kc(&dir, &["init", "--demo"]).status.success());
    let before = service_accounts(&dir);

    mount.remount("ro");
    refused_with_7(&kc(&dir, &["sa", "list", "--project", "web-shop"]), "read-only");
    refused_with_7(
        &kc(
            &dir,
            &["sa", "create", "--project", "web-shop", "--name", "ro-bot"],
        ),
        "read-only",
    );

    mount.remount("rw");
    assert_eq!(service_accounts(&dir), before, "nothing changed while read-only");
    let out = kc(
        &dir,
        &["sa", "create", "--project", "web-shop", "--name", "rw-bot"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_wide_data_directory_on_a_read_only_file_system_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let Some(mount) = Mount::new("16m") else {
        return;
    };
    let dir = mount.path.join("data");
    assert!(kc(&dir, &["init", "--demo"]).status.success());
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    mount.remount("ro");
    let out = kc(&dir, &["sa", "list", "--project", "web-shop"]);
    refused_with_7(&out, &dir.display().to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mode 755") && stderr.contains("read-only"),
        "{stderr}"
    );
    assert!(stderr.contains("writable"), "the message gives the fix: {stderr}");

    mount.remount("rw");
    assert!(kc(&dir, &["sa", "list", "--project", "web-shop"])
        .status
        .success());
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "made private once it could be");
}
