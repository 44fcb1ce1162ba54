use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use kc_console::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match cli::run(cli) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            if !text.is_empty() {
                let _ = writeln!(stdout, "{text}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kc-console: {}", e.message());
            ExitCode::from(e.exit_code() as u8)
        }
    }
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
            eprintln!("kc-console: {}", one_line(&e.to_string()));
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
