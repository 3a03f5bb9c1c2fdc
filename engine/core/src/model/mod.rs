//! The runtime-agnostic model of a run: configuration, datapools, volume models, the
//! split across segments and cores, core lists. Folder rule: nothing here names the executor,
//! a socket or a file, and nothing here uses the crate's other modules but `limits`;
//! everything is unit-tested without I/O (the test below checks the source).

pub mod config;
pub mod cores;
pub mod datapool;
pub mod split;
pub mod volume;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// What a model file must not name: the executor, the kernel interfaces, sockets, files.
    /// Spelled in pieces so this test does not find itself.
    const FORBIDDEN: [&str; 6] = [
        concat!("mono", "io"),
        concat!("io_", "uring"),
        concat!("std::", "net"),
        concat!("std::", "fs"),
        concat!("lib", "c::"),
        concat!("Tcp", "Stream"),
    ];

    /// The folder rule, checked on the source: no model file names the executor, a socket or
    /// a file, and the only modules of this crate it uses are `limits` and `model` itself.
    #[test]
    fn model_names_no_executor_socket_file_or_upper_layer() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut text = std::fs::read_to_string(&path).unwrap();
            if name == "mod.rs" {
                // This test reads files; the rule is for the model's code.
                text.truncate(text.find("#[cfg(test)]").unwrap_or(text.len()));
            }
            for word in FORBIDDEN {
                assert!(!text.contains(word), "model/{name} names {word:?}: model/ stays free of I/O");
            }
            for (at, _) in text.match_indices(concat!("crate", "::")) {
                let used = &text[at + 7..];
                assert!(
                    used.starts_with("limits") || used.starts_with("model"),
                    "model/{name} uses crate::{}: model/ may use only limits",
                    used.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("")
                );
            }
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} files in {}", dir.display());
    }
}
