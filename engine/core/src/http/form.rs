//! `application/x-www-form-urlencoded` encoding (the WHATWG URL standard's serializer), for
//! form bodies and query parameters: `*-._` and alphanumerics kept, space as `+`, every other
//! byte of the UTF-8 text as `%XX`.

/// Appends `name=value&...` for `pairs` to `out` (no leading separator).
pub fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(out: &mut String, pairs: &[(K, V)]) {
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(out, name.as_ref());
        out.push('=');
        encode_into(out, value.as_ref());
    }
}

/// Appends `text`, encoded, to `out`.
pub fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => out.push(byte as char),
            b' ' => out.push('+'),
            other => {
                out.push('%');
                out.push(HEX[usize::from(other >> 4)] as char);
                out.push(HEX[usize::from(other & 15)] as char);
            }
        }
    }
}

/// `url` with `pairs` added to its query (`?` or `&` as needed; a fragment is dropped).
pub fn with_query<K: AsRef<str>, V: AsRef<str>>(url: &str, pairs: &[(K, V)]) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let mut out = String::with_capacity(url.len() + 16 * pairs.len());
    out.push_str(url);
    if !pairs.is_empty() {
        if !url.contains('?') {
            // "http://h" has no path: the query needs one ("http://h/?q").
            let after_scheme = url.find("://").map_or(0, |i| i + 3);
            if !url[after_scheme..].contains('/') {
                out.push('/');
            }
            out.push('?');
        } else if !url.ends_with('?') && !url.ends_with('&') {
            out.push('&');
        }
        encode_pairs(&mut out, pairs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_a_browser_form() {
        let mut out = String::new();
        encode_pairs(&mut out, &[("user", "a b"), ("q", "x&y=z/é"), ("k*-._", "~!")]);
        assert_eq!(out, "user=a+b&q=x%26y%3Dz%2F%C3%A9&k*-._=%7E%21");
    }

    #[test]
    fn adds_query_parameters() {
        assert_eq!(with_query("http://h/p", &[("a", "1")]), "http://h/p?a=1");
        assert_eq!(with_query("http://h/p?x=0", &[("a", "1 2")]), "http://h/p?x=0&a=1+2");
        assert_eq!(with_query("http://h:80", &[("a", "1")]), "http://h:80/?a=1");
        assert_eq!(with_query("http://h/p?", &[("a", "1")]), "http://h/p?a=1");
        assert_eq!(with_query("http://h/p#frag", &[("a", "1")]), "http://h/p?a=1");
        let none: [(&str, &str); 0] = [];
        assert_eq!(with_query("http://h/p", &none), "http://h/p");
    }
}
