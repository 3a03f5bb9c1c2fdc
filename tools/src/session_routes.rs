//! The target's user-flow routes: a login flow (form or JSON credentials → 302 with
//! `Set-Cookie` → a page that requires the cookie), redirect chains with every followed status,
//! a redirect loop, basic auth, and echoes of JSON bodies, query strings and cookies.
//!
//! | route | answer |
//! |---|---|
//! | `POST /login` (`user=U&password=secret`, form or JSON) | 302 to `/account`, `Set-Cookie: session=tok-U; Path=/; HttpOnly`; 401 on bad credentials |
//! | `GET /account` | 200 `hello U` with cookie `session=tok-U`, else 401 |
//! | `GET /logout` | 302 to `/`, the session cookie expired |
//! | `/redirect/<status>/<n>` | `<status>` (301, 302, 303, 307, 308) to `/redirect/<status>/<n-1>`; `n = 0`: 200 `METHOD body` |
//! | `/redirect/loop` | 302 to itself |
//! | `/redirect/to?url=URL` | 302 to `URL` (form-decoded) |
//! | `/redirect/binary` | 302 with a `Location` that is not UTF-8 (hostile) |
//! | `/redirect/two`, `/redirect/twice` | 302 with two `Location` fields: `/query` and `/cookies`; `/query` twice |
//! | `/redirect/absolute/<n>` | like 302, with absolute `Location` URLs |
//! | `/basic-auth/<user>/<password>` | 200 `user` with those credentials, else 401 with `WWW-Authenticate` |
//! | `POST /json/echo` | the body back as `application/json` when it is JSON sent as JSON, else 400 |
//! | `/query` | the raw query string |
//! | `/cookies` | the `Cookie` header received |
//! | `/cookies/set?F&F...` | 200 `set`, each `F` (form-decoded) a `Set-Cookie` field; 400 if one has a line break |
//! | `/cookies/redirect?F&F...` | the same fields on a 302 to `/cookies` |
//! | `/cookies/binary` | 200 `set` with `Set-Cookie: bin=\xff\xfe; Path=/` (not UTF-8) and `Set-Cookie: good=1; Path=/` |
//! | `/cookies/many/<n>` | 200 `set` with `n` (at most 5,000) fields `Set-Cookie: c<i>=1; Path=/` |

use base64::Engine;

use crate::route::{Action, Request};

/// The password every user of the login flow has.
pub const PASSWORD: &str = "secret";

fn respond(status: u16, reason: &str, extra_headers: &str, body: &[u8], close: bool) -> Action {
    let mut bytes = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: mite-target\r\nContent-Length: {}\r\n{}{extra_headers}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    if close { Action::WriteThenClose(bytes) } else { Action::Write(bytes) }
}

fn redirect(status: u16, location: &str, extra_headers: &str, close: bool) -> Action {
    let reason = match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        _ => "Permanent Redirect",
    };
    respond(status, reason, &format!("Location: {location}\r\n{extra_headers}"), b"", close)
}

/// Routes a user-flow request, or `None` when the path is not one of these routes.
pub fn route(request: &Request<'_>, first: &str, rest: &str) -> Option<Action> {
    let close = request.close;
    let unauthorized = |why: &str| respond(401, "Unauthorized", "", why.as_bytes(), close);
    Some(match (first, rest) {
        ("login", "") if request.method == "POST" => match credentials(request) {
            Some(user) => {
                redirect(302, "/account", &format!("Set-Cookie: session=tok-{user}; Path=/; HttpOnly\r\n"), close)
            }
            None => unauthorized("bad credentials"),
        },
        ("account", "") => match cookie(request.cookie, "session").and_then(|t| t.strip_prefix("tok-")) {
            Some(user) if !user.is_empty() => respond(200, "OK", "", format!("hello {user}").as_bytes(), close),
            _ => unauthorized("log in first"),
        },
        ("logout", "") => redirect(302, "/", "Set-Cookie: session=; Path=/; Max-Age=0\r\n", close),
        ("redirect", "loop") => redirect(302, "/redirect/loop", "", close),
        ("redirect", "binary") => {
            let bytes = b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nLocation: /\xff\xfe\r\n\r\n".to_vec();
            if close {
                return Some(Action::WriteThenClose(bytes));
            }
            Action::Write(bytes)
        }
        ("redirect", "two") => redirect(302, "/query", "Location: /cookies\r\n", close),
        ("redirect", "twice") => redirect(302, "/query", "Location: /query\r\n", close),
        ("redirect", "to") => {
            let query = request.path.split_once('?').map_or("", |(_, q)| q);
            let to = percent_decode(query.strip_prefix("url=")?)?;
            redirect(302, &to, "", close)
        }
        ("redirect", rest) => chain(request, rest)?,
        ("basic-auth", rest) => {
            let (user, password) = rest.split_once('/')?;
            let expected = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            match request.authorization.and_then(|a| a.strip_prefix("Basic ")) {
                Some(given) if given.trim() == expected => respond(200, "OK", "", user.as_bytes(), close),
                _ => respond(401, "Unauthorized", "WWW-Authenticate: Basic realm=\"mite\"\r\n", b"", close),
            }
        }
        ("json", "echo") => {
            let is_json = request.content_type.is_some_and(|t| t.starts_with("application/json"));
            if is_json && serde_json::from_slice::<serde_json::Value>(request.body).is_ok() {
                respond(200, "OK", "Content-Type: application/json\r\n", request.body, close)
            } else {
                respond(400, "Bad Request", "", b"send a JSON body with Content-Type: application/json", close)
            }
        }
        ("query", "") => respond(200, "OK", "", request.path.split_once('?').map_or("", |(_, q)| q).as_bytes(), close),
        ("cookies", "") => respond(200, "OK", "", request.cookie.unwrap_or("").as_bytes(), close),
        ("cookies", "set") => set_cookies(request, None),
        ("cookies", "redirect") => set_cookies(request, Some("/cookies")),
        ("cookies", "binary") => {
            let mut bytes = b"HTTP/1.1 200 OK\r\nServer: mite-target\r\nContent-Length: 3\r\n\
                              Set-Cookie: bin=\xff\xfe; Path=/\r\nSet-Cookie: good=1; Path=/\r\n"
                .to_vec();
            if close {
                bytes.extend_from_slice(b"Connection: close\r\n\r\nset");
                return Some(Action::WriteThenClose(bytes));
            }
            bytes.extend_from_slice(b"\r\nset");
            Action::Write(bytes)
        }
        ("cookies", many) if many.starts_with("many/") => {
            let n: usize = many["many/".len()..].parse().ok().filter(|&n| n <= 5_000)?;
            let fields: String = (0..n).map(|i| format!("Set-Cookie: c{i}=1; Path=/\r\n")).collect();
            respond(200, "OK", &fields, b"set", close)
        }
        _ => return None,
    })
}

/// `/cookies/set?F&F...`: each form-decoded `F` as a `Set-Cookie` field, as a careless or
/// hostile server writes them (odd attributes, quotes, non-ASCII text); on a 302 to
/// `redirect_to` when given.
fn set_cookies(request: &Request<'_>, redirect_to: Option<&str>) -> Action {
    let query = request.path.split_once('?').map_or("", |(_, q)| q);
    let mut fields = String::new();
    for field in query.split('&').filter(|f| !f.is_empty()) {
        match percent_decode(field) {
            Some(text) if !text.contains(['\r', '\n']) => fields.push_str(&format!("Set-Cookie: {text}\r\n")),
            _ => {
                return respond(400, "Bad Request", "", b"each field form-encoded, without line breaks", request.close);
            }
        }
    }
    match redirect_to {
        Some(location) => redirect(302, location, &fields, request.close),
        None => respond(200, "OK", &fields, b"set", request.close),
    }
}

/// `/redirect/<status>/<n>` and `/redirect/absolute/<n>`.
fn chain(request: &Request<'_>, rest: &str) -> Option<Action> {
    let (kind, n) = rest.split_once('/')?;
    let n: u32 = n.parse().ok().filter(|&n| n <= 100)?;
    let close = request.close;
    if n == 0 {
        let mut body = format!("{} ", request.method).into_bytes();
        body.extend_from_slice(request.body);
        return Some(respond(200, "OK", "", &body, close));
    }
    if kind == "absolute" {
        let host = request.host.unwrap_or("127.0.0.1");
        return Some(redirect(302, &format!("http://{host}/redirect/absolute/{}", n - 1), "", close));
    }
    let status: u16 = kind.parse().ok().filter(|s| matches!(s, 301 | 302 | 303 | 307 | 308))?;
    Some(redirect(status, &format!("/redirect/{status}/{}", n - 1), "", close))
}

/// The user of a good login, from a form or JSON body.
fn credentials(request: &Request<'_>) -> Option<String> {
    let (user, password) = if request.content_type.is_some_and(|t| t.starts_with("application/json")) {
        let value: serde_json::Value = serde_json::from_slice(request.body).ok()?;
        (value.get("user")?.as_str()?.to_string(), value.get("password")?.as_str()?.to_string())
    } else {
        let text = std::str::from_utf8(request.body).ok()?;
        let field = |name: &str| {
            text.split('&').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (percent_decode(key)? == name).then(|| percent_decode(value)).flatten()
            })
        };
        (field("user")?, field("password")?)
    };
    (!user.is_empty() && password == PASSWORD && user.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(user)
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
pub fn percent_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(method: &'a str, path: &'a str, body: &'a [u8]) -> Request<'a> {
        Request { method, path, body, close: false, ..Request::default() }
    }

    fn text(action: Option<Action>) -> String {
        match action {
            Some(Action::Write(bytes)) => String::from_utf8(bytes).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn login_sets_the_cookie_and_account_needs_it() {
        let login = text(route(&request("POST", "/login", b"user=alice&password=secret"), "login", ""));
        assert!(login.starts_with("HTTP/1.1 302 ") && login.contains("Set-Cookie: session=tok-alice; Path=/"));
        let bad = text(route(&request("POST", "/login", b"user=alice&password=nope"), "login", ""));
        assert!(bad.starts_with("HTTP/1.1 401 "));
        let mut account = request("GET", "/account", b"");
        assert!(text(route(&account, "account", "")).starts_with("HTTP/1.1 401 "));
        account.cookie = Some("theme=dark; session=tok-alice");
        assert!(text(route(&account, "account", "")).ends_with("hello alice"));
        let mut json = request("POST", "/login", br#"{"user":"bob","password":"secret"}"#);
        json.content_type = Some("application/json");
        assert!(text(route(&json, "login", "")).contains("session=tok-bob"));
    }

    #[test]
    fn redirect_chains_count_down() {
        let hop = text(route(&request("GET", "/redirect/307/2", b""), "redirect", "307/2"));
        assert!(hop.starts_with("HTTP/1.1 307 ") && hop.contains("Location: /redirect/307/1\r\n"));
        let end = text(route(&request("POST", "/redirect/307/0", b"data"), "redirect", "307/0"));
        assert!(end.ends_with("POST data"));
        assert!(route(&request("GET", "/redirect/200/1", b""), "redirect", "200/1").is_none());
    }

    #[test]
    fn basic_auth() {
        let mut req = request("GET", "/basic-auth/u/p", b"");
        assert!(text(route(&req, "basic-auth", "u/p")).starts_with("HTTP/1.1 401 "));
        req.authorization = Some("Basic dTpw");
        assert!(text(route(&req, "basic-auth", "u/p")).starts_with("HTTP/1.1 200 "));
    }

    #[test]
    fn cookies_set_writes_each_field() {
        let set = text(route(&request("GET", "/cookies/set?a%3D1%3B+Path%3D%2F&b%3D%22x+y%22", b""), "cookies", "set"));
        assert!(set.starts_with("HTTP/1.1 200 "), "{set}");
        assert!(set.contains("\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=\"x y\"\r\n"), "{set}");
        let broken = text(route(&request("GET", "/cookies/set?a%3D1%0D%0AX%3A+1", b""), "cookies", "set"));
        assert!(broken.starts_with("HTTP/1.1 400 "), "{broken}");
    }

    #[test]
    fn form_decoding() {
        assert_eq!(percent_decode("a+b%26c%3D").as_deref(), Some("a b&c="));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }
}
