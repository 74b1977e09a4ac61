//! `serve`'s settings (flags and environment variables, [`ServeArgs`])
//! turned into a checked [`ServeConfig`] before any work starts. A bad
//! value is a [`ConfigError`] that names the flag and the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::ServeArgs;

/// The error of a cause kept in a [`ConfigError`].
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A setting that cannot be used. Never an HTTP error: it stops `serve`
/// (or a `telegram` command) before it starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not parse or is out of range.
    #[error("{setting} must be {expected}, not '{value}'")]
    Invalid {
        /// The flag and the variable, e.g. `--bind / CHAT_BIND`.
        setting: &'static str,
        value: String,
        expected: String,
        #[source]
        cause: Option<Cause>,
    },
    /// As [`ConfigError::Invalid`] for a secret: its value is never shown.
    #[error("{setting} must be {expected}")]
    InvalidSecret {
        setting: &'static str,
        expected: String,
    },
    /// Settings that only work together.
    #[error("{0}")]
    Mismatch(String),
    /// A setting, or the machine, that does not give what is needed; the
    /// cause says why in words.
    #[error("{what}")]
    Unusable {
        what: &'static str,
        #[source]
        cause: crate::Error,
    },
}

impl ConfigError {
    pub(crate) fn invalid(setting: &'static str, value: &str, expected: impl Into<String>) -> Self {
        ConfigError::Invalid {
            setting,
            value: value.to_string(),
            expected: expected.into(),
            cause: None,
        }
    }

    pub(crate) fn because(mut self, e: impl Into<Cause>) -> Self {
        if let ConfigError::Invalid { cause, .. } = &mut self {
            *cause = Some(e.into());
        }
        self
    }
}

/// Which origins may call the public API from a browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Origins {
    Any,
    List(Vec<String>),
}

/// Everything `serve` needs, checked.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub db: PathBuf,
    pub bind: SocketAddr,
    pub threads: usize,
    /// Take the client address from X-Forwarded-For (for rate limits).
    pub trust_proxy: bool,
    /// Keys from `CHAT_API_KEYS` (plain; hashed when the server starts).
    pub env_api_keys: Vec<String>,
    pub allowed_origins: Origins,
    /// New sessions per minute per client address; 0 = no limit.
    pub session_rate: u32,
    /// Messages per second per session (burst twice that); 0 = no limit.
    pub message_rate: u32,
    /// Public base URL, without a trailing slash (links in notifications,
    /// the demo page, the webhook).
    pub public_url: Option<String>,
    /// At most this many connections at once; `None`: derived from the
    /// open-file limit when the server starts.
    pub max_connections: Option<usize>,
    /// The deadline for receiving one whole request, headers and body.
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    pub idle_timeout: Duration,
    /// On SIGTERM, the longest wait for requests in flight.
    pub shutdown_grace: Duration,
    /// Exit non-zero when the server has not answered itself this long;
    /// `None`: no watchdog.
    pub watchdog: Option<Duration>,
    /// The demo page and its in-memory key (off in production).
    pub demo: bool,
    /// Telegram, when its token and chats are set.
    pub telegram: Option<crate::telegram::Config>,
    /// Email to visitors, when an SMTP host is set.
    pub email: Option<crate::email::Config>,
}

/// The longest timeout any setting takes, in seconds (an hour).
const MAX_SECONDS: u64 = 3600;

impl ServeConfig {
    /// Checks every setting; the first bad one is the error.
    pub fn from_args(db: PathBuf, args: &ServeArgs) -> Result<Self, ConfigError> {
        let bind: SocketAddr = args.bind.trim().parse().map_err(|e| {
            ConfigError::invalid(
                "--bind / CHAT_BIND",
                &args.bind,
                "an address and port like 127.0.0.1:8080",
            )
            .because(e)
        })?;
        let threads = number(
            "--threads / CHAT_THREADS",
            &args.threads,
            1..=256,
            "a number of threads from 1 to 256",
        )?;
        let allowed_origins = match args.allowed_origins.trim() {
            "" | "*" => Origins::Any,
            v => {
                let list = list(v);
                if let Some(bad) = list.iter().find(|o| !is_origin(o)) {
                    return Err(ConfigError::invalid(
                        "--allowed-origins / CHAT_ALLOWED_ORIGINS",
                        bad,
                        "* or origins like https://shop.example, comma-separated",
                    ));
                }
                Origins::List(list)
            }
        };
        let public_url = public_url(args.public_url.as_deref())?;
        let max_connections = match given(args.max_connections.as_deref()) {
            None => None,
            Some(v) => Some(number(
                "--max-connections / CHAT_MAX_CONNECTIONS",
                v,
                1..=1_000_000,
                "a number of connections from 1 to 1000000 (or unset: from the open-file limit)",
            )?),
        };
        let request_timeout = seconds(
            "--request-timeout / CHAT_REQUEST_TIMEOUT",
            &args.request_timeout,
            1,
        )?;
        let watchdog = seconds("--watchdog / CHAT_WATCHDOG", &args.watchdog, 0)?;
        Ok(ServeConfig {
            db,
            bind,
            threads,
            trust_proxy: boolean("--trust-proxy / CHAT_TRUST_PROXY", &args.trust_proxy)?,
            env_api_keys: given(args.api_keys.as_deref())
                .map(list)
                .unwrap_or_default(),
            allowed_origins,
            session_rate: number(
                "--session-rate / CHAT_SESSION_RATE",
                &args.session_rate,
                0..=u32::MAX,
                "a whole number (0 turns the limit off)",
            )?,
            message_rate: number(
                "--message-rate / CHAT_MESSAGE_RATE",
                &args.message_rate,
                0..=u32::MAX,
                "a whole number (0 turns the limit off)",
            )?,
            telegram: crate::telegram::Config::from_args(&args.telegram, public_url.clone())?,
            email: crate::email::Config::from_args(
                &args.email,
                public_url.as_deref(),
                args.telegram.ca_file.as_deref().map(PathBuf::from),
            )?,
            public_url,
            max_connections,
            request_timeout,
            idle_timeout: seconds("--idle-timeout / CHAT_IDLE_TIMEOUT", &args.idle_timeout, 1)?,
            shutdown_grace: seconds(
                "--shutdown-grace / CHAT_SHUTDOWN_GRACE",
                &args.shutdown_grace,
                0,
            )?,
            watchdog: (!watchdog.is_zero()).then_some(watchdog),
            demo: !boolean("--no-demo / CHAT_NO_DEMO", &args.no_demo)?,
        })
    }

    /// A configuration for tests and embedding: loopback, port 0, the
    /// default rate limits, 512 connections, short timeouts, no watchdog,
    /// no Telegram.
    pub fn for_tests(db: PathBuf) -> Self {
        ServeConfig {
            db,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            threads: 4,
            trust_proxy: false,
            env_api_keys: Vec::new(),
            allowed_origins: Origins::Any,
            session_rate: 10,
            message_rate: 5,
            public_url: None,
            max_connections: Some(512),
            request_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(5),
            watchdog: None,
            demo: true,
            telegram: None,
            email: None,
        }
    }
}

/// A value that is set and not blank: an empty variable counts as unset.
pub fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Splits a comma-separated list, dropping blanks.
pub fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `CHAT_PUBLIC_URL`: http(s)://host[:port][/path], kept without a trailing slash.
pub fn public_url(v: Option<&str>) -> Result<Option<String>, ConfigError> {
    let Some(u) = given(v) else {
        return Ok(None);
    };
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    if !rest
        .is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
    {
        return Err(ConfigError::invalid(
            "--public-url / CHAT_PUBLIC_URL",
            u,
            "a URL that starts with http:// or https://, like https://chat.shop.example",
        ));
    }
    Ok(Some(u.trim_end_matches('/').to_string()))
}

/// `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case); empty is false.
pub fn boolean(setting: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::invalid(setting, v, "1, 0, true or false")),
    }
}

/// A whole number within `range`.
fn number<T>(
    setting: &'static str,
    v: &str,
    range: std::ops::RangeInclusive<T>,
    expected: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let n: T = v
        .trim()
        .parse()
        .map_err(|e| ConfigError::invalid(setting, v, expected).because(e))?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(ConfigError::invalid(setting, v, expected))
    }
}

/// Whole seconds from `min` to an hour.
fn seconds(setting: &'static str, v: &str, min: u64) -> Result<Duration, ConfigError> {
    let expected = format!("whole seconds from {min} to {MAX_SECONDS}");
    number(setting, v, min..=MAX_SECONDS, &expected).map(Duration::from_secs)
}

/// `scheme://host[:port]`, as browsers send in `Origin`.
fn is_origin(o: &str) -> bool {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains('/') && !r.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `shopchat serve ARGS` parsed as the binary would, without the
    /// environment (clap only reads variables that are set; tests set none).
    fn parse(args: &[&str]) -> Result<ServeConfig, ConfigError> {
        let mut argv = vec!["shopchat", "serve"];
        argv.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(argv).expect("clap accepts it");
        match &cli.command {
            crate::cli::Command::Serve(a) => ServeConfig::from_args(cli.db.clone(), a),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        if std::env::vars().any(|(k, _)| k.starts_with("CHAT_") || k.starts_with("TELEGRAM_")) {
            return; // a developer's own settings would change the defaults
        }
        let c = parse(&[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.threads, 8);
        assert!(!c.trust_proxy);
        assert_eq!(c.allowed_origins, Origins::Any);
        assert_eq!((c.session_rate, c.message_rate), (10, 5));
        assert_eq!(c.public_url, None);
        assert_eq!(c.max_connections, None);
        assert_eq!(c.request_timeout, Duration::from_secs(10));
        assert_eq!(c.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.shutdown_grace, Duration::from_secs(10));
        assert_eq!(c.watchdog, Some(Duration::from_secs(30)));
        assert!(c.demo);
        assert!(c.telegram.is_none());
    }

    #[test]
    fn booleans_take_one_zero_true_false_and_the_bare_flag() {
        for (v, want) in [("1", true), ("0", false), ("TRUE", true), ("false", false)] {
            assert_eq!(boolean("--x / X", v).unwrap(), want, "{v}");
        }
        assert!(parse(&["--trust-proxy"]).unwrap().trust_proxy);
        assert!(!parse(&["--trust-proxy=0"]).unwrap().trust_proxy);
        assert!(!parse(&["--no-demo"]).unwrap().demo);
        let e = boolean("--trust-proxy / CHAT_TRUST_PROXY", "lots").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--trust-proxy / CHAT_TRUST_PROXY must be 1, 0, true or false, not 'lots'"
        );
    }

    #[test]
    fn new_settings_are_checked() {
        let c = parse(&[
            "--max-connections=500",
            "--request-timeout=30",
            "--idle-timeout=1",
            "--shutdown-grace=0",
            "--watchdog=0",
        ])
        .unwrap();
        assert_eq!(c.max_connections, Some(500));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.idle_timeout, Duration::from_secs(1));
        assert_eq!(c.shutdown_grace, Duration::ZERO);
        assert_eq!(c.watchdog, None, "0 turns the watchdog off");
        for (args, setting) in [
            (
                ["--max-connections=0"],
                "--max-connections / CHAT_MAX_CONNECTIONS",
            ),
            (
                ["--request-timeout=0"],
                "--request-timeout / CHAT_REQUEST_TIMEOUT",
            ),
            (["--idle-timeout=1.5"], "--idle-timeout / CHAT_IDLE_TIMEOUT"),
            (
                ["--shutdown-grace=-1"],
                "--shutdown-grace / CHAT_SHUTDOWN_GRACE",
            ),
            (["--watchdog=3601"], "--watchdog / CHAT_WATCHDOG"),
            (["--threads=0"], "--threads / CHAT_THREADS"),
            (
                ["--allowed-origins=shop.example"],
                "--allowed-origins / CHAT_ALLOWED_ORIGINS",
            ),
            (["--public-url=https://"], "--public-url / CHAT_PUBLIC_URL"),
        ] {
            let e = parse(&args).unwrap_err().to_string();
            assert!(e.contains(setting), "{args:?}: {e}");
        }
    }

    #[test]
    fn a_parse_error_keeps_its_cause() {
        let e = parse(&["--bind", "localhost"]).unwrap_err();
        assert!(
            e.to_string().starts_with("--bind / CHAT_BIND must be"),
            "{e}"
        );
        let cause = std::error::Error::source(&e).expect("the parser's own error is kept");
        assert!(!cause.to_string().is_empty());
    }

    #[test]
    fn public_url_and_origins() {
        let c = parse(&[
            "--public-url",
            "https://chat.shop.example/",
            "--allowed-origins",
            " https://shop.example , http://localhost:3000 ",
        ])
        .unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://chat.shop.example"));
        assert_eq!(
            c.allowed_origins,
            Origins::List(vec![
                "https://shop.example".into(),
                "http://localhost:3000".into()
            ])
        );
        assert!(parse(&["--public-url", "chat.example"]).is_err());
    }
}
