//! Terminal subcommands, one module each, and the mapping of errors to a
//! message and an exit code.

mod archive;
mod assign;
mod backup;
mod close;
mod create_tables;
mod demo_data;
mod inbox;
mod keys;
mod managers;
mod picker;
mod reopen;
mod reply;
mod serve;
mod sessions;
mod settings;
mod show;
mod stats;
mod telegram;
pub mod term;
mod watch;

use crate::cli::{Cli, Command};

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match &cli.command {
        Command::CreateTables => create_tables::run(&cli),
        Command::Serve(args) => serve::run(&cli, args),
        Command::Managers(cmd) => managers::run(&cli, cmd),
        Command::Keys(cmd) => keys::run(&cli, cmd),
        Command::Telegram(cmd) => telegram::run(&cli, cmd),
        Command::Sessions(args) => sessions::run(&cli, args),
        Command::Show(args) => show::run(&cli, args),
        Command::Reply(args) => reply::run(&cli, args),
        Command::Close(args) => close::run(&cli, args),
        Command::Reopen(args) => reopen::run(&cli, args),
        Command::Settings(cmd) => settings::run(&cli, cmd),
        Command::Assign(args) => assign::run(&cli, args),
        Command::Stats(args) => stats::run(&cli, args),
        Command::Inbox => inbox::run(&cli),
        Command::Watch(args) => watch::run(&cli, args),
        Command::Backup(args) => backup::run(&cli, args),
        Command::Archive(args) => archive::run(&cli, args),
        Command::DemoData(args) => demo_data::run(&cli, args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            if let Some(code) = term::quiet_exit(&e) {
                code
            } else {
                eprintln!("error: {e:#}");
                1
            }
        }
    }
}
