//! Flags and environment variables turned into a validated [`ServeConfig`]
//! before any work starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::cli::ServeArgs;

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
    pub trust_proxy: bool,
    /// Keys from CHAT_API_KEYS (plain; hashed when the server starts).
    pub env_api_keys: Vec<String>,
    pub allowed_origins: Origins,
    /// New sessions per minute per client address; 0 = no limit.
    pub session_rate: u32,
    /// Messages per second per session (burst twice that); 0 = no limit.
    pub message_rate: u32,
    /// Public base URL (for links in notifications and the demo page).
    pub public_url: Option<String>,
    /// Most connections open at once; `None`: derived from the
    /// file-descriptor limit at start.
    pub max_connections: Option<usize>,
    /// Deadline for receiving one whole request (headers and body).
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    pub idle_timeout: Duration,
    /// On SIGTERM, the longest wait for requests in flight.
    pub shutdown_grace: Duration,
    /// Exit non-zero when the server has not answered itself this long.
    pub watchdog: Option<Duration>,
    /// Serve the demo page (and accept its key).
    pub demo: bool,
}

/// Reads an environment variable, treating empty as unset.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_u32(name: &str, default: u32) -> anyhow::Result<u32> {
    match env(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().with_context(|| {
            format!("{name} must be a whole number (0 turns the limit off), not '{v}'")
        }),
    }
}

/// Splits a comma-separated list, dropping blanks.
pub fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl ServeConfig {
    pub fn from_args(db: PathBuf, args: &ServeArgs) -> anyhow::Result<Self> {
        let bind: SocketAddr = args.bind.parse().with_context(|| {
            format!(
                "--bind must be an address and port like 127.0.0.1:8080, not '{}'",
                args.bind
            )
        })?;
        if args.threads == 0 || args.threads > 256 {
            bail!("--threads must be from 1 to 256, not {}", args.threads);
        }
        if args.max_connections.is_some_and(|n| n == 0) {
            bail!("--max-connections must be at least 1");
        }
        for (name, v) in [
            ("--request-timeout", args.request_timeout),
            ("--idle-timeout", args.idle_timeout),
        ] {
            if !(1..=3600).contains(&v) {
                bail!("{name} must be from 1 to 3600 seconds, not {v}");
            }
        }
        let allowed_origins = match env("CHAT_ALLOWED_ORIGINS") {
            None => Origins::Any,
            Some(v) if v.trim() == "*" => Origins::Any,
            Some(v) => Origins::List(list(&v)),
        };
        let public_url = env("CHAT_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("CHAT_PUBLIC_URL must start with http:// or https://, not '{u}'");
            }
        }
        Ok(ServeConfig {
            db,
            bind,
            threads: args.threads,
            trust_proxy: args.trust_proxy,
            env_api_keys: env("CHAT_API_KEYS").map(|v| list(&v)).unwrap_or_default(),
            allowed_origins,
            session_rate: env_u32("CHAT_SESSION_RATE", 10)?,
            message_rate: env_u32("CHAT_MESSAGE_RATE", 5)?,
            public_url,
            max_connections: args.max_connections,
            request_timeout: Duration::from_secs(args.request_timeout),
            idle_timeout: Duration::from_secs(args.idle_timeout),
            shutdown_grace: Duration::from_secs(args.shutdown_grace),
            watchdog: (args.watchdog > 0).then(|| Duration::from_secs(args.watchdog)),
            demo: !args.no_demo,
        })
    }

    /// A configuration for tests and embedding: loopback, port 0, defaults.
    pub fn for_tests(db: PathBuf) -> Self {
        ServeConfig {
            db,
            bind: "127.0.0.1:0".parse().expect("valid address"),
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
        }
    }
}
