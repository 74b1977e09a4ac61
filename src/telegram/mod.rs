//! Telegram: its checked [`Config`], the [`Notify`] that writes
//! the durable outbox, and the background [`Service`] (outbox worker and
//! getUpdates reader) that `serve` runs. See docs/TELEGRAM.md.

pub mod client;
pub mod outbox;
pub mod text;
pub mod tls;
pub mod updates;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Transaction;

use crate::background::Threads;
use crate::chat::{Event, Notify};
use crate::cli::TelegramArgs;
use crate::config::{boolean, given, ConfigError};
use crate::error::Result;
use crate::store::telegram::{self as tg_store, Kind, NewRow};

/// The default Bot API address.
pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// Timings. The defaults suit Telegram; tests shrink them so fault tests
/// run in seconds.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// TCP connect timeout of every Bot API call.
    pub connect_timeout: Duration,
    /// Overall timeout of every Bot API call (at most 10 s).
    pub request_timeout: Duration,
    /// getUpdates long-poll wait; must be shorter than `request_timeout`.
    pub poll_timeout: Duration,
    /// First retry delay; doubles with each failed attempt.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// At most one message per this interval to one chat (Telegram: ~1/s).
    pub per_chat_interval: Duration,
    /// At most one message per this interval overall (Telegram: 30/s).
    pub global_interval: Duration,
    /// How often the idle worker looks at the outbox.
    pub idle_interval: Duration,
    /// Attempts before giving up on a message Telegram rejects as malformed (400).
    pub max_rejected_attempts: i64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            poll_timeout: Duration::from_secs(5),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_mins(5),
            per_chat_interval: Duration::from_secs(1),
            global_interval: Duration::from_millis(40),
            idle_interval: Duration::from_millis(250),
            max_rejected_attempts: 5,
        }
    }
}

/// Everything the Telegram side needs, checked.
#[derive(Clone)]
pub struct Config {
    pub token: String,
    /// The chats to notify, as configured: numeric ids or `@channel` names.
    pub chat_ids: Vec<String>,
    pub api_base: String,
    /// Webhook mode when set: updates arrive on POST /api/telegram/webhook.
    pub webhook_secret: Option<String>,
    /// Forum-topic mode: one topic per chat session.
    pub topics: bool,
    /// `CHAT_PUBLIC_URL`, for links to the admin panel.
    pub public_url: Option<String>,
    /// The CA certificates (a PEM bundle) to trust instead of the system's
    /// store: `--telegram-ca-file` / `SSL_CERT_FILE`. Tests set it here
    /// rather than in the process environment.
    pub ca_file: Option<PathBuf>,
    pub tuning: Tuning,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("token", &"<redacted>")
            .field("chat_ids", &self.chat_ids)
            .field("api_base", &self.api_base)
            .field("webhook", &self.webhook_secret.is_some())
            .field("topics", &self.topics)
            .field("public_url", &self.public_url)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Checks the Telegram settings, every one even when Telegram is off.
    /// `Ok(None)` when neither the token nor the chat ids are set (Telegram
    /// off); one without the other is an error. `public_url` is
    /// `CHAT_PUBLIC_URL`, already checked.
    pub fn from_args(
        args: &TelegramArgs,
        public_url: Option<String>,
    ) -> Result<Option<Config>, ConfigError> {
        let mut config = Config::bot_only(args)?;
        let chat_ids = match (
            given(args.bot_token.as_deref()),
            given(args.chat_id.as_deref()),
        ) {
            (Some(_), Some(c)) => c,
            (Some(_), None) => {
                return Err(ConfigError::Mismatch(
                    "TELEGRAM_BOT_TOKEN is set but TELEGRAM_CHAT_ID is not: set both (see docs/TELEGRAM.md) or neither".into(),
                ))
            }
            // (None, Some(_)) is refused by bot_only.
            _ => return Ok(None),
        };
        let chat_ids = crate::config::list(chat_ids);
        if chat_ids.is_empty() {
            return Err(ConfigError::Mismatch(
                "TELEGRAM_CHAT_ID lists no chat".into(),
            ));
        }
        if let Some(c) = chat_ids.iter().find(|c| !valid_chat_id(c)) {
            return Err(ConfigError::Invalid {
                setting: "--telegram-chat-id / TELEGRAM_CHAT_ID",
                value: c.clone(),
                expected: "chat ids like -1001234567890 or @channelname, comma-separated".into(),
                cause: None,
            });
        }
        config.chat_ids = chat_ids;
        config.public_url = public_url;
        Ok(Some(config))
    }

    /// The bot alone, without chats to notify: `shopchat telegram chats`
    /// uses it to find their ids. Checks every Telegram setting but the
    /// chat ids; the token may be missing only when the chat ids are too
    /// (then the token is empty and Telegram is off).
    pub fn bot_only(args: &TelegramArgs) -> Result<Config, ConfigError> {
        let token = match (
            given(args.bot_token.as_deref()),
            given(args.chat_id.as_deref()),
        ) {
            (Some(t), _) => check_token(t)?,
            (None, None) => String::new(),
            (None, Some(_)) => {
                return Err(ConfigError::Mismatch(
                    "TELEGRAM_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not: set both (see docs/TELEGRAM.md) or neither".into(),
                ))
            }
        };
        let api_base = given(Some(&args.api_base))
            .unwrap_or(DEFAULT_API_BASE)
            .trim_end_matches('/')
            .to_string();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                setting: "--telegram-api-base / TELEGRAM_API_BASE",
                value: api_base,
                expected: "a URL that starts with https:// or http://".into(),
                cause: None,
            });
        }
        let webhook_secret = given(args.webhook_secret.as_deref()).map(str::to_string);
        if let Some(s) = &webhook_secret {
            if s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(ConfigError::InvalidSecret {
                    setting: "--telegram-webhook-secret / TELEGRAM_WEBHOOK_SECRET",
                    expected: "1 to 256 of A-Z, a-z, 0-9, _ and - (Telegram's rule)".into(),
                });
            }
        }
        let config = Config {
            token,
            chat_ids: Vec::new(),
            api_base,
            webhook_secret,
            topics: boolean("--telegram-topics / TELEGRAM_TOPICS", &args.topics)?,
            public_url: None,
            ca_file: given(args.ca_file.as_deref()).map(PathBuf::from),
            tuning: Tuning::default(),
        };
        // The trust store is loaded once here, so a bad one stops `serve`
        // before it touches the database.
        if config.uses_tls() && !config.token.is_empty() {
            tls::client_config(config.ca_file.as_deref()).map_err(|cause| {
                ConfigError::Unusable {
                    what: "no CA certificates to check Telegram's HTTPS with (--telegram-ca-file / SSL_CERT_FILE)",
                    cause,
                }
            })?;
        }
        Ok(config)
    }

    /// Whether the Bot API is reached over HTTPS (a local Bot API server
    /// may be plain HTTP).
    pub fn uses_tls(&self) -> bool {
        self.api_base.starts_with("https://")
    }

    /// A configuration for tests: the fake Bot API at `api_base`, trusting
    /// the system's store until `ca_file` is set.
    pub fn for_tests(api_base: &str, token: &str, chat_ids: &[&str]) -> Config {
        Config {
            token: token.to_string(),
            chat_ids: chat_ids
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            api_base: api_base.trim_end_matches('/').to_string(),
            webhook_secret: None,
            topics: false,
            public_url: None,
            ca_file: None,
            tuning: Tuning::default(),
        }
    }

    pub fn webhook_mode(&self) -> bool {
        self.webhook_secret.is_some()
    }

    /// The configured id of an incoming message's chat, if it is one of ours.
    pub fn configured_chat(&self, id: i64, username: Option<&str>) -> Option<&str> {
        let id = id.to_string();
        self.chat_ids
            .iter()
            .find(|c| {
                **c == id
                    || username.is_some_and(|u| {
                        c.strip_prefix('@')
                            .is_some_and(|name| name.eq_ignore_ascii_case(u))
                    })
            })
            .map(String::as_str)
    }
}

/// A bot token: digits, ':', then letters, digits, `_` and `-`. Never
/// echoed: it is a secret.
fn check_token(token: &str) -> Result<String, ConfigError> {
    let (bot_id, rest) = token.split_once(':').unwrap_or(("", ""));
    let ok = !bot_id.is_empty()
        && bot_id.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(token.to_string())
    } else {
        Err(ConfigError::InvalidSecret {
            setting: "--telegram-bot-token / TELEGRAM_BOT_TOKEN",
            expected:
                "a bot token (digits, ':', then letters, digits, _ and -); copy it from @BotFather"
                    .into(),
        })
    }
}

fn valid_chat_id(c: &str) -> bool {
    if let Some(name) = c.strip_prefix('@') {
        name.len() >= 4 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    } else {
        c.parse::<i64>().is_ok()
    }
}

/// Writes one outbox row per configured chat for each event, inside the
/// event's transaction: an acknowledged message always has its
/// notifications, and the HTTP answer never waits on Telegram.
pub struct OutboxNotify {
    chat_ids: Vec<String>,
}

impl OutboxNotify {
    pub fn new(config: &Config) -> OutboxNotify {
        OutboxNotify {
            chat_ids: config.chat_ids.clone(),
        }
    }
}

impl Notify for OutboxNotify {
    fn enqueue(&self, tx: &Transaction, event: &Event) -> Result<()> {
        let now = crate::time::now();
        for chat_id in &self.chat_ids {
            let row = match event {
                // The new chat's notification carries its first message.
                Event::NewSession(s, m) => NewRow {
                    chat_id,
                    kind: Kind::NewSession,
                    session_id: Some(&s.id),
                    message_seq: Some(m.seq),
                    text: &m.message_text,
                    reply_to_message_id: None,
                    message_thread_id: None,
                },
                Event::VisitorMessage(s, m) => NewRow {
                    chat_id,
                    kind: Kind::Message,
                    session_id: Some(&s.id),
                    message_seq: Some(m.seq),
                    text: &m.message_text,
                    reply_to_message_id: None,
                    message_thread_id: None,
                },
            };
            tg_store::enqueue(tx, &row, &now)?;
        }
        Ok(())
    }
}

/// The background threads of `serve`: the outbox worker and, unless in
/// webhook mode, the getUpdates reader. Dropping it stops them.
pub struct Service(Threads);

impl Service {
    /// Starts the threads, each with its own database connection.
    pub fn start(config: Arc<Config>, db: PathBuf) -> Result<Service> {
        let client = client::Client::new(&config)?;
        let mut threads = Threads::new();
        let worker = outbox::Worker::new(crate::db::open(&db)?, client.clone(), config.clone());
        threads.spawn("telegram-outbox", move |stop| worker.run(stop))?;
        let conn = crate::db::open(&db)?;
        threads.spawn("telegram-updates", move |stop| {
            updates::run(conn, &client, &config, stop);
        })?;
        Ok(Service(threads))
    }

    /// Stops the threads; a Bot API call in flight finishes (or times out) first.
    pub fn stop(self) {
        self.0.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(token: Option<&str>, chats: Option<&str>) -> TelegramArgs {
        TelegramArgs {
            bot_token: token.map(str::to_string),
            chat_id: chats.map(str::to_string),
            api_base: DEFAULT_API_BASE.into(),
            webhook_secret: None,
            topics: "false".into(),
            ca_file: None,
        }
    }

    fn cfg(token: &str, chats: &str) -> std::result::Result<Option<Config>, ConfigError> {
        Config::from_args(&args(Some(token), Some(chats)), None)
    }

    #[test]
    fn off_without_both_settings_and_an_error_with_one() {
        assert!(Config::from_args(&args(None, None), None)
            .unwrap()
            .is_none());
        assert!(Config::from_args(&args(Some(" "), Some("")), None)
            .unwrap()
            .is_none());
        assert!(Config::from_args(&args(Some("1:a"), None), None).is_err());
        assert!(Config::from_args(&args(None, Some("1")), None).is_err());
    }

    #[test]
    fn chat_ids_and_token_are_checked_without_echoing_the_token() {
        let c = cfg("123:AA-b_c", " -100123 , @shop_team ")
            .unwrap()
            .unwrap();
        assert_eq!(c.chat_ids, ["-100123", "@shop_team"]);
        assert_eq!(c.api_base, DEFAULT_API_BASE);
        assert!(cfg("123:AAb", "my chat").is_err());
        let e = cfg("secret-token-value", "1").unwrap_err().to_string();
        assert!(!e.contains("secret-token-value"), "{e}");
        assert!(
            e.contains("--telegram-bot-token / TELEGRAM_BOT_TOKEN"),
            "{e}"
        );
        assert!(!format!("{c:?}").contains("AA-b_c"));
    }

    #[test]
    fn topics_take_booleans() {
        let mut a = args(Some("1:a"), Some("-1"));
        a.topics = "1".into();
        assert!(Config::from_args(&a, None).unwrap().unwrap().topics);
        a.topics = "maybe".into();
        let e = Config::from_args(&a, None).unwrap_err().to_string();
        assert!(e.contains("--telegram-topics / TELEGRAM_TOPICS"), "{e}");
        let mut off = args(None, None);
        off.topics = "maybe".into();
        assert!(
            Config::from_args(&off, None).is_err(),
            "checked even when Telegram is off"
        );
    }

    #[test]
    fn incoming_chats_match_by_id_or_username() {
        let c = cfg("1:a", "-100123,@ShopTeam").unwrap().unwrap();
        assert_eq!(c.configured_chat(-100123, None), Some("-100123"));
        assert_eq!(c.configured_chat(-5, Some("shopteam")), Some("@ShopTeam"));
        assert_eq!(c.configured_chat(-5, Some("other")), None);
    }
}
