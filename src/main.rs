//! `shrinkcity`: parse the command line, run it, exit with its code. Everything about the
//! command line is in `cli/`; the model and its experiments are the `shrinkcity` library.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main(cli::parse())
}
