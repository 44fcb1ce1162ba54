//! Command lines the CLI tests give often, and the start-up lines of the processes they run.
//! Each test file takes what it needs of these.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc::{channel, Receiver};

/// `credential create --kind KIND --project PROJECT --name NAME`, then `extra`.
pub fn create_key<'a>(kind: &'a str, project: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "credential",
        "create",
        "--kind",
        kind,
        "--project",
        project,
        "--name",
        name,
    ];
    args.extend_from_slice(extra);
    args
}

/// `--json token issue --access-key-id KEY_ID --secret-stdin`: needs no sign-in (the key is the
/// credential), the secret on standard input.
pub fn token_issue(key_id: &str) -> [&str; 6] {
    [
        "--json",
        "token",
        "issue",
        "--access-key-id",
        key_id,
        "--secret-stdin",
    ]
}

/// The lines `child` writes to its standard error (which must be piped), as they come; read to
/// the end, so the child never blocks on a full pipe.
pub fn stderr_lines(child: &mut Child) -> Receiver<String> {
    let stderr = child.stderr.take().expect("standard error is piped");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}
