//! shopchat: a live chat for small online shops.
//!
//! One binary, one `SQLite` file. Visitors write from a widget served by
//! [`http`]; managers answer from the admin API, the terminal
//! ([`commands`]) or Telegram. Everything that touches the database goes
//! through [`chat`] (the rules) and [`store`] (the SQL).
//!
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod accounts;
pub mod background;
pub mod chat;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod email;
pub mod error;
pub mod followup;
pub mod html;
pub mod http;
pub mod secret;
pub mod shop;
pub mod store;
pub mod telegram;
pub mod time;

pub use error::Error;
