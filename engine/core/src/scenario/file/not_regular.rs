//! What an input path names when it is not a regular file, in words: the one check every
//! reader of a whole input (a scenario file, a CSV datapool, a result file or log for `compare`
//! and `merge`, a HAR recording) asks before opening it, since opening a named pipe waits for a
//! writer (for ever when none comes) and reading a device may never end.

use std::fmt;
use std::path::Path;

/// What a path is when it is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRegular {
    /// A directory.
    Directory,
    /// A pipe (`mkfifo`, or a shell's): opening one to read waits for a writer.
    NamedPipe,
    /// A character or block device (`/dev/zero`, a terminal).
    Device,
    /// A Unix socket.
    Socket,
    /// Anything else.
    Other,
}

impl NotRegular {
    /// Why it cannot be read as a file, in words (`reading it would wait for a writer`).
    pub fn why(self) -> &'static str {
        match self {
            NotRegular::NamedPipe => "reading it would wait for a writer",
            NotRegular::Device => "reading it may never end",
            NotRegular::Directory | NotRegular::Socket | NotRegular::Other => "it holds no text to read",
        }
    }
}

impl fmt::Display for NotRegular {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotRegular::Directory => "a directory",
            NotRegular::NamedPipe => "a named pipe",
            NotRegular::Device => "a device",
            NotRegular::Socket => "a socket",
            NotRegular::Other => "neither a file nor a directory",
        })
    }
}

/// What `path` is when it is not a regular file; `None` for a regular file (or a link to one)
/// and for a path that cannot be looked at (the read that follows says why). A shell's pipe
/// (`<(...)`, standard input fed by `|`) is a pipe too: a scenario file is read more than once.
pub fn not_regular(path: &Path) -> Option<NotRegular> {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(path).ok()?.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some(NotRegular::Directory)
    } else if kind.is_fifo() {
        Some(NotRegular::NamedPipe)
    } else if kind.is_char_device() || kind.is_block_device() {
        Some(NotRegular::Device)
    } else if kind.is_socket() {
        Some(NotRegular::Socket)
    } else {
        Some(NotRegular::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind in words; a regular file and a missing path pass.
    #[test]
    fn each_kind_of_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(not_regular(&fifo), Some(NotRegular::NamedPipe));
        assert_eq!(not_regular(Path::new("/dev/null")), Some(NotRegular::Device));
        assert_eq!(not_regular(dir.path()), Some(NotRegular::Directory));
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(not_regular(&file), None);
        assert_eq!(not_regular(&dir.path().join("missing")), None);
        // A shell's pipe (`|`, `<(...)`), as a command is given it: /proc/self/fd/N.
        let (reader, _writer) = std::io::pipe().unwrap();
        use std::os::fd::AsRawFd;
        let through_fd = format!("/proc/self/fd/{}", reader.as_raw_fd());
        assert_eq!(not_regular(Path::new(&through_fd)), Some(NotRegular::NamedPipe));
    }
}
