//! The Bot API over ureq: one Agent with connect and overall timeouts, TLS
//! (rustls) trusting the store [`super::tls`] loads, and errors that never
//! contain the bot token (it is part of every URL).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::Config;
use crate::error::{Error, Result};

/// Why a Bot API call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// No answer: DNS, connect or timeout. Already redacted.
    #[error("could not reach the Telegram Bot API: {0}")]
    Transport(String),
    /// The TLS connection failed (most often: a certificate this machine
    /// does not trust), said with what to do about it.
    #[error("could not connect securely to the Telegram Bot API: {0}")]
    Tls(String),
    /// Telegram answered with an error.
    #[error("Telegram answered {code}: {description}")]
    Api {
        code: u16,
        description: String,
        /// Seconds to wait, from a 429's `parameters.retry_after`.
        retry_after: Option<u64>,
    },
    /// An answer that is not the Bot API's JSON. Already redacted.
    #[error("unexpected answer from the Telegram Bot API: {0}")]
    BadAnswer(String),
}

impl ApiError {
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<Value>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Params>,
}

#[derive(Deserialize)]
struct Params {
    retry_after: Option<u64>,
}

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct Outgoing<'a> {
    pub chat_id: &'a str,
    /// HTML (`parse_mode` HTML), already escaped.
    pub html: &'a str,
    pub reply_to_message_id: Option<i64>,
    pub message_thread_id: Option<i64>,
}

/// A Bot API client. Cheap to clone (the Agent is shared).
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
    /// The trust store in use, for error messages.
    ca_file: Option<PathBuf>,
}

impl Client {
    pub fn new(config: &Config) -> Result<Client> {
        let t = &config.tuning;
        if t.request_timeout > Duration::from_secs(10) || t.poll_timeout >= t.request_timeout {
            return Err(Error::Internal(
                "Telegram timeouts: the request timeout must be at most 10 s and longer than the long-poll wait".into(),
            ));
        }
        let mut agent = ureq::AgentBuilder::new()
            .timeout_connect(t.connect_timeout)
            .timeout(t.request_timeout)
            // The Bot API never redirects; a redirect would carry the token
            // to wherever it points.
            .redirects(0)
            .user_agent(concat!("shopchat/", env!("CARGO_PKG_VERSION")));
        if config.uses_tls() {
            agent = agent.tls_config(super::tls::client_config(config.ca_file.as_deref())?);
        }
        Ok(Client {
            agent: agent.build(),
            base: config.api_base.clone(),
            token: config.token.clone(),
            ca_file: config.ca_file.clone(),
        })
    }

    /// Replaces the token wherever it appears (ureq puts URLs in errors).
    pub fn redact(&self, s: &str) -> String {
        if self.token.is_empty() {
            s.to_string()
        } else {
            s.replace(&self.token, "<token>")
        }
    }

    /// Calls `method` with a JSON body; the `result` on success.
    pub fn call(&self, method: &str, body: &Value) -> std::result::Result<Value, ApiError> {
        let url = format!("{}/bot{}/{method}", self.base, self.token);
        let resp = match self.agent.post(&url).send_json(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(&t)),
        };
        let status = resp.status();
        let text = resp
            .into_string()
            .map_err(|e| ApiError::Transport(self.redact(&format!("reading the answer: {e}"))))?;
        let env: Envelope = serde_json::from_str(&text).map_err(|_| {
            let snippet: String = text.chars().take(120).collect();
            ApiError::BadAnswer(self.redact(&format!("HTTP {status}: {snippet}")))
        })?;
        if env.ok {
            return Ok(env.result.unwrap_or(Value::Null));
        }
        Err(ApiError::Api {
            code: env.error_code.unwrap_or(status),
            description: self.redact(env.description.as_deref().unwrap_or("no description given")),
            retry_after: env.parameters.and_then(|p| p.retry_after),
        })
    }

    fn transport_error(&self, t: &ureq::Transport) -> ApiError {
        let host = t
            .url()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "the Bot API".into());
        match super::tls::explain(t, &host, self.ca_file.as_deref()) {
            Some(sentence) => ApiError::Tls(self.redact(&sentence)),
            None => ApiError::Transport(self.redact(&transport_message(t))),
        }
    }

    /// getMe: the bot's username (checks the token).
    pub fn get_me(&self) -> std::result::Result<String, ApiError> {
        let me = self.call("getMe", &json!({}))?;
        Ok(me["username"].as_str().unwrap_or("").to_string())
    }

    /// sendMessage in HTML parse mode; the new message's id.
    pub fn send_message(&self, m: &Outgoing) -> std::result::Result<i64, ApiError> {
        let mut body = json!({
            "chat_id": chat_id_value(m.chat_id),
            "text": m.html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        if let Some(r) = m.reply_to_message_id {
            body["reply_parameters"] =
                json!({"message_id": r, "allow_sending_without_reply": true});
        }
        if let Some(t) = m.message_thread_id {
            body["message_thread_id"] = json!(t);
        }
        let sent = self.call("sendMessage", &body)?;
        sent["message_id"]
            .as_i64()
            .ok_or_else(|| ApiError::BadAnswer("sendMessage answered without a message_id".into()))
    }

    /// getUpdates long polling from `offset`, waiting up to `wait`.
    pub fn get_updates(
        &self,
        offset: i64,
        wait: Duration,
    ) -> std::result::Result<Vec<Value>, ApiError> {
        let r = self.call(
            "getUpdates",
            &json!({"offset": offset, "timeout": wait.as_secs(), "allowed_updates": ["message"]}),
        )?;
        match r {
            Value::Array(v) => Ok(v),
            _ => Err(ApiError::BadAnswer(
                "getUpdates answered without a list".into(),
            )),
        }
    }

    /// createForumTopic: the new topic's `message_thread_id`.
    pub fn create_forum_topic(
        &self,
        chat_id: &str,
        name: &str,
    ) -> std::result::Result<i64, ApiError> {
        let r = self.call(
            "createForumTopic",
            &json!({"chat_id": chat_id_value(chat_id), "name": name}),
        )?;
        r["message_thread_id"].as_i64().ok_or_else(|| {
            ApiError::BadAnswer("createForumTopic answered without a message_thread_id".into())
        })
    }

    /// setWebhook with the secret Telegram will send back in a header.
    pub fn set_webhook(&self, url: &str, secret: &str) -> std::result::Result<(), ApiError> {
        self.call(
            "setWebhook",
            &json!({"url": url, "secret_token": secret, "allowed_updates": ["message"]}),
        )
        .map(|_| ())
    }

    /// deleteWebhook (getUpdates refuses to work while a webhook is set).
    pub fn delete_webhook(&self) -> std::result::Result<(), ApiError> {
        self.call("deleteWebhook", &json!({})).map(|_| ())
    }
}

/// Numeric ids go as numbers, `@channel` names as strings.
fn chat_id_value(chat_id: &str) -> Value {
    match chat_id.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(chat_id),
    }
}

/// A transport error as a sentence, with its cause (connect refused,
/// timed out, ...).
fn transport_message(t: &ureq::Transport) -> String {
    let mut msg = t.kind().to_string();
    if let Some(m) = t.message() {
        msg.push_str(": ");
        msg.push_str(m);
    }
    let mut source = std::error::Error::source(t);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(u) = t.url() {
        msg.push_str(&format!(" ({})", u.host_str().unwrap_or("?")));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_show_the_token() {
        let mut c = Config::for_tests("http://127.0.0.1:1", "123:SECRET", &["1"]);
        c.tuning.connect_timeout = Duration::from_millis(300);
        let client = Client::new(&c).unwrap();
        let e = client.get_me().unwrap_err();
        assert!(matches!(e, ApiError::Transport(_)), "{e:?}");
        assert!(!e.to_string().contains("SECRET"), "{e}");
        assert_eq!(client.redact("x/bot123:SECRET/getMe"), "x/bot<token>/getMe");
    }
}
