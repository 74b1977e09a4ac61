//! POST /api/telegram/webhook: Telegram's webhook mode. Checks the secret
//! header in constant time and hands the update to [`crate::telegram`].

use serde_json::{json, Value};

use super::{Ctx, Reply, Request};
use crate::error::{Error, Result};
use crate::secret;
use crate::telegram::updates;

/// POST /api/telegram/webhook
pub(super) fn webhook(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    let Some(tg) = ctx.shared.telegram.clone() else {
        return Err(Error::not_found("Telegram is not configured"));
    };
    let Some(expected) = tg.webhook_secret.as_deref() else {
        return Err(Error::not_found("Telegram webhook mode is not on"));
    };
    let given = req.header("x-telegram-bot-api-secret-token").unwrap_or("");
    // Compare hashes: equal lengths, so not even the length leaks.
    if !secret::ct_eq(&secret::hash(given), &secret::hash(expected)) {
        return Err(Error::Unauthorized(
            "wrong or missing X-Telegram-Bot-Api-Secret-Token".into(),
        ));
    }
    let update: Value = req.json(false)?;
    updates::handle_update(ctx.conn, &tg, &update, None)?;
    Ok(Reply::ok(&json!({"ok": true})))
}
