//! The command line (`spec/cli.md`): a scriptable face of the model. Each command signs in,
//! calls one model method, and prints the result as a table or, with `--json`, as JSON.

mod access;
mod admin;
mod helpdesk;
mod keys;
pub mod output;
mod projects;
mod service_accounts;

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::api;
use crate::console::{Actor, Config, Console, Error, Result, Secret};
use crate::tui::{self, Start};
pub use output::Output;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "kc-console",
    version,
    about = "A terminal replica of the KakaoCloud console's IAM area",
    after_help = "With no command, opens the interactive console."
)]
pub struct Cli {
    /// Where the embedded database lives [default: the platform's data directory + kc-console]
    #[arg(long, global = true, env = "KC_CONSOLE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Sign in as this user
    #[arg(long, global = true, env = "KC_CONSOLE_USER", value_name = "EMAIL")]
    pub user: Option<String>,
    /// Read the password from the first line of standard input (else KC_CONSOLE_PASSWORD)
    #[arg(long, global = true)]
    pub password_stdin: bool,
    /// Print results as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// With the interactive console: also serve the token API at ADDR (e.g. 127.0.0.1:5000),
    /// so keys made on screen work at once
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,
    /// With the interactive console: leave the mouse to the terminal (the config file's
    /// `mouse = false` does the same for every run)
    #[arg(long, global = true)]
    pub no_mouse: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the interactive console (the default)
    Tui,
    /// Open the console on a throwaway copy of the demo organization, signed in as its owner;
    /// with SCRIPT, play that walkthrough (a bundled name or a file)
    Demo {
        script: Option<String>,
        /// List the bundled walkthroughs
        #[arg(long, conflicts_with = "script")]
        list: bool,
    },
    /// Create the data directory with the demo organization or an empty one
    Init(admin::InitArgs),
    /// The interactive console's config file
    Config {
        /// Print the documented default config file
        #[arg(long, required = true)]
        print_default: bool,
    },
    /// Serve the Keystone-compatible token API
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:5000
        #[arg(long, value_name = "ADDR")]
        listen: String,
    },
    /// Payment methods (Billing)
    #[command(subcommand)]
    Payment(admin::PaymentCmd),
    /// Users of the organization (IAM › Users)
    #[command(subcommand)]
    User(admin::UserCmd),
    /// Change your own password (old and new on the first two lines of standard input)
    #[command(subcommand)]
    Password(admin::PasswordCmd),
    /// Members of a project (Project Management › Members)
    #[command(subcommand)]
    Member(projects::MemberCmd),
    /// Projects (IAM › Projects)
    #[command(subcommand)]
    Project(projects::ProjectCmd),
    /// Your own IAM and S3 access keys (Profile › Credentials)
    #[command(subcommand)]
    Credential(keys::CredentialCmd),
    /// Service accounts (Project Management › Service Account)
    #[command(subcommand)]
    Sa(service_accounts::SaCmd),
    /// A service account's IAM access keys
    #[command(subcommand, name = "sa-key")]
    SaKey(service_accounts::SaKeyCmd),
    /// Start using a service in a project (creates its service agent)
    #[command(subcommand)]
    Service(service_accounts::ServiceCmd),
    /// Service agents (Project Management › Service Agent)
    #[command(subcommand)]
    Agent(service_accounts::AgentCmd),
    /// API tokens: issue for an access key, verify, revoke
    #[command(subcommand)]
    Token(keys::TokenCmd),
    /// Your Help Desk inquiries
    #[command(subcommand)]
    Inquiry(helpdesk::InquiryCmd),
    /// The simulated Help Desk operator (needs no sign-in)
    #[command(subcommand)]
    Helpdesk(helpdesk::HelpdeskCmd),
    /// The audit log, newest first
    #[command(subcommand)]
    Audit(access::AuditCmd),
}

/// What every command handler gets: the opened console and the global options.
pub struct Context {
    pub console: Console,
    pub cli_user: Option<String>,
    pub password_stdin: bool,
    stdin_lines: Option<Vec<String>>,
}

impl Context {
    /// Reads standard input once; commands take the password, secrets or both from it.
    fn stdin_line(&mut self, index: usize, what: &str) -> Result<String> {
        let lines = self.stdin_lines.get_or_insert_with(|| {
            std::io::stdin()
                .lock()
                .lines()
                .take(3)
                .map_while(|l| l.ok())
                .map(|l| l.trim_end_matches('\r').to_string())
                .collect()
        });
        lines
            .get(index)
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("expected {what} on line {} of standard input", index + 1)))
    }

    /// The password for signing in: first line of standard input, or KC_CONSOLE_PASSWORD.
    pub fn password(&mut self) -> Result<String> {
        if self.password_stdin {
            return self.stdin_line(0, "the password");
        }
        std::env::var("KC_CONSOLE_PASSWORD").map_err(|_| {
            Error::Invalid("no password: pass --password-stdin or set KC_CONSOLE_PASSWORD".into())
        })
    }

    /// Signs in with --user and the password.
    pub fn sign_in(&mut self) -> Result<Actor> {
        let email = self.cli_user.clone().ok_or_else(|| {
            Error::Invalid(
                "this command needs a signed-in user: pass --user EMAIL (or set KC_CONSOLE_USER)".into(),
            )
        })?;
        let password = self.password()?;
        self.console.sign_in(&email, &password)
    }
}

/// `kc-console demo`: the console on a throwaway copy of the demo organization, signed in as
/// its owner. The copy is deleted on the way out.
fn demo(serve: Option<&str>, no_mouse: bool) -> Result<String> {
    tui::require_terminal()?;
    let dir = tempfile::Builder::new()
        .prefix("kc-console-demo-")
        .tempdir()
        .map_err(|e| Error::Storage(format!("cannot create a throwaway data directory: {e}")))?;
    let console = Console::open(dir.path(), Config::default())?;
    console.load_demo()?;
    let owner = console.user_by_id(&console.organization()?.owner_id)?;
    interactive(
        console,
        Start::SignedIn(Console::actor_for(&owner)),
        serve,
        no_mouse,
    )
}

/// The interactive console, with the token API beside it when `--serve` asks for it.
fn interactive(console: Console, start: Start, serve: Option<&str>, no_mouse: bool) -> Result<String> {
    let console = Arc::new(console);
    let notice = match serve {
        Some(addr) => {
            let bound = api::spawn(Arc::clone(&console), addr)?;
            Some(format!("Token API: http://{bound}/identity/v3"))
        }
        None => None,
    };
    tui::run(console, start, tui::Options { notice, no_mouse })?;
    Ok(String::new())
}

fn default_data_dir() -> Result<PathBuf> {
    dirs::data_dir().map(|d| d.join("kc-console")).ok_or_else(|| {
        Error::Invalid("no default data directory on this platform; pass --data-dir DIR".into())
    })
}

/// Runs one command and returns the text to print on stdout.
pub fn run(cli: Cli) -> Result<String> {
    let json = cli.json;
    let command = match cli.command {
        None | Some(Command::Tui) => {
            tui::require_terminal()?;
            None
        }
        Some(Command::Demo { list: true, .. }) => {
            let lines: Vec<String> = crate::demo::list()?
                .into_iter()
                .map(|(name, title)| format!("{name:<18} {title}"))
                .collect();
            return Ok(lines.join("\n"));
        }
        Some(Command::Demo {
            script: Some(script), ..
        }) => {
            let script = crate::demo::Script::load(&script)?;
            crate::demo::live::play(&script)?;
            return Ok(String::new());
        }
        Some(Command::Demo { script: None, .. }) => return demo(cli.serve.as_deref(), cli.no_mouse),
        Some(Command::Config { .. }) => return Ok(tui::config::default_file().trim_end().to_string()),
        Some(command) => Some(command),
    };
    let data_dir = match cli.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    crate::log::init(&data_dir)?;
    let console = Console::open(&data_dir, Config::default())?;
    let is_init = matches!(command, Some(Command::Init(_)));
    if !is_init && console.is_uninitialized()? {
        console.load_demo()?;
        eprintln!(
            "kc-console: {} was empty, so it now holds the demo organization (see README for its users)",
            data_dir.display()
        );
    }
    let mut ctx = Context {
        console,
        cli_user: cli.user,
        password_stdin: cli.password_stdin,
        stdin_lines: None,
    };
    let Some(command) = command else {
        let start = match (ctx.cli_user.take(), std::env::var("KC_CONSOLE_PASSWORD")) {
            (Some(email), Ok(password)) => Start::Password {
                email,
                password: Secret::new(password),
            },
            (email, _) => Start::SignIn { email },
        };
        return interactive(ctx.console, start, cli.serve.as_deref(), cli.no_mouse);
    };
    if let Command::Serve { listen } = command {
        api::run(ctx.console, &listen)?;
        return Ok(String::new());
    }
    let out = Output::new(json);
    match command {
        Command::Tui | Command::Demo { .. } | Command::Serve { .. } | Command::Config { .. } => {
            unreachable!("handled above")
        }
        Command::Init(args) => admin::init(&mut ctx, out, args),
        Command::Payment(cmd) => admin::payment(&mut ctx, out, cmd),
        Command::User(cmd) => admin::user(&mut ctx, out, cmd),
        Command::Password(cmd) => admin::password(&mut ctx, out, cmd),
        Command::Member(cmd) => projects::member(&mut ctx, out, cmd),
        Command::Project(cmd) => projects::project(&mut ctx, out, cmd),
        Command::Credential(cmd) => keys::credential(&mut ctx, out, cmd),
        Command::Sa(cmd) => service_accounts::sa(&mut ctx, out, cmd),
        Command::SaKey(cmd) => service_accounts::sa_key(&mut ctx, out, cmd),
        Command::Service(cmd) => service_accounts::service(&mut ctx, out, cmd),
        Command::Agent(cmd) => service_accounts::agent(&mut ctx, out, cmd),
        Command::Token(cmd) => keys::token(&mut ctx, out, cmd),
        Command::Inquiry(cmd) => helpdesk::inquiry(&mut ctx, out, cmd),
        Command::Helpdesk(cmd) => helpdesk::helpdesk(&mut ctx, out, cmd),
        Command::Audit(cmd) => access::audit(&mut ctx, out, cmd),
    }
}
