//! The `shopchat` binary: parses arguments and hands off to the library.

fn main() {
    let cli = shopchat::cli::parse();
    std::process::exit(shopchat::commands::run(cli));
}
