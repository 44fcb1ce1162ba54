//! Every bundled walkthrough, played headless against the real console: any unmet `expect`
//! fails the test with its line number, and every `snapshot` step is an insta snapshot.

use std::sync::Once;

use kc_console::console::Console;
use kc_console::demo::{demo_config, play_headless, Script, BUNDLED};

fn utc() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("TZ", "UTC"));
}

/// Secrets never go into a committed snapshot: every run of 64 hex digits becomes `<secret>`.
fn redact(frame: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in frame.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() == 64 {
            out.push_str(&format!("{:<64}", "<secret>"));
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[test]
fn every_bundled_walkthrough_plays_and_meets_its_expectations() {
    utc();
    assert!(BUNDLED.len() >= 5);
    for (name, text) in BUNDLED {
        let script = Script::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dir = tempfile::tempdir().unwrap();
        let console = Console::open(dir.path(), demo_config()).unwrap();
        console.load_demo().unwrap();
        let frames = play_headless(&console, &script).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!frames.is_empty(), "{name} takes at least one snapshot");
        for (step, frame) in frames {
            insta::assert_snapshot!(format!("{name}-{step}"), redact(&frame));
        }
    }
}

#[test]
fn a_bad_step_is_refused_with_its_line_number() {
    let e = Script::parse("title x\n\n# fine\npress Enter\njump 3\n").unwrap_err();
    assert!(e.message().starts_with("line 5: unknown step \"jump\""), "{e}");
    let e = Script::parse("title x\npress Nope\n").unwrap_err();
    assert!(
        e.message().contains("line 2") && e.message().contains("Nope"),
        "{e}"
    );
    let e = Script::parse("title x\nwait soon\n").unwrap_err();
    assert!(e.message().contains("line 2"), "{e}");
    let e = Script::parse("press Enter\n").unwrap_err();
    assert!(e.message().contains("title"), "{e}");
}

#[test]
fn an_unmet_expectation_fails_the_walkthrough_naming_its_line() {
    utc();
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), demo_config()).unwrap();
    console.load_demo().unwrap();
    let script =
        Script::parse("title x\ntype :projects\npress Enter\nexpect no such text anywhere\n").unwrap();
    let e = play_headless(&console, &script).unwrap_err();
    assert!(
        e.message()
            .starts_with("line 4: expected \"no such text anywhere\""),
        "{e}"
    );
}

#[test]
fn redaction_replaces_only_whole_secrets() {
    let secret = "ab".repeat(32);
    let id = "cd".repeat(16);
    let frame = format!("Secret: {secret}\nID: {id}");
    let redacted = redact(&frame);
    assert!(!redacted.contains(&secret));
    assert!(redacted.contains(&id));
}
