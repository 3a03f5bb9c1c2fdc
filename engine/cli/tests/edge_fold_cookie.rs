//! A response head that is both folded (obs-fold) and carries a control character in a
//! `Set-Cookie`, end to end through `journey test`: each alone is read (the fold as spaces,
//! RFC 9112 §5.2; the cookie ignored, RFC 6265bis §5.6), and so must both be together.

mod support;
use support::{Scratch, engine_within, text};

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A server on 127.0.0.1 answering every request on a connection with `head` (a 2-byte body
/// `ok` after it), for `journey test`'s one request; its address.
fn serving(head: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(head).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// `journey test` of one GET against `head`: what it said.
fn one_request(head: &'static [u8]) -> String {
    let scratch = Scratch::new();
    let file = scratch.write(
        "fold.toml",
        format!(
            "name = \"fold\"\n[config]\nbase = \"http://{}\"\n[journeys.j]\nsteps = [ {{ transaction = \"t\", url = \
             \"{{base}}/\" }} ]\n[[scenario]]\njourney = \"j\"\nvolume = {{ constant = 1 }}\n",
            serving(head)
        ),
    );
    text(&engine_within(&["journey", "test", "j", "--scenario", &file], Duration::from_secs(30)))
}

/// Each alone: the fold is read as spaces, the cookie with a control character ignored and
/// said, the response read.
#[test]
fn a_fold_alone_and_a_control_cookie_alone_are_read() {
    let said = one_request(b"HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nSet-Cookie: s=ab\r\nContent-Length: 2\r\n\r\nok");
    assert!(said.contains("-> 200 (2 body bytes)") && said.contains("cookie stored: s=ab"), "{said}");
    let said = one_request(b"HTTP/1.1 200 OK\r\nSet-Cookie: s=a\x01b\r\nContent-Length: 2\r\n\r\nok");
    assert!(said.contains("-> 200 (2 body bytes)") && said.contains("ignored Set-Cookie"), "{said}");
    // The fold inside the cookie's own field: read, the cookie ignored.
    let said = one_request(b"HTTP/1.1 200 OK\r\nSet-Cookie: s=a\x01b;\r\n Path=/\r\nContent-Length: 2\r\n\r\nok");
    assert!(said.contains("-> 200 (2 body bytes)") && said.contains("ignored Set-Cookie"), "{said}");
}

/// Both in one head, the fold in another field before the cookie: the request failed
/// `malformed` (`the Set-Cookie field's value has a control character (byte 0x01)`), where
/// RFC 9112 §5.2 (a fold is read as spaces) and RFC 6265bis §5.6 (such a cookie is ignored)
/// make it the unfolded head's answer: 200, the cookie ignored (the codec's folding parse now
/// hands such a head to the same step as a strict one's).
#[test]
fn a_folded_head_with_a_control_cookie_is_read_and_the_cookie_ignored() {
    let said =
        one_request(b"HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nSet-Cookie: s=a\x01b\r\nContent-Length: 2\r\n\r\nok");
    assert!(said.contains("-> 200 (2 body bytes)") && said.contains("ignored Set-Cookie"), "{said}");
}
