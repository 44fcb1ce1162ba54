//! The command line (`spec/cli.md`): a scriptable face of the model. Each command signs in,
//! calls one model method, and prints the result as a table or, with `--json`, as JSON.

mod access;
mod admin;
mod first_start;
mod helpdesk;
mod keys;
mod lines;
pub mod output;
mod projects;
mod service_accounts;
mod session;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use serde::de::DeserializeOwned;

use crate::console::sessions::SESSION_OVER;
use crate::console::validate::TEXT_INPUT_MAX;
use crate::console::{Config, Console, Error, Result, Secret};
use crate::org::{self, saved, Auth, Org, Request};
use crate::server;
use crate::tui::{self, Start};
use lines::Line;

/// The longest line read from standard input, in bytes: longer than any password or secret, so
/// the model still says what is wrong with one too long.
const STDIN_LINE_MAX: usize = TEXT_INPUT_MAX;
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
    /// so keys made on screen work at once; other consoles and commands on this machine then
    /// share the organization through the data directory's socket
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,
    /// Use the kc-console server at URL (http://127.0.0.1:PORT on this machine, https://HOST:PORT
    /// elsewhere) instead of a data directory
    #[arg(long, global = true, env = "KC_CONSOLE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The SHA-256 fingerprint of an https:// server's certificate, as the server printed it
    #[arg(
        long,
        global = true,
        env = "KC_CONSOLE_SERVER_FINGERPRINT",
        value_name = "SHA256:HEX"
    )]
    pub server_fingerprint: Option<String>,
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
    /// Hold the data directory and serve it: other consoles and commands use it through its
    /// socket (or --listen-admin), API clients through the Keystone-compatible token API
    Serve {
        /// The token API's address, e.g. 127.0.0.1:5000
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Also answer consoles and commands on TCP at ADDR (TLS unless it is a loopback address)
        #[arg(long, value_name = "ADDR")]
        listen_admin: Option<String>,
    },
    /// Sign in once and keep a session for later commands (--user and the password)
    Login,
    /// End the kept session
    Logout,
    /// For whoever holds the data directory: unlock a user or reset a password
    Recover(session::RecoverArgs),
    /// Payment methods (Billing)
    #[command(subcommand)]
    Payment(admin::PaymentCmd),
    /// Users of the organization (Management › IAM › Users)
    #[command(subcommand)]
    User(admin::UserCmd),
    /// Change your own password (old and new on the first two lines of standard input)
    #[command(subcommand)]
    Password(admin::PasswordCmd),
    /// Members of a project (Project Management › Members)
    #[command(subcommand)]
    Member(projects::MemberCmd),
    /// Projects (Management › IAM › Projects)
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
    /// The simulated Help Desk operator (signs in as the operator)
    #[command(subcommand)]
    Helpdesk(helpdesk::HelpdeskCmd),
    /// The audit log, newest first
    #[command(subcommand)]
    Audit(access::AuditCmd),
}

/// What every command handler gets: the organization (embedded or through its server) and
/// the global options, with the sign-in made once, when the first request needs it.
pub struct Context {
    pub org: Box<dyn Org>,
    pub cli_user: Option<String>,
    pub password_stdin: bool,
    stdin_lines: Option<Vec<Line>>,
    auth: Option<Auth>,
    /// The auth is a session from `kc-console login` (so a password may stand in when it ended).
    saved_session: bool,
}

impl Context {
    fn new(org: Box<dyn Org>, cli_user: Option<String>, password_stdin: bool) -> Context {
        Context {
            org,
            cli_user,
            password_stdin,
            stdin_lines: None,
            auth: None,
            saved_session: false,
        }
    }

    /// Reads standard input once; commands take the password, secrets or both from it. A line
    /// is held to [`STDIN_LINE_MAX`] bytes, however much is sent.
    fn stdin_line(&mut self, index: usize, what: &str) -> Result<String> {
        let lines = self.stdin_lines.get_or_insert_with(|| {
            let mut input = std::io::stdin().lock();
            (0..3)
                .map_while(|_| {
                    lines::read_bounded_line(&mut input, STDIN_LINE_MAX)
                        .ok()
                        .flatten()
                })
                .collect()
        });
        let line = index + 1;
        match lines.get(index) {
            Some(Line::Read(bytes)) => String::from_utf8(bytes.clone())
                .map_err(|_| Error::Invalid(format!("line {line} of standard input is not UTF-8 text"))),
            Some(Line::TooLong) => Err(Error::Invalid(format!(
                "line {line} of standard input is longer than {STDIN_LINE_MAX} bytes"
            ))),
            None => Err(Error::Invalid(format!(
                "expected {what} on line {line} of standard input"
            ))),
        }
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

    fn email(&self) -> Result<String> {
        self.cli_user.clone().ok_or_else(|| {
            Error::Invalid(
                "this command needs a signed-in user: pass --user EMAIL (or set KC_CONSOLE_USER), or sign in once with `kc-console login`".into(),
            )
        })
    }

    fn password_auth(&mut self) -> Result<Auth> {
        let email = self.email()?;
        let password = Secret::new(self.password()?);
        Ok(Auth::Password { email, password })
    }

    /// How requests prove who sends them: a session kept by `kc-console login` for this
    /// organization (the one of `--user`, or the last signed in), else `--user` and a password.
    fn ensure_auth(&mut self) -> Result<()> {
        if self.auth.is_none() {
            let saved = saved::find(self.org.location(), self.cli_user.as_deref(), chrono::Utc::now())?;
            let auth = match saved {
                Some((_, session)) => {
                    self.saved_session = true;
                    Auth::Session { token: session.token }
                }
                None => self.password_auth()?,
            };
            self.auth = Some(auth);
        }
        Ok(())
    }

    /// Carries out one request as the signed-in user.
    pub fn call<T: DeserializeOwned>(&mut self, request: Request) -> Result<T> {
        self.ensure_auth()?;
        let request_again = self
            .saved_session
            .then(|| serde_json::to_value(&request).ok())
            .flatten();
        let auth = self.auth.as_ref().expect("ensured above");
        match org::call(self.org.as_ref(), auth, request) {
            // A kept session that has ended: a password, when there is one, stands in.
            Err(Error::Auth(m))
                if m == SESSION_OVER && request_again.is_some() && self.cli_user.is_some() =>
            {
                let auth = self.password_auth().map_err(|_| Error::Auth(m.clone()))?;
                self.saved_session = false;
                let request = serde_json::from_value(request_again.expect("checked"))
                    .map_err(|e| Error::Internal(e.to_string()))?;
                let result = org::call(self.org.as_ref(), &auth, request);
                self.auth = Some(auth);
                result
            }
            other => other,
        }
    }

    /// A request that needs no sign-in (a token issue carries its own key).
    pub fn call_anonymous<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        org::call(self.org.as_ref(), &Auth::None, request)
    }
}

/// `kc-console demo`: the console on a throwaway copy of the demo organization, signed in as
/// its owner. The copy is deleted on the way out.
fn demo(serve: &server::Options, no_mouse: bool) -> Result<String> {
    tui::require_terminal()?;
    let dir = tempfile::Builder::new()
        .prefix("kc-console-demo-")
        .tempdir()
        .map_err(|e| Error::Storage(format!("cannot create a throwaway data directory: {e}")))?;
    let console = Console::open(dir.path(), Config::from_env()?)?;
    console.load_demo()?;
    let owner = console.user_by_id(&console.organization()?.owner_id)?;
    let session = console.open_session(&Console::actor_for(&owner))?;
    let org = org::Embedded::new(Arc::new(console));
    interactive(Box::new(org), Start::Session(session.token), serve, no_mouse)
}

/// The interactive console on an organization, with the server beside it when `--serve` asks
/// for one and the data directory is held here (then other consoles, commands and API clients
/// share it through the server).
fn interactive(org: Box<dyn Org>, start: Start, serve: &server::Options, no_mouse: bool) -> Result<String> {
    let wants_server = serve.keystone.is_some() || serve.admin.is_some();
    let (notice, _server) = match (wants_server, org.local_console()) {
        (false, _) => (None, None),
        (true, Some(console)) => {
            let (started, background) = server::spawn(Arc::clone(console), serve)?;
            (Some(format!("Serving: {}", started.describe())), Some(background))
        }
        (true, None) => {
            return Err(Error::Conflict(format!(
                "{} is already served by a running kc-console server; open the console without --serve",
                org.location().key()
            )))
        }
    };
    tui::run(Arc::from(org), start, tui::Options { notice, no_mouse })?;
    Ok(String::new())
}

fn default_data_dir() -> Result<PathBuf> {
    dirs::data_dir().map(|d| d.join("kc-console")).ok_or_else(|| {
        Error::Invalid("no default data directory on this platform; pass --data-dir DIR".into())
    })
}

/// What a directory without an organization says, to every command but `init` and `demo`.
pub fn no_organization(dir: &std::path::Path) -> Error {
    Error::NotFound(format!(
        "{} holds no organization; create one with `kc-console init --org NAME --admin EMAIL` (or `kc-console init --demo` for the demo organization), or choose another --data-dir",
        crate::text::visible(&dir.display().to_string())
    ))
}

/// The organization a command works on: its server's, when one runs, else the data directory
/// opened here — which must already hold an organization (nothing is created on the way).
fn organization(target: &org::Target) -> Result<Box<dyn Org>> {
    if let Some(dir) = target.data_dir.as_deref().filter(|_| target.server.is_none()) {
        if !crate::store::Store::holds_database(dir) {
            return Err(no_organization(dir));
        }
    }
    let org = org::connect(target, Config::from_env()?)?;
    if let Some(console) = org.local_console() {
        if console.is_uninitialized()? {
            return Err(no_organization(console.store().dir()));
        }
    }
    Ok(org)
}

/// Runs one command and returns the text to print on stdout.
pub fn run(cli: Cli) -> Result<String> {
    let json = cli.json;
    let serve_options = server::Options {
        keystone: cli.serve.clone(),
        admin: None,
    };
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
        Some(Command::Demo { script: None, .. }) => return demo(&serve_options, cli.no_mouse),
        Some(Command::Config { .. }) => return Ok(tui::config::default_file().trim_end().to_string()),
        Some(command) => Some(command),
    };
    let data_dir = match (&cli.data_dir, &cli.server) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(default_data_dir()?),
    };
    if let Some(dir) = &data_dir {
        crate::log::init(dir)?;
    }
    let out = Output::new(json);
    // The commands that hold the data directory themselves.
    match command {
        Some(Command::Init(args)) => {
            let dir = data_dir.ok_or_else(|| {
                Error::Invalid("init makes a data directory here: pass --data-dir DIR, not --server".into())
            })?;
            if org::remote::Remote::to_socket_if_served(&dir)?.is_some() {
                return Err(Error::Conflict(format!(
                    "{} already holds an organization (its server is running); choose another --data-dir",
                    dir.display()
                )));
            }
            let console = Console::open(&dir, Config::from_env()?)?;
            let mut ctx = Context::new(
                Box::new(org::Embedded::new(Arc::new(console))),
                cli.user,
                cli.password_stdin,
            );
            return admin::init(&mut ctx, out, args);
        }
        Some(Command::Serve { listen, listen_admin }) => {
            let dir = data_dir.ok_or_else(|| {
                Error::Invalid("serve holds a data directory: pass --data-dir DIR, not --server".into())
            })?;
            if !crate::store::Store::holds_database(&dir) {
                return Err(no_organization(&dir));
            }
            let console = Console::open(&dir, Config::from_env()?)?;
            if console.is_uninitialized()? {
                return Err(no_organization(&dir));
            }
            server::run(
                console,
                &server::Options {
                    keystone: listen,
                    admin: listen_admin,
                },
            )?;
            return Ok(String::new());
        }
        _ => {}
    }
    // A server's pinned certificate, when this command gives none, is the one `login` kept.
    let fingerprint = match (&cli.server_fingerprint, &cli.server) {
        (Some(f), _) => Some(f.clone()),
        (None, Some(url)) => {
            saved::fingerprint(&org::Location::Server(url.trim_end_matches('/').to_string()))?
        }
        (None, None) => None,
    };
    let target = org::Target {
        data_dir,
        server: cli.server.clone(),
        fingerprint: fingerprint.clone(),
    };
    let Some(command) = command else {
        return tui_command(&target, cli.user, &serve_options, cli.no_mouse);
    };
    let org = organization(&target)?;
    let mut ctx = Context::new(org, cli.user, cli.password_stdin);
    match command {
        Command::Tui
        | Command::Demo { .. }
        | Command::Serve { .. }
        | Command::Init(_)
        | Command::Config { .. } => {
            unreachable!("handled above")
        }
        Command::Login => session::login(&mut ctx, out, fingerprint),
        Command::Logout => session::logout(&mut ctx, out),
        Command::Recover(args) => session::recover(&mut ctx, out, args),
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

/// The interactive console on the organization `target` names — a data directory (held here,
/// or through its running server) or a server's URL. It starts signed in with `--user` and
/// `KC_CONSOLE_PASSWORD`, else with the session `kc-console login` kept, else on the sign-in
/// screen.
fn tui_command(
    target: &org::Target,
    user: Option<String>,
    serve: &server::Options,
    no_mouse: bool,
) -> Result<String> {
    // A directory without an organization gets the choice: one never used, and one a first
    // start left with an empty database (an answer refused, then the questions abandoned).
    let (org, new_owner) = match (organization(target), target.data_dir.as_deref()) {
        (Err(Error::NotFound(_)), Some(dir)) if target.server.is_none() => match first_start::offer(dir)? {
            Some(first_start::Created::Demo) => (organization(target)?, None),
            Some(first_start::Created::Organization { owner }) => (organization(target)?, Some(owner)),
            None => return Ok("Nothing was created.".into()),
        },
        (org, _) => (org?, None),
    };
    // A new organization's owner is the one to sign in, unless --user names someone else.
    let user = user.or(new_owner);
    let saved = saved::find(org.location(), user.as_deref(), chrono::Utc::now())?;
    let start = match (user, std::env::var("KC_CONSOLE_PASSWORD"), saved) {
        (Some(email), Ok(password), _) => Start::Password {
            email,
            password: Secret::new(password),
        },
        (_, _, Some((_, session))) => Start::Session(session.token),
        (email, _, None) => Start::SignIn { email },
    };
    interactive(org, start, serve, no_mouse)
}
