//! `mite-engine new DIR`: writes a ready crate for a user's own journeys (Cargo.toml with the
//! engine dependency, rust-toolchain.toml, `main`, a journey, a datapool, a scenario, a
//! scenario file, a test through the testing API, a README). Never overwrites anything.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::Error;

/// The crate's files: path inside DIR, then the template (with `{{...}}` placeholders).
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../scaffold/Cargo.toml")),
    ("rust-toolchain.toml", include_str!("../scaffold/rust-toolchain.toml")),
    (".gitignore", include_str!("../scaffold/gitignore")),
    ("README.md", include_str!("../scaffold/README.md")),
    ("src/main.rs", include_str!("../scaffold/src/main.rs")),
    ("src/lib.rs", include_str!("../scaffold/src/lib.rs")),
    ("src/shop.rs", include_str!("../scaffold/src/shop.rs")),
    ("scenarios/shop.toml", include_str!("../scaffold/scenarios/shop.toml")),
    ("tests/shop.rs", include_str!("../scaffold/tests/shop.rs")),
];

/// The dependency line without `--engine-path`: the released engine.
const RELEASED_DEPENDENCY: &str = "mite-engine = \"0.1\"";

/// Writes the crate into `dir` (created; refused when it exists and is not empty).
pub fn write(dir: &Path, engine_path: Option<&Path>) -> Result<ExitCode, Error> {
    let package = package_name(dir)?;
    let (dependency, words) = match engine_path {
        Some(path) => {
            let cli = engine_crate_dir(path)?;
            (format!("mite-engine = {{ path = {:?} }}", cli.display().to_string()), "a path dependency on a checkout")
        }
        None => (RELEASED_DEPENDENCY.to_string(), "the released engine (`mite-engine = \"0.1\"`)"),
    };
    check_empty(dir)?;
    let lib = package.replace('-', "_");
    for (path, template) in FILES {
        let text = template
            .replace("{{package}}", &package)
            .replace("{{lib}}", &lib)
            .replace("{{dependency_words}}", words)
            .replace("{{dependency}}", &dependency);
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io("new: creating", parent))?;
        }
        std::fs::write(&target, text).map_err(Error::io("new: writing", &target))?;
    }
    if let Some(path) = engine_path {
        // The engine's own lock file: the new crate builds with the versions the engine was
        // tested with (and offline, from the same cache).
        let lock = path.join("Cargo.lock");
        if lock.is_file() {
            std::fs::copy(&lock, dir.join("Cargo.lock")).map_err(Error::io("new: copying", &lock))?;
        }
    }
    eprintln!(
        "new: wrote crate {package} in {} ({}); next: cd {} && cargo test, then cargo run --release -- list",
        dir.display(),
        words,
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The package name from the directory's last component: lower case, `-` for anything that
/// is not a letter, digit or `_`; refused when nothing of it is usable.
fn package_name(dir: &Path) -> Result<String, Error> {
    let base = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => Ok(name),
        _ => Err(Error::CrateName { dir: dir.to_path_buf() }),
    }
}

/// The engine's library crate in a checkout: PATH itself, or PATH/engine/cli.
fn engine_crate_dir(path: &Path) -> Result<PathBuf, Error> {
    let absolute = path.canonicalize().map_err(Error::io("new: --engine-path", path))?;
    for candidate in [absolute.join("engine/cli"), absolute.clone()] {
        let manifest = candidate.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap_or_default();
        if text.lines().any(|line| line.trim() == "name = \"mite-engine\"") {
            return Ok(candidate);
        }
    }
    Err(Error::NotACheckout { path: path.to_path_buf() })
}

/// Refuses a directory that exists and holds anything, or a path that is not a directory.
fn check_empty(dir: &Path) -> Result<(), Error> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            Some(_) => Err(Error::NotEmpty { dir: dir.to_path_buf() }),
            None => Ok(()),
        },
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(Error::io("new: reading (nothing was written)", dir)(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_come_from_the_directory() {
        assert_eq!(package_name(Path::new("/tmp/Load Tests")).unwrap(), "load-tests");
        assert_eq!(package_name(Path::new("shop_load")).unwrap(), "shop_load");
        let err = package_name(Path::new("/tmp/2024")).unwrap_err().to_string();
        assert!(err.contains("must start with a letter"), "{err}");
    }

    #[test]
    fn every_placeholder_is_filled() {
        for (path, template) in FILES {
            let text = template
                .replace("{{package}}", "p")
                .replace("{{lib}}", "p")
                .replace("{{dependency_words}}", "w")
                .replace("{{dependency}}", "d");
            assert!(!text.contains("{{"), "{path} keeps a placeholder");
        }
    }
}
