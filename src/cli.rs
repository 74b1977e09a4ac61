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
