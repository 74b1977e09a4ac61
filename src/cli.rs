//! The command line: one enum of subcommands, one args struct each.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "CHAT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Worker threads, each with its own database connection.
    #[arg(long, env = "CHAT_THREADS", default_value_t = 8)]
    pub threads: usize,
    /// Take the client address from X-Forwarded-For (behind a reverse proxy).
    #[arg(long, env = "CHAT_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Most connections open at once [default: from the open-file limit].
    #[arg(long, env = "CHAT_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send one whole request (headers and body).
    #[arg(
        long,
        env = "CHAT_REQUEST_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub request_timeout: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(
        long,
        env = "CHAT_IDLE_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 5
    )]
    pub idle_timeout: u64,
    /// On SIGTERM, seconds to finish requests in flight before exiting.
    #[arg(
        long,
        env = "CHAT_SHUTDOWN_GRACE",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub shutdown_grace: u64,
    /// Exit (status 70) when the server has not answered itself for this
    /// many seconds, so a supervisor restarts it; 0 turns it off.
    #[arg(
        long,
        env = "CHAT_WATCHDOG",
        value_name = "SECONDS",
        default_value_t = 30
    )]
    pub watchdog: u64,
    /// Turn off the demo shop page and its key (production).
    #[arg(long, env = "CHAT_NO_DEMO")]
    pub no_demo: bool,
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
    Test,
    /// List the chats and people that wrote to the bot recently, with their ids.
    Chats,
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
