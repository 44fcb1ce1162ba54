use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
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
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = e.to_string();
            let first = rendered.lines().next().unwrap_or("invalid usage");
            let message = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("kc-console: {message} (see kc-console --help)");
            ExitCode::from(2)
        }
    }
}
