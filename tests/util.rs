use assert_cmd::Command;

/// Small enough to be fast, large enough for every mechanism to act.
pub const SCALE: &str = "0.02";

pub fn shrinkcity() -> Command {
    Command::cargo_bin("shrinkcity").expect("binary built")
}
