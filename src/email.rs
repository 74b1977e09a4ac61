//! Email follow-ups: when a manager's answer stays unseen by the visitor
//! for `--email-after`, it goes to the email the visitor left, through the
//! shop's SMTP server. Decided in a transaction that writes the email into
//! `email_outbox` (and marks those answers dealt with), sent by a worker
//! thread with retries and backoff, like Telegram's outbox: an SMTP outage
//! delays, never loses, and never slows an HTTP answer. Off unless
//! `--smtp-host` is set. See docs/OPERATIONS.md.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message as Mail, SmtpTransport, Transport};
use rusqlite::Connection;

use crate::cli::EmailArgs;
use crate::config::ConfigError;
use crate::error::{Error, Result};
use crate::store::{self, email as outbox, managers, sessions};
use crate::time;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    /// Implicit TLS (SMTPS, port 465).
    Tls,
    /// Plain text: only for a relay on the same machine (and tests).
    None,
}

/// Timings; tests shrink them.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// How often the worker looks for due answers and emails.
    pub tick: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Connect and command timeout of the SMTP client.
    pub timeout: Duration,
    /// Attempts before an email the server refuses for good (5xx) is given up.
    pub max_refused_attempts: i64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            tick: Duration::from_secs(2),
            min_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_mins(10),
            timeout: Duration::from_secs(20),
            max_refused_attempts: 3,
        }
    }
}

/// Everything the follow-up emails need, checked.
#[derive(Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    pub from: Mailbox,
    /// How long an answer may stay unseen before it is emailed.
    pub after: Duration,
    pub shop_name: String,
    /// The shop's page with the widget, for the link back to the chat.
    pub shop_url: Option<String>,
    /// `SSL_CERT_FILE` (the same trust rule as Telegram's).
    pub ca_file: Option<PathBuf>,
    pub tuning: Tuning,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from.to_string())
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// `None` when no SMTP host is set (email off). `public_url` is the
    /// fallback for the shop's page (the demo page shows the widget).
    /// `ca_file` is `SSL_CERT_FILE` (`--telegram-ca-file`): one trust store
    /// for every TLS client.
    pub fn from_args(
        a: &EmailArgs,
        public_url: Option<&str>,
        ca_file: Option<PathBuf>,
    ) -> std::result::Result<Option<Config>, ConfigError> {
        let Some(host) = a
            .smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let security = match a.smtp_tls.as_str() {
            "tls" => Security::Tls,
            "none" => Security::None,
            _ => Security::StartTls,
        };
        let port = a.smtp_port.unwrap_or(match security {
            Security::StartTls => 587,
            Security::Tls => 465,
            Security::None => 25,
        });
        let credentials = match (&a.smtp_user, &a.smtp_password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Mismatch(
                    "set both --smtp-user / CHAT_SMTP_USER and --smtp-password / CHAT_SMTP_PASSWORD, or neither".into(),
                ))
            }
        };
        let from = a.email_from.as_deref().ok_or_else(|| {
            ConfigError::Mismatch("--smtp-host / CHAT_SMTP_HOST is set but --email-from / CHAT_EMAIL_FROM is not: the emails need a From address, e.g. \"My Shop <chat@myshop.example>\"".into())
        })?;
        let from: Mailbox = from.parse().map_err(|e| {
            ConfigError::invalid(
                "--email-from / CHAT_EMAIL_FROM",
                from,
                "an address like \"My Shop <chat@myshop.example>\"",
            )
            .because(e)
        })?;
        let shop_url = a
            .shop_url
            .as_deref()
            .map(|u| u.trim().to_string())
            .or_else(|| public_url.map(|u| format!("{}/", u.trim_end_matches('/'))));
        if let Some(u) = &shop_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "--shop-url / CHAT_SHOP_URL",
                    u,
                    "a URL starting with http:// or https://",
                ));
            }
        }
        let shop_name = a
            .shop_name
            .clone()
            .or_else(|| from.name.clone())
            .unwrap_or_else(|| "the shop".into());
        let config = Config {
            host: host.to_string(),
            port,
            security,
            credentials,
            from,
            after: Duration::from_secs(a.email_after),
            shop_name,
            shop_url,
            ca_file,
            tuning: Tuning::default(),
        };
        // A bad trust store stops serve now, not at the first email.
        if config.security != Security::None {
            config.tls().map_err(|cause| ConfigError::Unusable {
                what: "the trust store for SMTP over TLS cannot be used",
                cause,
            })?;
        }
        Ok(Some(config))
    }

    fn tls(&self) -> Result<TlsParameters> {
        let mut b =
            TlsParameters::builder(self.host.clone()).certificate_store(CertificateStore::None);
        for der in crate::telegram::tls::trusted_certificates(self.ca_file.as_deref())? {
            if let Ok(c) = Certificate::from_der(der.to_vec()) {
                b = b.add_root_certificate(c);
            }
        }
        b.build_rustls()
            .map_err(|e| Error::Internal(format!("TLS setup for SMTP: {e}")))
    }

    fn transport(&self) -> Result<SmtpTransport> {
        let tls = match self.security {
            Security::None => Tls::None,
            Security::StartTls => Tls::Required(self.tls()?),
            Security::Tls => Tls::Wrapper(self.tls()?),
        };
        let mut b = SmtpTransport::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(self.tuning.timeout));
        if let Some((u, p)) = &self.credentials {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(b.build())
    }
}

/// The link that opens the chat in the widget on the shop's page: the
/// chat and its visitor secret travel in the fragment, which browsers
/// never send to a server.
pub fn chat_link(shop_url: &str, session_id: &str, user_session_id: &str) -> String {
    let base = shop_url.split('#').next().unwrap_or(shop_url);
    format!("{base}#shopchat={session_id}.{user_session_id}")
}

/// Decides which answers are due and queues their emails, each answer at
/// most once (the chat's `emailed_seq` moves in the same transaction).
/// Returns how many emails were queued.
pub fn enqueue_due(conn: &mut Connection, config: &Config) -> Result<usize> {
    let after = chrono::Duration::from_std(config.after).unwrap_or_default();
    let cutoff = time::format(Utc::now() - after);
    let due = outbox::due(conn, &cutoff, 50)?;
    let mut queued = 0;
    for d in due {
        queued += store::write(conn, |tx| {
            // Again in the write lock: the visitor may have just seen it.
            let Some(fresh) = outbox::due(tx, &cutoff, 50)?
                .into_iter()
                .find(|x| x.session_id == d.session_id)
            else {
                return Ok(0);
            };
            let Some(s) = sessions::get(tx, &fresh.session_id)? else {
                return Ok(0);
            };
            let upto = fresh.messages.last().map_or(0, |m| m.seq);
            let names = managers::list(tx)?;
            let lines: Vec<(String, String)> = fresh
                .messages
                .iter()
                .map(|m| {
                    let who = m
                        .manager_id
                        .as_deref()
                        .and_then(|id| names.iter().find(|x| x.id == id))
                        .map_or(config.shop_name.clone(), |x| x.display_name.clone());
                    (who, m.message_text.clone())
                })
                .collect();
            let (subject, body) = compose(config, &s, &lines);
            let n = usize::from(outbox::enqueue(
                tx,
                &s.id,
                upto,
                &fresh.to,
                &subject,
                &body,
                &time::now(),
            )?);
            outbox::set_emailed(tx, &s.id, upto)?;
            Ok(n)
        })?;
    }
    Ok(queued)
}

/// The email's subject and plain-text body.
pub fn compose(
    config: &Config,
    s: &store::Session,
    answers: &[(String, String)],
) -> (String, String) {
    let shop = &config.shop_name;
    let subject = format!("{shop} answered your question");
    let mut body = String::new();
    match &s.user_name {
        Some(n) => body.push_str(&format!("Hello {n},\n\n")),
        None => body.push_str("Hello,\n\n"),
    }
    body.push_str(&format!(
        "you asked {shop} a question in the chat on its website. Here is the answer:\n\n"
    ));
    for (who, text) in answers {
        body.push_str(&format!("{who}:\n"));
        for line in text.lines() {
            body.push_str(&format!("  {line}\n"));
        }
        body.push('\n');
    }
    if let (Some(url), Some(usid)) = (&config.shop_url, &s.user_session_id) {
        body.push_str(&format!(
            "Continue the chat on {shop}'s page:\n{}\n\n",
            chat_link(url, &s.id, usid)
        ));
    }
    body.push_str(&format!(
        "You get this email because you left this address in the chat with {shop}. Please answer in the chat rather than to this email.\n"
    ));
    (subject, body)
}

/// What one worker step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Idle,
    Worked,
}

/// Sends the oldest due email, if any: skips it when the visitor has seen
/// the answers meanwhile, reschedules it on failure (exponential backoff),
/// gives it up after a few permanent refusals of the message (a refused
/// login is retried until it is fixed).
pub fn send_next(conn: &mut Connection, config: &Config) -> Result<Step> {
    let now = time::now();
    let Some(row) = outbox::next_due(conn, &now)? else {
        return Ok(Step::Idle);
    };
    let (seen, _) = sessions::seen(conn, &row.session_id)?;
    if seen >= row.upto_seq {
        store::write(conn, |tx| {
            outbox::mark_failed(
                tx,
                row.id,
                "not sent: the visitor saw the answer in the chat",
                &now,
            )
        })?;
        return Ok(Step::Worked);
    }
    match deliver(config, &row) {
        Ok(()) => {
            store::write(conn, |tx| outbox::mark_sent(tx, row.id, &time::now()))?;
        }
        Err((permanent, error)) => {
            let t = &config.tuning;
            let attempt = row.attempts + 1;
            if permanent && attempt >= t.max_refused_attempts {
                eprintln!(
                    "shopchat: email: giving up on the follow-up to chat {} after {attempt} attempts: {error}",
                    crate::chat::short_id(&row.session_id)
                );
                store::write(conn, |tx| {
                    outbox::mark_failed(tx, row.id, &error, &time::now())
                })?;
            } else {
                let delay = crate::telegram::outbox::backoff(t.min_backoff, t.max_backoff, attempt);
                eprintln!(
                    "shopchat: email: sending the follow-up to chat {} failed (attempt {attempt}): {error}; next try in {:.1} s",
                    crate::chat::short_id(&row.session_id),
                    delay.as_secs_f64()
                );
                let next = time::format(
                    Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default(),
                );
                store::write(conn, |tx| outbox::mark_retry(tx, row.id, &error, &next))?;
            }
        }
    }
    Ok(Step::Worked)
}

/// One SMTP delivery. The error says whether the server refused the
/// message for good (5xx, but not a refused login) and what happened,
/// without the password.
fn deliver(config: &Config, row: &outbox::OutboxRow) -> std::result::Result<(), (bool, String)> {
    let to: Mailbox = row
        .to
        .parse()
        .map_err(|e| (true, format!("'{}' is not an address: {e}", row.to)))?;
    let mail = Mail::builder()
        .from(config.from.clone())
        .to(to)
        .subject(row.subject.clone())
        // The same id on every attempt: a receiving server that sees a
        // retry of a delivered message can tell.
        .message_id(Some(format!(
            "<shopchat-{}-{}@{}>",
            row.session_id, row.upto_seq, config.host
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(row.body.clone())
        .map_err(|e| (true, format!("could not build the email: {e}")))?;
    let transport = config.transport().map_err(|e| (false, e.to_string()))?;
    match transport.send(&mail) {
        Ok(_) => Ok(()),
        Err(e) => {
            // lettre's message already ends with its source's: add the
            // causes below that one only.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e).and_then(std::error::Error::source);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            if let Some(p) = config.credentials.as_ref().map(|c| &c.1) {
                if !p.is_empty() {
                    msg = msg.replace(p.as_str(), "<password>");
                }
            }
            // A refused login, or a server that wants one (or TLS) first, is
            // the shop's settings, not this email: retried like an outage
            // until they are fixed, never given up as a refused message.
            let login = e
                .status()
                .is_some_and(|c| matches!(u16::from(c), 530 | 534 | 535 | 538));
            if login {
                msg.push_str(" (the SMTP server refused the login or wants one: check --smtp-user / CHAT_SMTP_USER, --smtp-password / CHAT_SMTP_PASSWORD and --smtp-tls / CHAT_SMTP_TLS)");
            }
            Err((e.is_permanent() && !login, msg))
        }
    }
}

/// Deletes sent and given-up emails older than a week.
/// On start: what waits out a backoff is tried now (a restart often
/// follows a fix of the settings). Returns how many.
pub fn make_pending_due(conn: &mut Connection) -> Result<usize> {
    let now = time::now();
    store::write(conn, |tx| outbox::make_pending_due(tx, &now))
}

pub fn prune(conn: &mut Connection) -> Result<usize> {
    let before = time::format(Utc::now() - chrono::Duration::days(7));
    store::write(conn, |tx| outbox::prune(tx, &before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_the_chat_in_the_fragment() {
        assert_eq!(
            chat_link("https://shop.example/contact#old", "abc", "u1"),
            "https://shop.example/contact#shopchat=abc.u1"
        );
    }
}
