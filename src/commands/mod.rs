//! Terminal subcommands, one module each, and the mapping of errors to a
//! message and an exit code.

mod create_tables;
pub mod keys;
pub mod managers;
mod serve;
mod telegram;

use crate::cli::{Cli, Command};

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match &cli.command {
        Command::CreateTables => create_tables::run(&cli),
        Command::Serve(args) => serve::run(&cli, args),
        Command::Managers(cmd) => managers::run(&cli, cmd),
        Command::Keys(cmd) => keys::run(&cli, cmd),
        Command::Telegram(cmd) => telegram::run(&cli, cmd),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
