//! Result files (`--json`, `--html`, `--hdr-log`): checked before the first request, written
//! atomically when they are regular files, in place when they are anything else.
//!
//! A regular file (or a path that does not exist yet) is written to a temporary file in the
//! same directory and renamed over the path, so a reader never sees half a result. A device,
//! a FIFO or `-` (standard output) is written in place: renaming over a device node would
//! replace it with a regular file. A symbolic link is followed: its target is what is written.
//! A device or FIFO is opened once, at the check, and that descriptor is what is written
//! later: reopening a FIFO would find its reader gone (the check's close was its end of file).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

/// Where an output goes, decided before the run.
#[derive(Debug)]
pub enum Sink {
    /// Standard output (`-`).
    Stdout,
    /// A regular file, existing or not: temp file + rename. The file written (a link's target,
    /// an existing file's real path), then the path as given (what messages name).
    Regular(PathBuf, PathBuf),
    /// Anything else that exists (a character device, a FIFO): written in place, through the
    /// descriptor opened by the check.
    InPlace(PathBuf, File),
}

/// Checks an interval log's path (`--hdr-log`), which the run opens itself: a FIFO is refused
/// (opening one blocks until a reader comes), the rest as [`check`].
pub fn check_log(flag: &str, path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
        bail!("{flag} {}: a FIFO is not supported here; give a file or a device", path.display());
    }
    if path == Path::new("-") {
        bail!("{flag} -: standard output is not supported here; give a file");
    }
    check(flag, path).map(drop)
}

/// Refuses two output flags naming the same file (or both standard output): one would silently
/// overwrite the other. A path is compared as the file it names (links and `..` resolved where
/// it exists; its directory resolved where it does not yet).
pub fn distinct(outputs: &[(&str, Option<&Path>)]) -> anyhow::Result<()> {
    let named: Vec<(&str, &Path, PathBuf)> =
        outputs.iter().filter_map(|&(flag, path)| path.map(|path| (flag, path, file_named(path)))).collect();
    for (i, (flag, path, key)) in named.iter().enumerate() {
        if let Some((other, _, _)) = named[..i].iter().find(|(_, _, earlier)| earlier == key) {
            bail!(
                "{other} and {flag} both name {}: one would overwrite the other; give each its own file",
                path.display()
            );
        }
    }
    Ok(())
}

/// Refuses an output (`merge -o`, `--html`) naming one of the `inputs`: writing it would
/// overwrite what is being read. Compared as [`distinct`] compares.
pub fn not_an_input(flag: &str, path: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let key = file_named(path);
    if path != Path::new("-") && inputs.iter().any(|input| file_named(input) == key) {
        bail!(
            "{flag} {}: is one of the inputs; writing it would overwrite that input; give another file",
            path.display()
        );
    }
    Ok(())
}

fn file_named(path: &Path) -> PathBuf {
    file_named_through(path, LINKS_FOLLOWED_MAX)
}

/// How many links a path naming no file yet is followed through (the kernel's own limit).
const LINKS_FOLLOWED_MAX: u32 = 40;

/// The file `path` names; a dangling link is followed to the file it would make, at most
/// `links` deep (`--json r.json --html link` where `link` points at `r.json`, not there yet).
fn file_named_through(path: &Path, links: u32) -> PathBuf {
    if path == Path::new("-") {
        return path.to_path_buf();
    }
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    if let (Ok(to), Some(left)) = (std::fs::read_link(path), links.checked_sub(1)) {
        return file_named_through(&parent_of(path).join(to), left);
    }
    match (std::fs::canonicalize(parent_of(path)), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Checks `path` for flag `flag` before any load is sent: its directory exists and is writable,
/// and it is not a directory. Returns how it will be written.
pub fn check(flag: &str, path: &Path) -> anyhow::Result<Sink> {
    if path == Path::new("-") {
        return Ok(Sink::Stdout);
    }
    let shown = path.display();
    // `metadata` follows symbolic links: a link is judged by (and written through to) its target.
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!("{flag} {shown}: is a directory; give a file name"),
        Ok(meta) if meta.is_file() => {
            let target = std::fs::canonicalize(path).with_context(|| format!("{flag} {shown}"))?;
            check_directory(flag, path, &target)?;
            check_replaceable(flag, path, &target)?;
            Ok(Sink::Regular(target, path.to_path_buf()))
        }
        Ok(_) => {
            // A device or FIFO: it must be openable for writing. O_NONBLOCK keeps a FIFO with no
            // reader from blocking the check (it fails with ENXIO instead, which is reported);
            // the descriptor is then made blocking again and kept for the write.
            use std::os::unix::fs::OpenOptionsExt;
            use std::os::unix::io::AsRawFd;
            let file =
                OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| {
                    anyhow!("{flag} {shown}: cannot open for writing (a FIFO needs its reader first): {e}")
                })?;
            #[allow(unsafe_code)]
            // SAFETY: fcntl on a descriptor this function owns, with integer flags only.
            unsafe {
                let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
                if flags >= 0 {
                    libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
                }
            }
            Ok(Sink::InPlace(path.to_path_buf(), file))
        }
        // Not there, or under a path part that is not a directory (said by the check below).
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
            // A link to a file not there yet is written through too: the file is made where
            // the link points (one level of link; a chain is the OS's to follow then).
            let target = match std::fs::read_link(path) {
                Ok(to) => parent_of(path).join(to),
                Err(_) => path.to_path_buf(),
            };
            check_directory(flag, path, &target)?;
            Ok(Sink::Regular(target, path.to_path_buf()))
        }
        Err(e) => bail!("{flag} {shown}: {e}"),
    }
}

/// The directory of `target` must exist and accept a new file (tried, then removed).
fn check_directory(flag: &str, shown: &Path, target: &Path) -> anyhow::Result<()> {
    let dir = parent_of(target);
    let shown = shown.display();
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => bail!("{flag} {shown}: {} is not a directory", dir.display()),
        Err(e) => bail!("{flag} {shown}: directory {} does not exist ({e})", dir.display()),
    }
    let probe = temp_path(target, "check");
    File::options()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| anyhow!("{flag} {shown}: cannot write in {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// An existing file is replaced only if this user may write it: a read-only file is refused
/// (replacing it would undo its protection), and so is another user's file in a sticky
/// directory such as `/tmp` (the rename at the end would fail, the result lost after the run).
fn check_replaceable(flag: &str, shown: &Path, target: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let shown = shown.display();
    // Opened for writing without truncating: the permission check the kernel makes.
    if let Err(e) = OpenOptions::new().write(true).open(target) {
        bail!("{flag} {shown}: the file exists and cannot be written ({e}); make it writable or give another path");
    }
    let (file, dir) = (std::fs::metadata(target)?, std::fs::metadata(parent_of(target))?);
    // Root may write any file: one that nobody may write was made read-only on purpose.
    if file.is_file() && file.mode() & 0o222 == 0 {
        bail!(
            "{flag} {shown}: the file is read-only (mode {:o}); make it writable or give another path",
            file.mode() & 0o7777
        );
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    let euid = unsafe { libc::geteuid() };
    const STICKY: u32 = 0o1000;
    if euid != 0 && dir.mode() & STICKY != 0 && file.uid() != euid && dir.uid() != euid {
        bail!(
            "{flag} {shown}: the file belongs to another user in a sticky directory ({}), so it cannot be \
             replaced; give another path",
            parent_of(target).display()
        );
    }
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A hidden sibling of `target`, unique to this process.
fn temp_path(target: &Path, what: &str) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    parent_of(target).join(format!(".{name}.{what}-{}", std::process::id()))
}

/// Writes `bytes` to `sink`. A failed write (a full disk, `/dev/full`) is an error.
pub fn write(sink: &Sink, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(sink, |out| out.write_all(bytes))
}

/// Writes to `sink` what `fill` writes, through a buffer, as [`write`] writes bytes (a regular
/// file to a temporary one renamed over it once whole): a page written as it is drawn is never
/// held whole. A failed write, `fill`'s own included, is an error.
pub fn write_with(sink: &Sink, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    match sink {
        Sink::Stdout => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            fill(&mut out).and_then(|()| out.flush()).context("writing to standard output")
        }
        Sink::InPlace(path, file) => {
            let mut out = std::io::BufWriter::new(file);
            fill(&mut out).and_then(|()| out.flush()).with_context(|| format!("writing {}", path.display()))
        }
        Sink::Regular(path, _) => {
            let tmp = temp_path(path, "tmp");
            let result = (|| -> std::io::Result<()> {
                let mut out = std::io::BufWriter::new(File::create(&tmp)?);
                fill(&mut out)?;
                let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
                // A file replaced keeps its mode (a new one gets the umask's).
                if let Ok(old) = std::fs::metadata(path) {
                    file.set_permissions(old.permissions())?;
                }
                file.sync_all()?;
                std::fs::rename(&tmp, path)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result.with_context(|| format!("writing {}", path.display()))
        }
    }
}

/// What a failed [`write`] to `sink` (given as `flag`) says: that `what` (`the result`) was
/// not written, and why (`--json /dev/full: the result was NOT written: No space left on
/// device (os error 28)`).
pub fn not_written(flag: &str, what: &str, sink: &Sink, err: &anyhow::Error) -> anyhow::Error {
    anyhow!("{flag} {}: {what} was NOT written: {}", sink.describe(), err.root_cause())
}

/// Reads `path`'s bytes, refusing more than `max_bytes` (a device like `/dev/zero` never ends).
pub fn read_bounded_bytes(path: &Path, max_bytes: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    use mite_core::scenario::file::NotRegular;
    use std::io::Read;
    let shown = path.display();
    // `-` is a file name here, not standard input: it said "reading -: No such file".
    if path == Path::new("-") && !path.exists() {
        bail!("-: standard input is not read here; give {what}'s path (save what it would send to a file)");
    }
    // Asked before opening: `compare a.json fifo` waited for ever for a writer.
    match mite_core::scenario::file::not_regular(path) {
        None => {}
        Some(kind @ (NotRegular::NamedPipe | NotRegular::Device)) => {
            bail!("{shown}: is {kind}, not {what} ({}): save it to a file and name that", kind.why())
        }
        Some(kind) => bail!("{shown}: is {kind}, not {what}: give a file's path"),
    }
    let file = File::open(path).with_context(|| format!("reading {shown}"))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes).with_context(|| format!("reading {shown}"))?;
    if bytes.len() as u64 > max_bytes {
        bail!("{shown}: larger than {max_bytes} bytes; not {what}");
    }
    Ok(bytes)
}

/// `path` is not UTF-8 text: where, as a line number.
pub fn not_text(path: &Path, bytes: &[u8], error: std::str::Utf8Error) -> anyhow::Error {
    let at = error.valid_up_to();
    let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
    anyhow!("{} is not text (UTF-8): a byte that is not UTF-8 at line {line}", path.display())
}

impl Sink {
    /// Whether this is standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Sink::Stdout)
    }

    /// The path as the user gave it (for messages).
    pub fn describe(&self) -> String {
        match self {
            Sink::Stdout => "standard output".into(),
            // As given: an existing file's real path (resolved to write through a link) said
            // `/tmp/x/r.json` of `--json r.json` once r.json was there, `r.json` before.
            Sink::Regular(_, path) | Sink::InPlace(path, _) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary directory for one test, removed when dropped.
    fn dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new().prefix(&format!("mite-output-{name}-")).tempdir().unwrap()
    }

    #[test]
    fn two_flags_naming_one_file_are_refused() {
        let d = dir("distinct");
        let (a, b) = (d.path().join("r.json"), d.path().join("r.html"));
        assert!(distinct(&[("--json", Some(&a)), ("--html", Some(&b)), ("--hdr-log", None)]).is_ok());
        let again = d.path().join("sub/../r.json");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let err = distinct(&[("--json", Some(&a)), ("--html", Some(&again))]).unwrap_err().to_string();
        assert!(err.starts_with("--json and --html both name"), "{err}");
        std::fs::write(&a, "x").unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        assert!(distinct(&[("--json", Some(&a)), ("--hdr-log", Some(&link))]).is_err());
        let stdout = Path::new("-");
        assert!(distinct(&[("--json", Some(stdout)), ("--html", Some(stdout))]).is_err());
    }

    #[test]
    fn a_link_to_a_missing_file_is_written_through() {
        let d = dir("dangling");
        let link = d.path().join("result.json");
        std::os::unix::fs::symlink("out/r.json", &link).unwrap();
        let err = check("--json", &link).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        std::fs::create_dir(d.path().join("out")).unwrap();
        let sink = check("--json", &link).unwrap();
        write(&sink, b"{}").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read_to_string(d.path().join("out/r.json")).unwrap(), "{}");
    }

    #[test]
    fn reading_is_bounded() {
        let d = dir("bounded");
        let path = d.path().join("r.json");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_bounded_bytes(&path, 10, "a result file").unwrap(), b"0123456789");
        let err = read_bounded_bytes(&path, 9, "a result file").unwrap_err().to_string();
        assert!(err.contains("larger than 9 bytes"), "{err}");
        let err = read_bounded_bytes(Path::new("/dev/zero"), 1024, "a result file").unwrap_err().to_string();
        assert_eq!(
            err,
            "/dev/zero: is a device, not a result file (reading it may never end): save it to a file and name that"
        );
        let err = read_bounded_bytes(Path::new("-"), 1024, "a result file").unwrap_err().to_string();
        assert_eq!(
            err,
            "-: standard input is not read here; give a result file's path (save what it would send to a file)"
        );
        let err = read_bounded_bytes(d.path(), 1024, "a result file").unwrap_err().to_string();
        assert!(err.ends_with("is a directory, not a result file: give a file's path"), "{err}");
        std::fs::write(&path, b"{\n\"a\": \"caf\xe9\"}").unwrap();
        let bytes = read_bounded_bytes(&path, 100, "a result file").unwrap();
        let err = not_text(&path, &bytes, std::str::from_utf8(&bytes).unwrap_err()).to_string();
        assert!(err.ends_with("is not text (UTF-8): a byte that is not UTF-8 at line 2"), "{err}");
    }

    #[test]
    fn missing_directory_and_directory_are_refused() {
        let tmp = dir("refused");
        let d = tmp.path();
        let err = check("--json", &d.join("no/such/dir/r.json")).unwrap_err().to_string();
        assert!(err.contains("--json") && err.contains("does not exist"), "{err}");
        let err = check("--html", d).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
    }

    /// Outside testers: a result path whose "directory" is a regular file (as any path that
    /// cannot be written) is refused at the check, before the run, even as root.
    #[test]
    fn a_path_under_a_regular_file_is_refused() {
        let tmp = dir("under-file");
        let file = tmp.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let err = check("--json", &file.join("r.json")).unwrap_err().to_string();
        assert_eq!(err, format!("--json {}: {} is not a directory", file.join("r.json").display(), file.display()));
    }

    /// Outside testers: `--json t9.json --html dl.json` with `dl.json` a link to `t9.json`, not
    /// there yet, wrote the page over the result. The link is followed to the file it would make.
    #[test]
    fn a_dangling_link_to_another_output_is_the_same_file() {
        let tmp = dir("dangling");
        let (json, link, chain) = (tmp.path().join("t9.json"), tmp.path().join("dl.json"), tmp.path().join("c.json"));
        std::os::unix::fs::symlink("t9.json", &link).unwrap();
        std::os::unix::fs::symlink(&link, &chain).unwrap();
        let err = distinct(&[("--json", Some(&json)), ("--html", Some(&link))]).unwrap_err().to_string();
        assert!(err.starts_with("--json and --html both name"), "{err}");
        assert!(distinct(&[("--json", Some(&json)), ("--hdr-log", Some(&chain))]).is_err(), "a chain of links");
        let loop_link = tmp.path().join("loop");
        std::os::unix::fs::symlink("loop", &loop_link).unwrap();
        assert!(distinct(&[("--json", Some(&json)), ("--html", Some(&loop_link))]).is_ok(), "a loop ends");
    }

    /// Outside testers: as root, a read-only result file was replaced (root may write any file);
    /// one nobody may write is refused whoever runs, and left as it was.
    #[test]
    fn a_read_only_file_is_refused_even_for_root() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = dir("read-only");
        let path = tmp.path().join("r.json");
        std::fs::write(&path, "kept").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = check("--json", &path).unwrap_err().to_string();
        // As root: the mode; as another user: the kernel's refusal to open it for writing.
        assert!(err.contains("the file is read-only (mode 444)") || err.contains("cannot be written"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    }

    /// Outside testers: a replaced result file came back with the umask's mode (0644).
    #[test]
    fn a_replaced_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = dir("mode");
        let path = tmp.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&check("--json", &path).unwrap(), b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777, 0o640);
    }

    /// `result written to r.json` on the first run said `/tmp/x/r.json` on the next, once the
    /// file existed (its real path): an existing file is named as given too.
    #[test]
    fn a_file_is_named_as_given_whether_or_not_it_exists() {
        let tmp = dir("named");
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let given = tmp.path().join("sub/../r.json");
        assert_eq!(check("--json", &given).unwrap().describe(), given.display().to_string());
        std::fs::write(&given, "{}").unwrap();
        let sink = check("--json", &given).unwrap();
        assert_eq!(sink.describe(), given.display().to_string());
        assert!(matches!(&sink, Sink::Regular(real, _) if *real == tmp.path().canonicalize().unwrap().join("r.json")));
    }

    #[test]
    fn regular_files_are_replaced_atomically() {
        let tmp = dir("regular");
        let d = tmp.path();
        let path = d.join("r.json");
        let sink = check("--json", &path).unwrap();
        assert!(matches!(&sink, Sink::Regular(p, _) if *p == path), "{sink:?}");
        write(&sink, b"one").unwrap();
        write(&sink, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary or probe file is left: {left:?}");
    }

    #[test]
    fn a_symlink_is_written_through() {
        let tmp = dir("symlink");
        let d = tmp.path();
        let target = d.join("real.json");
        std::fs::write(&target, b"old").unwrap();
        let link = d.join("link.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let sink = check("--json", &link).unwrap();
        write(&sink, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn devices_are_written_in_place_and_failures_reported() {
        let null = check("--json", Path::new("/dev/null")).unwrap();
        assert!(matches!(&null, Sink::InPlace(p, _) if p == Path::new("/dev/null")), "{null:?}");
        write(&null, b"x").unwrap();
        if Path::new("/dev/full").exists() {
            let full = check("--json", Path::new("/dev/full")).unwrap();
            let err = write(&full, b"x").unwrap_err();
            assert!(format!("{err:#}").contains("/dev/full"), "{err:#}");
            use std::os::unix::fs::FileTypeExt;
            assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
        }
    }
}
