//! The integration tests: one binary, one link step. Each module is an
//! area; `common` (a real server on 127.0.0.1:0), `clikit` (the real
//! binary) and `telegram_fake` (a fake Bot API) are the shared helpers.

mod clikit;
mod common;
mod live;
mod telegram_fake;

mod api_admin;
mod api_errors;
mod api_public;
mod cli_interactive;
mod cli_live;
mod cli_read;
mod cli_write;
mod concurrency;
mod deploy;
mod docs;
mod email;
mod hostile;
mod invariants;
mod longpoll;
mod openapi;
mod outbox_errors;
mod schema;
mod serve_and_setup;
mod stats_search;
mod telegram;
mod telegram_faults;
mod telegram_restart;
mod visitor;
mod web_assets;
