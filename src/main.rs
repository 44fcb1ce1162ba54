use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use kc_console::cli::{self, Cli};
use kc_console::text::visible;

/// The longest command-line argument (or `KC_CONSOLE_*` setting) accepted, in characters: more
/// than the longest field any command takes (inquiry details, 4,000 characters).
const ARGUMENT_MAX: usize = 4096;

fn main() -> ExitCode {
    // Before anything is created: every file and directory this process makes — the data
    // directory, sled's files and the snapshots it writes later, the lock, the log — is
    // private to its owner (0600 / 0700).
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    if let Some(refusal) = over_long_input() {
        eprintln!("kc-console: {refusal}");
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match cli::run(cli) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            if !text.is_empty() {
                let _ = writeln!(stdout, "{}", shown(&text));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kc-console: {}", visible(e.message()));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// The output with every line's hidden characters made visible, its line breaks kept: a last
/// guard for text that reached it without passing through the tables and fields of
/// `cli::output` (which also escape line breaks inside a value).
fn shown(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

/// Refuses an over-long argument or setting before anything parses it or opens the data
/// directory, so no such value reaches the model, a message or the audit log.
fn over_long_input() -> Option<String> {
    let too_long = |value: &std::ffi::OsStr| {
        let length = value.to_string_lossy().chars().count();
        (length > ARGUMENT_MAX).then_some(length)
    };
    for (position, argument) in std::env::args_os().enumerate().skip(1) {
        if let Some(length) = too_long(&argument) {
            return Some(format!(
                "argument {position} is {length} characters long; the limit is {ARGUMENT_MAX}"
            ));
        }
    }
    for (name, value) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("KC_CONSOLE_") {
            if let Some(length) = too_long(&value) {
                return Some(format!(
                    "{} is {length} characters long; the limit is {ARGUMENT_MAX}",
                    visible(&name)
                ));
            }
        }
    }
    None
}

/// Help and version print as usual; every usage error becomes one line on stderr, exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("kc-console: {}", missing_subcommand());
            ExitCode::from(2)
        }
        _ => {
            eprintln!("kc-console: {}", visible(&one_line(&e.to_string())));
            ExitCode::from(2)
        }
    }
}

/// clap's message up to its usage block, on one line: "error: the following required
/// arguments were not provided:\n  --project <PROJECT>\n\nUsage: …" becomes "the following
/// required arguments were not provided: --project <PROJECT> (see kc-console --help)".
fn one_line(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message} (see kc-console --help)")
}

/// "kc-console sa" alone: name the group and the subcommands it has.
fn missing_subcommand() -> String {
    let command = Cli::command();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let group = args.iter().find_map(|a| command.find_subcommand(a)).map(|group| {
        let names: Vec<&str> = group.get_subcommands().map(|c| c.get_name()).collect();
        format!(
            "{} needs a subcommand: {} (see kc-console {} --help)",
            group.get_name(),
            names.join(", "),
            group.get_name()
        )
    });
    group.unwrap_or_else(|| "a command is required (see kc-console --help)".into())
}
