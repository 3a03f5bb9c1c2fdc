//! `{name}` templates in declarative journeys, parsed once at load time and rendered per
//! request from captured values, datapool columns and configuration (in that order).

use std::fmt;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// A parsed template. `{{` and `}}` stand for literal braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Template {
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
                    let close =
                        rest.find('}').ok_or_else(|| TemplateError(format!("unclosed {{ at byte {at} in {text:?}")))?;
                    let name = rest[..close].trim();
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
                    {
                        return Err(TemplateError(format!(
                            "{{{name}}} in {text:?}: variable names are letters, digits, _ . -"
                        )));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(name.to_string()));
                    for _ in 0..close + 1 {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(TemplateError(format!(
                        "unmatched }} at byte {at} in {text:?} (write }}}} for a brace)"
                    )));
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

    /// Variable names used.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
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
                Part::Var(name) => {
                    out.push_str(lookup(name).ok_or_else(|| TemplateError(format!("no value for {{{name}}}")))?)
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn literal_and_errors() {
        assert_eq!(Template::parse("plain").unwrap().as_literal(), Some("plain"));
        assert_eq!(Template::parse("").unwrap().as_literal(), Some(""));
        assert!(Template::parse("{open").is_err());
        assert!(Template::parse("close}").is_err());
        assert!(Template::parse("{bad name}").is_err());
        let mut out = String::new();
        assert!(Template::parse("{x}").unwrap().render_into(&mut out, |_| None).unwrap_err().0.contains("{x}"));
    }
}
