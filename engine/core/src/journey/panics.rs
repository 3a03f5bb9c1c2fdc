//! A journey's panic, caught where its run is polled: the run ends there and is counted as
//! failed (`slot`), its core and everything counted on it go on. While a journey is polled the
//! process's panic hook writes nothing (a journey that panics on every run would otherwise
//! print a line per run, on the core's thread, to a standard error that may be full): the
//! panic's message and where it was raised are kept, bounded, for the run's figures instead.
//! Any other panic goes to the hook that was there before.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use crate::limits::PANIC_MESSAGE_BYTES_MAX;

thread_local! {
    /// A journey is being polled on this thread: its panic is caught, not printed.
    static IN_JOURNEY: Cell<bool> = const { Cell::new(false) };
    /// Where the panic being caught was raised (`file:line:column`), set by the hook.
    static RAISED_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook once per process, in front of the one there before (which still gets
/// every panic outside a journey's poll).
pub(crate) fn install_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if IN_JOURNEY.with(Cell::get) {
                let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                RAISED_AT.with(|cell| *cell.borrow_mut() = at);
            } else {
                before(info);
            }
        }));
    });
}

/// Runs `poll` (one poll of a journey's run); a panic in it comes back as its message, with
/// where it was raised when the hook saw it, bounded and printable.
#[inline]
pub(crate) fn catch<T>(poll: impl FnOnce() -> T) -> Result<T, String> {
    let outer = IN_JOURNEY.with(|flag| flag.replace(true));
    let caught = std::panic::catch_unwind(AssertUnwindSafe(poll));
    IN_JOURNEY.with(|flag| flag.set(outer));
    caught.map_err(|payload| {
        let at = RAISED_AT.with(|cell| cell.borrow_mut().take());
        bounded(text_of(payload.as_ref()), at.as_deref())
    })
}

/// The text a panic carried.
pub(crate) fn message(payload: &(dyn std::any::Any + Send)) -> String {
    text_of(payload).to_string()
}

fn text_of(payload: &(dyn std::any::Any + Send)) -> &str {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => text,
        (_, Some(text)) => text,
        _ => "a panic without a message",
    }
}

/// `message` cut to `PANIC_MESSAGE_BYTES_MAX` at a character's boundary (never copied whole:
/// a journey may panic with a response body), then where it was raised, made printable (it
/// may carry a server's words).
fn bounded(message: &str, at: Option<&str>) -> String {
    let mut end = message.len().min(PANIC_MESSAGE_BYTES_MAX);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut text = message[..end].to_string();
    if end < message.len() {
        text.push_str("...");
    }
    if let Some(at) = at {
        text.push_str(" (at ");
        text.push_str(at);
        text.push(')');
    }
    crate::model::terminal::printable(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic comes back with its message and where it was raised; the hook stays quiet for
    /// it; what follows runs as before (no flag left set).
    #[test]
    fn a_panic_comes_back_as_its_message_and_place() {
        install_hook();
        let caught = catch(|| -> u32 { panic!("journey {} exploded", 7) });
        let text = caught.unwrap_err();
        assert!(text.starts_with("journey 7 exploded (at "), "{text}");
        assert!(text.contains("panics.rs:"), "{text}");
        assert_eq!(catch(|| 3), Ok(3));
        assert!(!IN_JOURNEY.with(Cell::get), "the flag is cleared after a catch");
    }

    /// A long message is cut (at a character's boundary) and its control characters shown,
    /// not obeyed.
    #[test]
    fn the_message_is_bounded_and_printable() {
        let long = "é".repeat(PANIC_MESSAGE_BYTES_MAX);
        let text = bounded(&long, None);
        assert!(text.len() <= PANIC_MESSAGE_BYTES_MAX + 3, "{}", text.len());
        assert!(text.ends_with("..."));
        let text = bounded("bad \u{1b}[2J\r\nthing", Some("x.rs:1:2"));
        assert!(!text.contains('\u{1b}') && !text.contains('\n'), "{text:?}");
        assert!(text.ends_with("(at x.rs:1:2)"), "{text}");
        let text = bounded(&"x".repeat(1 << 20), Some("x.rs:1:2"));
        assert_eq!(text, format!("{}... (at x.rs:1:2)", "x".repeat(PANIC_MESSAGE_BYTES_MAX)));
    }
}
