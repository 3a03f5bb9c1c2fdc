//! The folder order ARCHITECTURE.md gives, held in code: each top-level module of mite-core
//! imports (`crate::x`) only the modules before it in [`LAYERS`]. No import circles.

/// mite-core's top-level modules, bottom first.
const LAYERS: [&str; 14] = [
    "limits", "model", "stats", "driver", "http", "journey", "ws", "exec", "scenario", "output", "run", "error",
    "prelude", "lib",
];

/// Every `crate::x` import outside tests that points up (or to a module not in [`LAYERS`]),
/// as `file:line: module`.
fn upward_imports() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("layers.rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            let me = relative.split('/').next().unwrap().trim_end_matches(".rs");
            let Some(my_layer) = LAYERS.iter().position(|l| *l == me) else {
                offenders.push(format!("{relative}: not in LAYERS"));
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, line) in code.lines().enumerate() {
                for (at, _) in line.match_indices("crate::") {
                    let module: String =
                        line[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    let layer = LAYERS.iter().position(|l| *l == module);
                    if module != me && layer.is_none_or(|l| l > my_layer) {
                        offenders.push(format!("{relative}:{}: crate::{module}", i + 1));
                    }
                }
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
