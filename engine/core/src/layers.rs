//! The folder order ARCHITECTURE.md gives, held in code: each top-level module of mite-core
//! imports (`crate::x`) only the modules before it in [`LAYERS`]. No import circles. Also the
//! source reading the crate's other architecture tests share: [`source_files`] and
//! [`crate_imports`].

/// mite-core's top-level modules, bottom first.
const LAYERS: [&str; 14] = [
    "limits", "model", "stats", "driver", "http", "journey", "ws", "exec", "scenario", "output", "run", "error",
    "prelude", "lib",
];

/// Every `.rs` file under `src/`, as (path relative to `src/` with `/`, text).
pub(crate) fn source_files() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (mut files, mut pending) = (Vec::new(), vec![root.clone()]);
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                files.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(files.len() > 20, "found only {} files under {}", files.len(), root.display());
    files
}

/// The code of a source file, without its tests (what follows its `#[cfg(test)]`).
pub(crate) fn without_tests(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or("")
}

/// Every `crate::x` that `code` names, as (1-based line, `x`, the line); `x` is empty for an
/// item at the crate's root (`crate::Ctx`).
pub(crate) fn crate_imports(code: &str) -> Vec<(usize, String, &str)> {
    let mut found = Vec::new();
    for (i, line) in code.lines().enumerate() {
        for (at, _) in line.match_indices("crate::") {
            let module = line[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            found.push((i + 1, module, line));
        }
    }
    found
}

/// Every `crate::x` import outside tests that points up (or to a module not in [`LAYERS`]),
/// as `file:line: module`.
fn upward_imports() -> Vec<String> {
    let mut offenders = Vec::new();
    for (relative, text) in source_files() {
        if relative == "layers.rs" {
            continue;
        }
        let me = relative.split('/').next().unwrap().trim_end_matches(".rs");
        let Some(my_layer) = LAYERS.iter().position(|l| *l == me) else {
            offenders.push(format!("{relative}: not in LAYERS"));
            continue;
        };
        for (line, module, _) in crate_imports(without_tests(&text)) {
            let layer = LAYERS.iter().position(|l| *l == module);
            if module != me && layer.is_none_or(|l| l > my_layer) {
                offenders.push(format!("{relative}:{line}: crate::{module}"));
            }
        }
    }
    offenders
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let offenders = upward_imports();
    assert!(offenders.is_empty(), "imports pointing up (see LAYERS and ARCHITECTURE.md):\n{}", offenders.join("\n"));
}
