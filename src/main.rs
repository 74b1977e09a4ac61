//! The `shopchat` binary: parses arguments and hands off to the library.

use clap::Parser;

fn main() {
    let cli = match shopchat::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => shopchat::cli::exit_with(e),
    };
    std::process::exit(shopchat::commands::run(cli));
}
