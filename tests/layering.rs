//! The floors of docs/ARCHITECTURE.md, checked: every `crate::…` path in a file under `src/`
//! (imports and paths written inline, tests included; comments skipped) names a module on
//! the file's own floor or below it.

use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules by floor, bottom first. Modules on one floor may use each other.
const FLOORS: [&[&str]; 7] = [
    &["config"],
    &["engine"],
    &["model"],
    &["sim"],
    &["output"],
    &["experiment", "calibration", "report"],
    &["cli"],
];

/// The floor of a top-level module, or `None` for one the table does not know.
fn floor(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

/// Every `crate::MODULE` named in `source` whose floor is above `own`, as
/// "line N: crate::MODULE (floor F)"; and every module the table does not know.
fn upward_paths(source: &str, own: usize) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // the end of another name, such as `mycrate::`
            }
            let module: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if module.is_empty() {
                // `use crate::{a, b}`: each name in the braces is a module.
                let names = rest.trim_start_matches('{').split('}').next().unwrap_or("");
                for name in names.split(',') {
                    let m = name.trim().split("::").next().unwrap_or("").trim();
                    check(m, own, n + 1, &mut found);
                }
                continue;
            }
            check(&module, own, n + 1, &mut found);
        }
    }
    found
}

fn check(module: &str, own: usize, line: usize, found: &mut Vec<String>) {
    if module.is_empty() {
        return;
    }
    match floor(module) {
        Some(f) if f <= own => {}
        Some(f) => found.push(format!(
            "line {line}: crate::{module} is on floor {} (this file is on floor {})",
            f + 1,
            own + 1
        )),
        None => found.push(format!(
            "line {line}: crate::{module} is on no floor; add it to FLOORS in tests/layering.rs"
        )),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_floor_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src/");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs");
        if matches!(top, "lib" | "main") {
            continue; // the crate root declares the modules; main.rs uses the library as a user.
        }
        let own = floor(top).unwrap_or_else(|| {
            panic!("src/{top} is on no floor; add it to FLOORS in tests/layering.rs")
        });
        let source = fs::read_to_string(file).expect("a readable source file");
        for p in upward_paths(&source, own) {
            problems.push(format!("src/{}: {p}", rel.display()));
        }
        checked += 1;
    }
    assert!(
        checked > 30,
        "only {checked} files found under {}",
        src.display()
    );
    assert!(
        problems.is_empty(),
        "imports that go up a floor (move the code down, or pass what it needs in):\n{}",
        problems.join("\n")
    );
}

/// The checker itself: it finds an upward path in a `use` line, in braces and inline, and
/// lets downward and same-floor paths and comments pass.
#[test]
fn the_checker_flags_upward_paths_and_only_those() {
    let model = floor("model").unwrap();
    let source = "use crate::config::Config;\n\
                  use crate::engine::{Params, Clock};\n\
                  use crate::model::resident::AgentId;\n\
                  // see crate::cli for how it is called\n\
                  use crate::{engine::rng, sim::world};\n\
                  fn f() { crate::output::write(); }\n";
    let found = upward_paths(source, model);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("line 5: crate::sim"), "{found:?}");
    assert!(found[1].starts_with("line 6: crate::output"), "{found:?}");
    assert_eq!(upward_paths("use crate::nowhere::X;", model).len(), 1);
}
