//! Any text as a config file, and any `--set` value: a valid config or a one-line error,
//! never a panic. Seed corpus: `fuzz/corpus/config/baseline.toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = shrinkcity::config::from_str(text) {
        assert!(!e.to_string().trim_end().contains('\n'), "{e}");
    }
    // The same text as one `--set` value for a key of each type.
    for key in [
        "city.population",
        "city.estates",
        "city.coal.capacity",
        "run.name",
    ] {
        if let Err(e) = shrinkcity::config::load(None, &[format!("{key}={text}")]) {
            assert!(!e.to_string().trim_end().contains('\n'), "{e}");
        }
    }
});
