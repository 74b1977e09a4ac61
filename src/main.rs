//! The `shopchat` binary: parses arguments and hands off to the library.

use clap::Parser;

fn main() {
    let cli = shopchat::cli::Cli::parse();
    std::process::exit(shopchat::commands::run(cli));
}
