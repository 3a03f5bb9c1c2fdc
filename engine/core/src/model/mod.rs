//! The runtime-agnostic model of a run: configuration, datapools, volume models, the
//! split across segments and cores, core lists, counts in words, Unix times as dates, text as a terminal shows it. Folder rule: nothing here names the executor,
//! a socket or a file, and nothing here uses the crate's other modules but `limits`;
//! everything is unit-tested without I/O (the test below checks the source).

pub mod civil;
pub mod config;
pub mod cores;
pub mod counts;
pub mod datapool;
pub mod split;
pub mod terminal;
pub mod volume;

#[cfg(test)]
mod tests {
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
        let mut checked = 0;
        for (file, text) in crate::layers::source_files() {
            let Some(name) = file.strip_prefix("model/") else { continue };
            // This test reads files; the rule is for the model's code.
            let text = if name == "mod.rs" { crate::layers::without_tests(&text) } else { text.as_str() };
            for word in FORBIDDEN {
                assert!(!text.contains(word), "model/{name} names {word:?}: model/ stays free of I/O");
            }
            for (_, module, _) in crate::layers::crate_imports(text) {
                assert!(
                    module == "limits" || module == "model",
                    "model/{name} uses crate::{module}: model/ may use only limits"
                );
            }
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} files in model/");
    }
}
