use assert_cmd::Command;

/// Small enough to be fast, large enough for every mechanism to act.
pub const SCALE: &str = "0.02";

pub fn shrinkcity() -> Command {
    Command::cargo_bin("shrinkcity").expect("binary built")
}

/// `shrinkcity run --quiet --scale SCALE <args>`.
pub fn small_run<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = shrinkcity();
    cmd.args(["run", "--quiet", "--scale", SCALE]).args(args);
    cmd
}
