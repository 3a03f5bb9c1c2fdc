//! `mite-engine new DIR`: writes a ready crate for a user's own journeys (Cargo.toml with the
//! engine dependency, rust-toolchain.toml, `main`, a journey, a datapool, a scenario, a
//! scenario file, a test through the testing API, a README). Never overwrites anything, and
//! refuses a name the crate could not build under.

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

/// Rust's keywords, strict and reserved, in every edition up to 2024: `{{lib}}::register`
/// in `main.rs` does not parse with one of them (`self`, `crate`, `super` not even as `r#`).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
    "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// The crates of Rust's standard library: `std` and `test` do not build under their name,
/// the others are confused with the library's (cargo warns).
const STANDARD_CRATES: &[&str] = &["std", "core", "alloc", "proc_macro", "test"];

/// Names cargo refuses for a binary: its build directories.
const CARGO_DIRECTORIES: &[&str] = &["build", "deps", "examples", "incremental"];

/// The engine's own packages (the path packages the new crate's lock file holds): a crate of
/// the same name collides with them (and `mite-engine` would depend on itself).
const ENGINE_PACKAGES: &[&str] = &["mite-engine", "mite-core", "mite-codec", "mite-journeys", "mite-tools"];

/// Writes the crate into `dir` (created; refused when it exists and is not empty).
pub fn write(dir: &Path, engine_path: Option<&Path>) -> Result<ExitCode, Error> {
    let package = package_name(dir)?;
    let engine = engine_path.map(Engine::find).transpose()?;
    check_empty(dir)?;
    let existed = dir.symlink_metadata().is_ok();
    if let Err((path, source)) = write_files(dir, &package, engine.as_ref()) {
        undo(dir, existed);
        return Err(Error::NotWritten { path, source });
    }
    eprintln!("{}", wrote(&package, dir, engine.as_ref()));
    Ok(ExitCode::SUCCESS)
}

/// Writes every file of the crate into `dir`, and the engine's lock file; the first failure
/// stops it, with the path it failed on.
fn write_files(dir: &Path, package: &str, engine: Option<&Engine>) -> Result<(), (PathBuf, std::io::Error)> {
    let dependency = Dependency::new(engine);
    let lib = package.replace('-', "_");
    for (path, template) in FILES {
        let text = template
            .replace("{{package}}", package)
            .replace("{{lib}}", &lib)
            .replace("{{dependency_words}}", &dependency.readme)
            .replace("{{dependency}}", &dependency.manifest);
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|err| (parent.to_path_buf(), err))?;
        }
        std::fs::write(&target, text).map_err(|err| (target, err))?;
    }
    // The engine's own lock file: the new crate builds with the versions the engine was
    // tested with (and offline, from the same cache).
    if let Some(lock) = engine.and_then(|engine| engine.lock.as_ref()) {
        let target = dir.join("Cargo.lock");
        std::fs::copy(lock, &target).map_err(|err| (target, err))?;
    }
    Ok(())
}

/// Removes what a failed `write_files` wrote: `dir` itself when `new` created it, else
/// (it was empty) each of the crate's top-level entries.
fn undo(dir: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    let tops = FILES.iter().map(|(path, _)| path.split('/').next().unwrap_or(path)).chain(["Cargo.lock"]);
    for top in tops {
        let path = dir.join(top);
        let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    }
}

/// What `new` says once the crate is written: where, on what engine, and the next commands.
fn wrote(package: &str, dir: &Path, engine: Option<&Engine>) -> String {
    let cd = shell_quote(&dir.display().to_string());
    match engine {
        Some(engine) => {
            let lock = match &engine.lock {
                Some(lock) => format!("its Cargo.lock copied from {}", lock.display()),
                None => "no Cargo.lock found in the checkout: cargo chooses the versions".to_string(),
            };
            format!(
                "new: wrote crate {package} in {}, depending on the engine at {} ({lock}); next: cd {cd} && \
                 cargo test, then cargo run --release -- list",
                dir.display(),
                engine.crate_dir.display()
            )
        }
        None => format!(
            "new: wrote crate {package} in {}. The engine is not published on crates.io, so the mite-engine \
             dependency in its Cargo.toml is commented out: uncomment it and set its path to the engine/cli \
             directory of a mite-engine checkout{}, or remove the directory and run new again with --engine-path CHECKOUT. \
             Then: cd {cd} && cargo test",
            dir.display(),
            built_from().map(|cli| format!(" (this mite-engine was built from {})", cli.display())).unwrap_or_default()
        ),
    }
}

/// The engine checkout this binary was built from, when it is still there (a hint for `new`
/// without `--engine-path`).
fn built_from() -> Option<PathBuf> {
    Engine::find(Path::new(env!("CARGO_MANIFEST_DIR"))).ok().map(|engine| engine.crate_dir)
}

/// The engine dependency, as `Cargo.toml` writes it and as the README explains it.
struct Dependency {
    /// The lines under `[dependencies]`.
    manifest: String,
    /// The README's paragraph on it.
    readme: String,
}

impl Dependency {
    fn new(engine: Option<&Engine>) -> Dependency {
        match engine {
            Some(engine) => Dependency {
                manifest: format!(
                    "# The engine as a library with its whole command line: the checkout given to\n\
                     # `mite-engine new --engine-path` (see README.md).\n\
                     mite-engine = {{ path = {} }}",
                    toml_string(&engine.crate_dir_text)
                ),
                readme: format!(
                    "The engine dependency in `Cargo.toml` is a path dependency on the checkout at `{}`{}.",
                    engine.crate_dir_text,
                    if engine.lock.is_some() {
                        ", and `Cargo.lock` is the engine's own: the crate builds with the versions the \
                         engine was tested with"
                    } else {
                        ""
                    }
                ),
            },
            None => Dependency { manifest: UNSET_MANIFEST.to_string(), readme: UNSET_README.to_string() },
        }
    }
}

/// The dependency without `--engine-path`: commented out, with what to write.
const UNSET_MANIFEST: &str = "\
# The engine as a library with its whole command line. It is not published on crates.io:
# set `path` to the engine/cli directory of a mite-engine checkout and uncomment the line
# (see README.md). The crate does not build until then.
# mite-engine = { path = \"/path/to/mite-engine/engine/cli\" }";

/// The README's paragraph on the dependency without `--engine-path`.
const UNSET_README: &str = "\
**Before the first build:** the engine is not published on crates.io, so the engine
dependency in `Cargo.toml` is commented out and nothing builds yet. Uncomment it and set
`path` to the `engine/cli` directory of a mite-engine checkout:
`mite-engine = { path = \"/path/to/mite-engine/engine/cli\" }`. Copy the checkout's
`Cargo.lock` here too to build with the versions the engine was tested with (`mite-engine
new DIR --engine-path CHECKOUT` writes a crate with both done).";

/// The engine given by `--engine-path`: its library crate and its workspace's lock file.
struct Engine {
    /// The `mite-engine` package's directory (the checkout's `engine/cli`).
    crate_dir: PathBuf,
    /// The same, as text for `Cargo.toml`.
    crate_dir_text: String,
    /// The lock file of the workspace the crate belongs to, when there is one.
    lock: Option<PathBuf>,
}

impl Engine {
    /// The engine at PATH: a checkout's root, or its `engine/cli` itself.
    fn find(path: &Path) -> Result<Engine, Error> {
        let crate_dir = engine_crate_dir(path)?;
        let crate_dir_text = crate_dir.to_str().map(str::to_string).ok_or_else(|| Error::BadValue {
            name: "--engine-path",
            value: path.display().to_string(),
            why: "the path is not valid UTF-8, which Cargo.toml cannot hold".to_string(),
        })?;
        let lock = workspace_root(&crate_dir).map(|root| root.join("Cargo.lock")).filter(|lock| lock.is_file());
        Ok(Engine { crate_dir, crate_dir_text, lock })
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

/// The nearest directory at or above `crate_dir` whose `Cargo.toml` declares a workspace.
fn workspace_root(crate_dir: &Path) -> Option<PathBuf> {
    crate_dir.ancestors().find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        text.lines().any(|line| line.trim() == "[workspace]").then(|| dir.to_path_buf())
    })
}

/// The package name from the directory's last part: lower case, `-` for any ASCII character
/// that is not a letter, digit or `_`; refused when it is empty, not ASCII, or a name the
/// crate cannot build under.
fn package_name(dir: &Path) -> Result<String, Error> {
    let base = last_part(dir).unwrap_or_default();
    let foreign: Vec<String> = base.chars().filter(|c| !c.is_ascii()).map(String::from).collect();
    if !foreign.is_empty() {
        return Err(Error::NonAsciiName { dir: dir.to_path_buf(), chars: foreign.join(", ") });
    }
    let name: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(Error::CrateName { dir: dir.to_path_buf() });
    }
    match reserved(&name) {
        Some(why) => {
            let better = format!("{name}-load");
            let suggestion = if dir.file_name().is_some() { dir.with_file_name(&better) } else { better.into() };
            let suggestion = shell_quote(&suggestion.display().to_string());
            Err(Error::ReservedName { dir: dir.to_path_buf(), name, why, suggestion })
        }
        None => Ok(name),
    }
}

/// The directory's last part as text (`.` and `..` name the directory they stand for).
fn last_part(dir: &Path) -> Option<String> {
    let named = match dir.file_name() {
        Some(_) => dir.to_path_buf(),
        None => dir.canonicalize().ok()?,
    };
    named.file_name().map(|name| name.to_string_lossy().into_owned())
}

/// Why a package name cannot be used, if it cannot.
fn reserved(package: &str) -> Option<&'static str> {
    let lib = package.replace('-', "_");
    if KEYWORDS.contains(&lib.as_str()) {
        Some("is a Rust keyword: main.rs could not call its register function")
    } else if STANDARD_CRATES.contains(&lib.as_str()) {
        Some("is the name of a crate of Rust's standard library, which it would be confused with")
    } else if CARGO_DIRECTORIES.contains(&lib.as_str()) {
        Some("is one of cargo's build directories, which cargo refuses as a program's name")
    } else if ENGINE_PACKAGES.contains(&package.replace('_', "-").as_str()) {
        Some("is the name of one of the engine's own packages, which the crate depends on")
    } else {
        None
    }
}

/// Refuses a directory that exists and holds anything, or a path that is not a directory.
fn check_empty(dir: &Path) -> Result<(), Error> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => match std::fs::read_dir(dir).map_err(Error::io("new: reading", dir))?.next() {
            Some(_) => Err(Error::NotEmpty { dir: dir.to_path_buf() }),
            None => Ok(()),
        },
        Ok(meta) => Err(not_a_directory(dir, &meta)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => match dir.symlink_metadata() {
            // A link to nothing: writing through it would create what it points to, elsewhere.
            Ok(_) => {
                Err(Error::NotADirectory { path: dir.to_path_buf(), what: "a link to a path that does not exist" })
            }
            Err(_) => Ok(()),
        },
        Err(err) if err.kind() == std::io::ErrorKind::NotADirectory => {
            // A part above DIR is a file: name it.
            let file = dir.ancestors().skip(1).find_map(|part| Some((part, std::fs::metadata(part).ok()?)));
            match file {
                Some((part, meta)) if !meta.is_dir() => Err(not_a_directory(part, &meta)),
                _ => Err(Error::io("new: reading", dir)(err)),
            }
        }
        Err(err) => Err(Error::io("new: reading", dir)(err)),
    }
}

fn not_a_directory(path: &Path, meta: &std::fs::Metadata) -> Error {
    let what = if meta.is_file() { "a file" } else { "a special file" };
    Error::NotADirectory { path: path.to_path_buf(), what }
}

/// `text` as a TOML basic string: quotes, backslashes and control characters escaped.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `text` as one shell word: as it is when it holds only characters no shell treats
/// specially, else in single quotes (a quote inside written `'\''`).
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./,:+@%=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
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
    fn names_the_crate_cannot_build_under_are_refused_with_one_it_can() {
        let names = KEYWORDS.iter().chain(STANDARD_CRATES).chain(CARGO_DIRECTORIES).chain(ENGINE_PACKAGES);
        for name in names.chain(&["mite_engine", "Self", "SELF", "Mite Engine", "proc-macro"]) {
            let dir = Path::new("/tmp/tests").join(name);
            let err = package_name(&dir).expect_err(name).to_string();
            assert!(err.contains(&format!("{:?}", dir.display().to_string())), "{err}");
            let suggestion =
                err.split("e.g. mite-engine new ").nth(1).unwrap().trim_end_matches(" (nothing was written)");
            assert!(suggestion.starts_with("/tmp/tests/") && suggestion.ends_with("-load"), "{err}");
            assert!(package_name(Path::new(suggestion)).is_ok(), "the suggestion {suggestion} is refused too");
        }
        assert!(package_name(Path::new("selfie")).is_ok() && package_name(Path::new("my-test")).is_ok());
        let err = package_name(Path::new("/tmp/load tests/Self")).unwrap_err().to_string();
        assert!(err.contains("e.g. mite-engine new '/tmp/load tests/self-load' (nothing"), "{err}");
    }

    #[test]
    fn every_engine_package_is_a_reserved_name() {
        // The workspace's path dependencies are what a user crate's lock file holds beside it.
        let manifest = include_str!("../../../Cargo.toml");
        let paths = manifest.lines().filter(|line| line.contains("path = \"") && !line.contains("fuzz"));
        for line in paths {
            let name = line.split_whitespace().next().unwrap();
            assert!(ENGINE_PACKAGES.contains(&name), "{name} is not in ENGINE_PACKAGES");
        }
    }

    #[test]
    fn names_that_are_not_ascii_are_refused_naming_the_letters() {
        let err = package_name(Path::new("/tmp/ünï")).unwrap_err().to_string();
        assert!(err.contains("\"/tmp/ünï\"") && err.contains("ü, ï are not"), "{err}");
        assert!(package_name(Path::new("shop-ø")).is_err());
    }

    #[test]
    fn dot_names_the_directory_it_stands_for() {
        let scratch = std::env::temp_dir().join(format!("mite-scaffold-dot-{}", std::process::id()));
        let inner = scratch.join("shop-load");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(package_name(&inner.join(".")).unwrap(), "shop-load");
        assert_eq!(package_name(&inner.join("..")).unwrap(), format!("mite-scaffold-dot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
    }

    #[test]
    fn paths_are_quoted_for_the_shell_and_for_toml() {
        assert_eq!(shell_quote("/tmp/shop-load"), "/tmp/shop-load");
        assert_eq!(shell_quote("with space"), "'with space'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(toml_string("/a \"b\"\\c\n"), "\"/a \\\"b\\\"\\\\c\\u000A\"");
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
