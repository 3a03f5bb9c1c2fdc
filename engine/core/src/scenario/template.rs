//! `{name}` templates in declarative journeys, parsed once at load time and rendered per
//! request from captured values, datapool columns and configuration (in that order).
//!
//! In a URL template, a value that lands in the path or the query is percent-encoded (every
//! byte but RFC 3986's unreserved `A-Z a-z 0-9 - . _ ~`), so `Mary Ann` becomes `Mary%20Ann`
//! and `a/b?c` stays one segment. A value before the path (`{base}/users`, `http://{host}/`)
//! is inserted as it is, and so is `{+name}` anywhere (RFC 6570's reserved expansion), for a
//! value that is already a path or already encoded.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Bytes percent-encoded in a value substituted into a URL's path or query: all but unreserved.
const URL_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String, Insert),
}

/// How a variable's value is inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Insert {
    /// As it is (`{name}` outside a URL's path and query).
    Plain,
    /// As it is, by request (`{+name}`).
    Raw,
    /// Percent-encoded (`{name}` in a URL's path or query).
    Encoded,
}

/// A parsed template. `{{` and `}}` stand for literal braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template that does not parse, or a value it cannot render.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{` with no `}` after it.
    #[error("unclosed {{ at byte {at} in {text:?}")]
    Unclosed {
        /// Byte offset of the `{`.
        at: usize,
        /// The template text.
        text: String,
    },
    /// `}` that closes nothing.
    #[error("unmatched }} at byte {at} in {text:?} (write }}}} for a brace)")]
    Unmatched {
        /// Byte offset of the `}`.
        at: usize,
        /// The template text.
        text: String,
    },
    /// A variable name with other characters than letters, digits, `_ . -`.
    #[error(
        "{{{name}}} in {text:?}: variable names are letters, digits, _ . - (for a literal brace, as in a JSON body, write {{{{ or }}}})"
    )]
    BadName {
        /// The name as written.
        name: String,
        /// The template text.
        text: String,
    },
    /// Rendering found no value for a variable.
    #[error("no value for {{{name}}}")]
    NoValue {
        /// The variable.
        name: String,
    },
    /// A TOML float JSON cannot hold (NaN, infinity), in a `json` body.
    #[error("{value} has no JSON form")]
    NoJsonNumber {
        /// The value as TOML writes it.
        value: String,
    },
    /// A TOML date in a `json` body.
    #[error("TOML dates have no JSON form; write the date as a string")]
    TomlDate,
}

/// Whether `name` may be a template's variable (`{name}`): letters (any script's), digits,
/// `_`, `.` and `-`, at least one.
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-')
}

impl Template {
    /// Parses a URL template: values that land in the path or query are percent-encoded,
    /// unless written `{+name}`.
    pub fn parse_url(text: &str) -> Result<Template, TemplateError> {
        let mut template = Template::parse(text)?;
        // The path starts at the first `/`, `?` or `#` of the literal text after `://` (or,
        // when the scheme comes from a variable such as `{base}`, anywhere in the literal).
        let mut in_path = false;
        for part in &mut template.parts {
            match part {
                Part::Text(literal) if !in_path => {
                    let after_scheme = literal.find("://").map_or(literal.as_str(), |at| &literal[at + 3..]);
                    in_path = after_scheme.contains(['/', '?', '#']);
                }
                Part::Var(_, insert) if in_path && *insert == Insert::Plain => *insert = Insert::Encoded,
                _ => {}
            }
        }
        Ok(template)
    }

    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let close = rest.find('}').ok_or_else(|| TemplateError::Unclosed { at, text: text.to_string() })?;
                    let name = rest[..close].trim();
                    let (name, insert) = match name.strip_prefix('+') {
                        Some(raw) => (raw.trim(), Insert::Raw),
                        None => (name, Insert::Plain),
                    };
                    if !is_variable_name(name) {
                        return Err(TemplateError::BadName { name: name.to_string(), text: text.to_string() });
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(name.to_string(), insert));
                    // Past the closing brace, by byte offset: a name may hold letters of more
                    // than one byte (`{prénom}`), which a count of characters would overrun.
                    let closing = at + 1 + close;
                    while chars.next_if(|&(i, _)| i <= closing).is_some() {}
                }
                '}' => {
                    return Err(TemplateError::Unmatched { at, text: text.to_string() });
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() || parts.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The text, when the template has no variables.
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// The text written around the variables, joined (`{a}:{b}` gives `:`): what every
    /// rendering holds, whatever the values.
    pub fn literal_text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Text(text) => Some(text.as_str()),
                Part::Var(..) => None,
            })
            .collect()
    }

    /// Variable names used.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name, _) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text: the template's own when it has no variables, the value itself when the
    /// template is one variable inserted as it is (`{base_url}`), else rendered into `buf`
    /// (cleared first); the first two cost no copy.
    pub fn text<'s, 'a: 's>(
        &'s self,
        buf: &'s mut String,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<&'s str, TemplateError> {
        match self.parts.as_slice() {
            [Part::Text(text)] => return Ok(text),
            [Part::Var(name, Insert::Plain | Insert::Raw)] => {
                return lookup(name).ok_or_else(|| TemplateError::NoValue { name: name.clone() });
            }
            _ => {}
        }
        buf.clear();
        self.render_into(buf, lookup)?;
        Ok(buf.as_str())
    }

    /// ` (from {a} = "x", {b} = "y")`: the values a rendering of this template took, for an
    /// error about what it rendered; empty when it took none.
    pub fn rendered_from<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
        let values: Vec<String> =
            self.variables().filter_map(|name| lookup(name).map(|value| format!("{{{name}}} = {value:?}"))).collect();
        if values.is_empty() { String::new() } else { format!(" (from {})", values.join(", ")) }
    }

    /// Appends the rendered text to `out`; `lookup` resolves variables (`None`: unknown).
    pub fn render_into<'a>(
        &self,
        out: &mut String,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<(), TemplateError> {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(name, insert) => {
                    let value = lookup(name).ok_or_else(|| TemplateError::NoValue { name: name.clone() })?;
                    if *insert == Insert::Encoded {
                        out.extend(utf8_percent_encode(value, URL_VALUE));
                    } else {
                        out.push_str(value);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV column named `prénom` (or `名前`) could never be read: `{prénom}` was refused as
    /// "variable names are letters, digits, _ . -", though é is a letter. Any letter is taken
    /// now; a space, a colon or a quote still is not.
    #[test]
    fn variable_names_take_any_letter() {
        for name in ["prénom", "名前", "straße_2", "Zoë.name-x"] {
            // The text after the name is kept whole (`&v=` was eaten by one byte per extra
            // byte of the name's letters).
            let template = Template::parse_url(&format!("http://h/{{{name}}}&v={{ v }}/ü")).unwrap();
            assert_eq!(template.variables().collect::<Vec<_>>(), [name, "v"]);
            let mut out = String::new();
            template.render_into(&mut out, |n| Some(if n == name { "é 1" } else { "x" })).unwrap();
            assert_eq!(out, "http://h/%C3%A9%201&v=x/ü");
        }
        for bad in ["nom é", "a:b", "a\"b", "🚀"] {
            assert!(
                matches!(Template::parse(&format!("{{{bad}}}")), Err(TemplateError::BadName { .. })),
                "{bad:?} taken as a name"
            );
        }
    }

    #[test]
    fn text_borrows_a_literal_or_a_lone_variable_and_renders_the_rest() {
        let lookup = |name: &str| (name == "base").then_some("http://h:1/a b");
        let mut buf = String::from("stale");
        let lone = Template::parse_url("{base}").unwrap();
        let text = lone.text(&mut buf, lookup).unwrap();
        assert_eq!(text, "http://h:1/a b");
        assert!(std::ptr::eq(text, lookup("base").unwrap()), "a lone variable is the value itself, not a copy");
        let raw = Template::parse_url("http://h/{+base}").unwrap();
        assert_eq!(raw.text(&mut buf, lookup).unwrap(), "http://h/http://h:1/a b");
        let encoded = Template::parse_url("http://h/{base}").unwrap();
        assert_eq!(encoded.text(&mut buf, lookup).unwrap(), "http://h/http%3A%2F%2Fh%3A1%2Fa%20b");
        assert_eq!(Template::parse_url("http://h/").unwrap().text(&mut buf, lookup).unwrap(), "http://h/");
        let missing = Template::parse_url("{nope}").unwrap();
        assert_eq!(missing.text(&mut buf, lookup), Err(TemplateError::NoValue { name: "nope".into() }));
    }

    #[test]
    fn renders_variables_and_escapes() {
        let t = Template::parse("{base}/users/{ id }?q={{x}}").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), vec!["base", "id"]);
        let mut out = String::new();
        t.render_into(&mut out, |name| match name {
            "base" => Some("http://h"),
            "id" => Some("7"),
            _ => None,
        })
        .unwrap();
        assert_eq!(out, "http://h/users/7?q={x}");
    }

    fn render(template: &Template, values: &[(&str, &'static str)]) -> String {
        let mut out = String::new();
        template.render_into(&mut out, |name| values.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)).unwrap();
        out
    }

    /// Issue 10: values in a URL's path or query are percent-encoded; the origin and `{+raw}`
    /// values are not.
    #[test]
    fn url_values_are_encoded_where_they_land() {
        let values = [("base", "http://h:8080"), ("name", "Mary Ann"), ("q", "a&b=c/d?é"), ("p", "x/y z")];
        let t = Template::parse_url("{base}/users/{name}?q={q}&raw={+p}").unwrap();
        assert_eq!(render(&t, &values), "http://h:8080/users/Mary%20Ann?q=a%26b%3Dc%2Fd%3F%C3%A9&raw=x/y z");
        let t = Template::parse_url("http://{host}:{port}/{name}").unwrap();
        assert_eq!(render(&t, &[("host", "h"), ("port", "80"), ("name", "a b")]), "http://h:80/a%20b");
        let t = Template::parse_url("{base}{name}").unwrap();
        assert_eq!(render(&t, &values), "http://h:8080Mary Ann", "no path yet: inserted as it is");
        let t = Template::parse_url("{base}/{+p}").unwrap();
        assert_eq!(render(&t, &values), "http://h:8080/x/y z");
        assert_eq!(render(&Template::parse_url("{base}/-._~").unwrap(), &values), "http://h:8080/-._~");
        // Outside URLs nothing is encoded, and `{+name}` means the same as `{name}`.
        assert_eq!(render(&Template::parse("{name} {+name}").unwrap(), &values), "Mary Ann Mary Ann");
    }

    #[test]
    fn literal_and_errors() {
        assert_eq!(Template::parse("plain").unwrap().as_literal(), Some("plain"));
        assert_eq!(Template::parse("").unwrap().as_literal(), Some(""));
        assert!(Template::parse("{open").is_err());
        assert!(Template::parse("close}").is_err());
        assert!(Template::parse("{bad name}").is_err());
        // A JSON body with one brace: the error says how to write a literal one.
        let json = Template::parse(r#"{"user": "{name}", "n": 1}"#).unwrap_err().to_string();
        assert!(json.ends_with("(for a literal brace, as in a JSON body, write {{ or }})"), "{json}");
        let doubled = Template::parse(r#"{{"user": "{name}"}}"#).unwrap();
        assert_eq!(doubled.variables().collect::<Vec<_>>(), ["name"]);
        let mut out = String::new();
        assert!(
            Template::parse("{x}").unwrap().render_into(&mut out, |_| None).unwrap_err().to_string().contains("{x}")
        );
    }
}
