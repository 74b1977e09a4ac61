//! The command line: one enum of subcommands, one args struct each.
// The doc comments here are clap's --help text, shown as written: no
// Markdown backticks in them.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Parses the command line and the environment. An empty `CHAT_*` or
/// `TELEGRAM_*` variable counts as unset, so it means the default (a bare
/// `Environment=CHAT_PUBLIC_URL=` line in a unit file, a blank in an env
/// file). Call it first thing in `main`, before any thread starts: it
/// removes those variables from the process.
pub fn parse() -> Cli {
    for (name, value) in std::env::vars_os() {
        let ours = name
            .to_str()
            .is_some_and(|n| n.starts_with("CHAT_") || n.starts_with("TELEGRAM_"));
        if ours && value.is_empty() {
            std::env::remove_var(name);
        }
    }
    Cli::try_parse().unwrap_or_else(|e| exit_with(e))
}

#[derive(Debug, Parser)]
#[command(name = "shopchat", version, about = "Live chat for small online shops", long_about = None)]
pub struct Cli {
    /// The SQLite database file.
    #[arg(long, global = true, env = "CHAT_DB", default_value = "chat.db")]
    pub db: PathBuf,

    /// The manager acting in terminal commands (defaults to the only one).
    #[arg(long = "as", global = true, env = "CHAT_MANAGER", value_name = "ID")]
    pub as_manager: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

// One value, made once at start: a large variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database schema (idempotent).
    CreateTables,
    /// Run the HTTP server: widget API, admin API, widget, demo page, admin panel.
    Serve(ServeArgs),
    /// Add, list or remove managers.
    #[command(subcommand)]
    Managers(ManagersCommand),
    /// Add, list or revoke widget API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the Telegram bot and chats, or find their ids.
    #[command(subcommand)]
    Telegram(TelegramCommand),
    /// List chats, newest activity first (filters, --json).
    Sessions(SessionsArgs),
    /// Show one chat: its details and the whole transcript.
    Show(ShowArgs),
    /// Answer a chat as the acting manager (without TEXT: show the chat and ask).
    Reply(ReplyArgs),
    /// Close a chat (the visitor sees it closed).
    Close(CloseArgs),
    /// Open a closed or archived chat again.
    Reopen(CloseArgs),
    /// Assign a chat to a manager, or unassign it with `none`.
    Assign(AssignArgs),
    /// Numbers: chats, messages, today, first response time, per manager.
    Stats(StatsArgs),
    /// Interactive: pick a chat (awaiting reply first), read, reply, close, repeat.
    Inbox,
    /// Follow new messages as they arrive, like `tail -f` (Ctrl-C stops).
    Watch(WatchArgs),
    /// Copy the database consistently, even while the server runs.
    Backup(BackupArgs),
    /// Closed chats with no activity for DAYS days become archived.
    Archive(ArchiveArgs),
    /// Fill the database with realistic fake chats (demo, benchmarks).
    DemoData(DemoDataArgs),
    /// Show or change the shop's settings: time zone, hours, away mode, texts.
    #[command(subcommand)]
    Settings(SettingsCommand),
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every setting with its value (or default) and what it means.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Set one, e.g. `settings set timezone Europe/Kyiv`,
    /// `settings set hours "mon-fri 09:00-18:00, sat 10:00-14:00"`.
    Set {
        /// timezone, hours, away-after, away-reply or contact-first.
        key: String,
        /// The value (words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        value: Vec<String>,
    },
    /// Back to the default.
    Unset { key: String },
}

/// Every setting of `serve`: a flag, an environment variable and a default
/// each, so `shopchat serve --help` is the complete list. Values are kept as
/// typed; [`crate::config::ServeConfig::from_args`] checks them all before
/// any work and names the flag and the variable of a bad one. Booleans take
/// `1`, `0`, `true`, `false`, `yes`, `no`, `on` or `off`; an empty variable
/// counts as unset.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (0.0.0.0:8080 for all interfaces; port 0 picks a free one).
    #[arg(
        long,
        env = "CHAT_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR:PORT"
    )]
    pub bind: String,
    /// HTTP worker threads, each with its own database connection (1 to 256).
    #[arg(long, env = "CHAT_THREADS", default_value = "8", value_name = "N")]
    pub threads: String,
    /// Behind a reverse proxy: take the client address, for rate limits, from the last
    /// X-Forwarded-For entry. Never without a proxy: visitors could forge their address.
    #[arg(long, env = "CHAT_TRUST_PROXY", default_value = "false", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub trust_proxy: String,
    /// Widget API keys, comma-separated, besides those made with `shopchat keys add`
    /// [default: none]. Prefer the variable: command lines are visible to other users.
    #[arg(
        long,
        env = "CHAT_API_KEYS",
        hide_env_values = true,
        value_name = "KEY,..."
    )]
    pub api_keys: Option<String>,
    /// Origins allowed to call the public API from a browser, comma-separated; * allows any.
    #[arg(
        long,
        env = "CHAT_ALLOWED_ORIGINS",
        default_value = "*",
        value_name = "ORIGIN,..."
    )]
    pub allowed_origins: String,
    /// New chats per minute per client address; 0 turns the limit off.
    #[arg(
        long,
        env = "CHAT_SESSION_RATE",
        default_value = "10",
        value_name = "PER_MINUTE"
    )]
    pub session_rate: String,
    /// Visitor messages per second per chat (bursts of twice that); 0 turns the limit off.
    #[arg(
        long,
        env = "CHAT_MESSAGE_RATE",
        default_value = "5",
        value_name = "PER_SECOND"
    )]
    pub message_rate: String,
    /// This server's public URL, e.g. https://chat.shop.example: links in Telegram, the demo
    /// page's embed snippet, the webhook address [default: none].
    #[arg(long, env = "CHAT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// At most this many connections at once; past it the oldest idle, then the slowest
    /// one is closed to make room, else the newcomer gets 503 [default: derived from the
    /// open-file limit at start].
    #[arg(long, env = "CHAT_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<String>,
    /// Seconds a client has to send one whole request, headers and body.
    #[arg(
        long,
        env = "CHAT_REQUEST_TIMEOUT",
        default_value = "10",
        value_name = "SECONDS"
    )]
    pub request_timeout: String,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(
        long,
        env = "CHAT_IDLE_TIMEOUT",
        default_value = "5",
        value_name = "SECONDS"
    )]
    pub idle_timeout: String,
    /// On SIGTERM or SIGINT, the longest wait in seconds for requests in flight.
    #[arg(
        long,
        env = "CHAT_SHUTDOWN_GRACE",
        default_value = "10",
        value_name = "SECONDS"
    )]
    pub shutdown_grace: String,
    /// Exit with status 70 when the server has not answered itself for this many seconds, so
    /// a supervisor restarts it; 0 turns the watchdog off.
    #[arg(
        long,
        env = "CHAT_WATCHDOG",
        default_value = "30",
        value_name = "SECONDS"
    )]
    pub watchdog: String,
    /// No demo page and no demo key (production).
    #[arg(long, env = "CHAT_NO_DEMO", default_value = "false", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub no_demo: String,
    #[command(flatten)]
    pub telegram: TelegramArgs,
    #[command(flatten)]
    pub email: EmailArgs,
}

/// The Telegram settings, shared by `serve` and `shopchat telegram test|chats`.
/// Telegram is on when both the token and the chat ids are set.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Telegram")]
pub struct TelegramArgs {
    /// The bot's token from @BotFather [default: none, Telegram off]. Prefer the variable:
    /// command lines are visible to other users.
    #[arg(
        long = "telegram-bot-token",
        env = "TELEGRAM_BOT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub bot_token: Option<String>,
    /// The chats to notify, comma-separated: ids like -1001234567890, or @channelname
    /// [default: none, Telegram off].
    #[arg(
        long = "telegram-chat-id",
        env = "TELEGRAM_CHAT_ID",
        value_name = "ID,..."
    )]
    pub chat_id: Option<String>,
    /// The Bot API's address.
    #[arg(
        long = "telegram-api-base",
        env = "TELEGRAM_API_BASE",
        default_value = crate::telegram::DEFAULT_API_BASE,
        value_name = "URL"
    )]
    pub api_base: String,
    /// Webhook mode: Telegram posts updates to /api/telegram/webhook with this secret
    /// (needs --public-url on HTTPS) [default: none, getUpdates].
    #[arg(
        long = "telegram-webhook-secret",
        env = "TELEGRAM_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub webhook_secret: Option<String>,
    /// One forum topic per chat, in a forum supergroup.
    #[arg(long = "telegram-topics", env = "TELEGRAM_TOPICS", default_value = "false",
          num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_name = "BOOL")]
    pub topics: String,
    /// The CA certificates to check the Bot API's HTTPS with, a PEM file, as OpenSSL reads
    /// SSL_CERT_FILE [default: none, the system's store].
    #[arg(long = "telegram-ca-file", env = "SSL_CERT_FILE", value_name = "PEM")]
    pub ca_file: Option<String>,
}

/// Email follow-ups: a manager's answer the visitor has not seen within
/// `--email-after` goes to the email they left. Off without `--smtp-host`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Email follow-up (off unless --smtp-host is set)")]
pub struct EmailArgs {
    /// SMTP server that sends the follow-up emails [default: none, email off].
    #[arg(long, env = "CHAT_SMTP_HOST", value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// Its port [default: 587 with starttls, 465 with tls, 25 with none].
    #[arg(long, env = "CHAT_SMTP_PORT", value_name = "PORT")]
    pub smtp_port: Option<u16>,
    /// How the connection is secured: starttls, tls (implicit, port 465) or
    /// none (only for a relay on this machine).
    #[arg(long, env = "CHAT_SMTP_TLS", value_name = "MODE", default_value = "starttls",
        value_parser = ["starttls", "tls", "none"])]
    pub smtp_tls: String,
    /// SMTP user name, with --smtp-password [default: none, no login].
    #[arg(long, env = "CHAT_SMTP_USER", value_name = "USER")]
    pub smtp_user: Option<String>,
    /// SMTP password; prefer the variable: command lines are visible to other
    /// users [default: none].
    #[arg(
        long,
        env = "CHAT_SMTP_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub smtp_password: Option<String>,
    /// The From address, e.g. "Clay & Linen <chat@shop.example>" [default: none;
    /// needed with --smtp-host].
    #[arg(long, env = "CHAT_EMAIL_FROM", value_name = "ADDRESS")]
    pub email_from: Option<String>,
    /// Seconds a manager's answer may stay unseen before it is emailed.
    #[arg(
        long,
        env = "CHAT_EMAIL_AFTER",
        value_name = "SECONDS",
        default_value_t = 600
    )]
    pub email_after: u64,
    /// The shop's name, said in the email [default: the From address's name].
    #[arg(long, env = "CHAT_SHOP_NAME", value_name = "NAME")]
    pub shop_name: Option<String>,
    /// The shop's page with the widget; the email links back to the chat there
    /// [default: CHAT_PUBLIC_URL's demo page].
    #[arg(long, env = "CHAT_SHOP_URL", value_name = "URL")]
    pub shop_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ManagersCommand {
    /// Add a manager and print their token (shown once).
    Add {
        /// Short id, e.g. alice (letters, digits, - and _).
        id: String,
        /// Name shown in the panel (defaults to the id).
        #[arg(long)]
        name: Option<String>,
        /// Telegram user id, to answer from Telegram.
        #[arg(long)]
        telegram_id: Option<i64>,
    },
    /// List managers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a manager; their chats become unassigned.
    Remove { id: String },
    /// Make a new token for a manager (the old one stops working).
    Token { id: String },
    /// Link a manager to a Telegram user id (or unlink with --unlink).
    Link {
        id: String,
        /// The Telegram user id.
        telegram_id: Option<i64>,
        #[arg(long, conflicts_with = "telegram_id")]
        unlink: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a widget API key and print it (shown once).
    Add {
        /// A label for the key, e.g. the shop's domain.
        label: String,
    },
    /// List keys (labels and first characters only).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: widgets using it get 401.
    Revoke { label: String },
}

#[derive(Debug, Subcommand)]
pub enum TelegramCommand {
    /// Send a test message to each chat in TELEGRAM_CHAT_ID and say what is wrong.
    Test {
        #[command(flatten)]
        telegram: TelegramArgs,
        /// This server's public URL (to say where `serve` registers the webhook) [default: none].
        #[arg(long, env = "CHAT_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
    },
    /// List the chats and people that wrote to the bot recently, with their ids
    /// (TELEGRAM_CHAT_ID may be unset).
    Chats {
        #[command(flatten)]
        telegram: TelegramArgs,
    },
}

/// Which chats a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFilter {
    Active,
    Closed,
    Archived,
    All,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Only chats with this status [default: all; active with --awaiting].
    #[arg(long, value_enum)]
    pub status: Option<StatusFilter>,
    /// Find by name (any case), phone (by digits: "+380 67" finds 38067...) or message text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only chats of this manager, or `none` for unassigned ones.
    #[arg(long, value_name = "ID|none")]
    pub manager: Option<String>,
    /// Only chats whose last message is the visitor's (open ones, unless
    /// --status says otherwise).
    #[arg(long)]
    pub awaiting: bool,
    /// At most this many chats.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub limit: u32,
    /// Print {sessions, total} as JSON, like GET /api/chat/sessions.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The chat's id, or a unique prefix of 4+ characters.
    pub id: String,
    /// Print {session, messages} as JSON, like GET /api/chat/sessions/:id.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The chat's id, or a unique prefix of 4+ characters.
    pub id: String,
    /// The reply (words are joined with spaces); `-` reads standard input;
    /// none shows the last messages and asks.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
    /// Print {message} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The chat's id, or a unique prefix of 4+ characters.
    pub id: String,
    /// Print {session} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The chat's id, or a unique prefix of 4+ characters.
    pub id: String,
    /// A manager id, or `none` to unassign.
    #[arg(value_name = "MANAGER|none")]
    pub manager: String,
    /// Print {session} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print the numbers as JSON, like GET /api/chat/stats.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Start from the first message in the database.
    #[arg(long, conflicts_with = "since")]
    pub from_start: bool,
    /// Start after this seq (default: only messages from now on).
    #[arg(long, value_name = "SEQ")]
    pub since: Option<u64>,
    /// One JSON message object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file).
    pub path: PathBuf,
    /// Overwrite PATH if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Archive closed chats with no activity for this many days.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=36500))]
    pub older_than: u32,
    /// Print {archived, olderThanDays} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoDataArgs {
    /// How many chats to make.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub sessions: u32,
    /// Messages per chat on average (each chat gets 1 to 2M-1).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub messages: u32,
    /// The same seed makes the same chats (names, texts, ids).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Spread the chats over this many days before now.
    #[arg(long, default_value_t = 42, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
}

/// Prints a parse error (or --help, --version) and exits as clap would,
/// but without the global options in the usage line: clap repeats the
/// options it saw there (`Usage: shopchat show --db <DB> <ID>`), which
/// reads as if `--db` were required.
pub fn exit_with(e: clap::Error) -> ! {
    use std::io::Write;
    if !e.use_stderr() {
        e.exit();
    }
    let text = e.render().to_string();
    let fixed: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("Usage:") {
                l.replace(" --db <DB>", "").replace(" --as <ID>", "")
            } else {
                l.to_string()
            }
        })
        .collect();
    let _ = writeln!(std::io::stderr(), "{}", fixed.join("\n"));
    std::process::exit(e.exit_code());
}
