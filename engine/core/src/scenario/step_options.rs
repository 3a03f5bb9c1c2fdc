//! The session options of a declarative step: cookies, redirects, basic auth, JSON and form
//! bodies, query parameters. Parsed from a step's TOML fields at load time (templates checked
//! then), rendered per request, applied to the request builder.

use crate::journey::RequestBuilder;
use crate::scenario::template::{Template, TemplateError};

/// A JSON body whose strings are templates.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTemplate {
    /// `true`, a number (written as in the file).
    Literal(serde_json::Value),
    /// A string template.
    Text(Template),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// A table (object).
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// From a TOML value: strings become templates; dates are refused.
    pub fn from_toml(value: &toml::Value) -> Result<JsonTemplate, TemplateError> {
        Ok(match value {
            toml::Value::String(text) => JsonTemplate::Text(Template::parse(text)?),
            toml::Value::Integer(n) => JsonTemplate::Literal((*n).into()),
            toml::Value::Float(x) => JsonTemplate::Literal(
                serde_json::Number::from_f64(*x)
                    .map(serde_json::Value::Number)
                    .ok_or_else(|| TemplateError::NoJsonNumber { value: x.to_string() })?,
            ),
            toml::Value::Boolean(b) => JsonTemplate::Literal((*b).into()),
            toml::Value::Array(items) => {
                JsonTemplate::Array(items.iter().map(JsonTemplate::from_toml).collect::<Result<_, _>>()?)
            }
            toml::Value::Table(table) => JsonTemplate::Object(
                table.iter().map(|(k, v)| Ok((k.clone(), JsonTemplate::from_toml(v)?))).collect::<Result<_, _>>()?,
            ),
            toml::Value::Datetime(_) => {
                return Err(TemplateError::TomlDate);
            }
        })
    }

    /// Every template variable its strings read, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        let mut out = Vec::new();
        self.variables_into(&mut out);
        out.into_iter()
    }

    fn variables_into<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            JsonTemplate::Literal(_) => {}
            JsonTemplate::Text(t) => out.extend(t.variables()),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.variables_into(out)),
            JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| v.variables_into(out)),
        }
    }

    fn render<'a>(&self, lookup: &impl Fn(&str) -> Option<&'a str>) -> Result<serde_json::Value, TemplateError> {
        Ok(match self {
            JsonTemplate::Literal(value) => value.clone(),
            JsonTemplate::Text(template) => {
                let mut text = String::new();
                template.render_into(&mut text, lookup)?;
                serde_json::Value::String(text)
            }
            JsonTemplate::Array(items) => {
                serde_json::Value::Array(items.iter().map(|i| i.render(lookup)).collect::<Result<_, _>>()?)
            }
            JsonTemplate::Object(fields) => serde_json::Value::Object(
                fields.iter().map(|(k, v)| Ok((k.clone(), v.render(lookup)?))).collect::<Result<_, _>>()?,
            ),
        })
    }
}

/// A step's session options (all empty for a plain step).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepOptions {
    /// `cookies = { name = "value" }`: sent with this step's request.
    pub cookies: Vec<(String, Template)>,
    /// `follow_redirects = false`: record the 3xx instead.
    pub follow_redirects: Option<bool>,
    /// `max_redirects = N`.
    pub max_redirects: Option<u8>,
    /// `auth = { user = "..", password = ".." }`: basic auth.
    pub auth: Option<(Template, Template)>,
    /// `json = { ... }`: a JSON body.
    pub json: Option<JsonTemplate>,
    /// `form = { field = "value" }`: a form body.
    pub form: Vec<(String, Template)>,
    /// `query = { name = "value" }`: query parameters added to the URL.
    pub query: Vec<(String, Template)>,
}

/// A step's options rendered for one request.
pub struct RenderedOptions {
    cookies: Vec<(String, String)>,
    auth: Option<(String, String)>,
    json: Option<serde_json::Value>,
    form: Vec<(String, String)>,
    query: Vec<(String, String)>,
}

fn render_pairs<'a>(
    pairs: &[(String, Template)],
    lookup: &impl Fn(&str) -> Option<&'a str>,
) -> Result<Vec<(String, String)>, TemplateError> {
    pairs.iter().map(|(name, template)| Ok((name.clone(), render(template, lookup)?))).collect()
}

fn render<'a>(template: &Template, lookup: &impl Fn(&str) -> Option<&'a str>) -> Result<String, TemplateError> {
    let mut out = String::new();
    template.render_into(&mut out, lookup)?;
    Ok(out)
}

impl StepOptions {
    /// True when the step uses none of these (nothing to render).
    #[inline]
    pub fn is_plain(&self) -> bool {
        // Field by field (every request asks): a new option must be added here to compile.
        let StepOptions { cookies, follow_redirects, max_redirects, auth, json, form, query } = self;
        cookies.is_empty()
            && follow_redirects.is_none()
            && max_redirects.is_none()
            && auth.is_none()
            && json.is_none()
            && form.is_empty()
            && query.is_empty()
    }

    /// Every template variable used.
    pub fn variables(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for (_, t) in self.cookies.iter().chain(&self.form).chain(&self.query) {
            out.extend(t.variables());
        }
        if let Some((user, password)) = &self.auth {
            out.extend(user.variables().chain(password.variables()));
        }
        if let Some(json) = &self.json {
            json.variables_into(&mut out);
        }
        out
    }

    /// Renders the templates for one request: `None` for a plain step (nothing to render or
    /// apply, nothing allocated), else boxed (a journey holds it while its request runs).
    #[inline]
    pub fn render<'a>(
        &self,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Option<Box<RenderedOptions>>, TemplateError> {
        if self.is_plain() {
            return Ok(None);
        }
        self.render_all(lookup).map(Some)
    }

    /// Renders the templates of a step that is not plain.
    fn render_all<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Result<Box<RenderedOptions>, TemplateError> {
        Ok(Box::new(RenderedOptions {
            cookies: render_pairs(&self.cookies, &lookup)?,
            auth: match &self.auth {
                None => None,
                Some((user, password)) => Some((render(user, &lookup)?, render(password, &lookup)?)),
            },
            json: self.json.as_ref().map(|j| j.render(&lookup)).transpose()?,
            form: render_pairs(&self.form, &lookup)?,
            query: render_pairs(&self.query, &lookup)?,
        }))
    }

    /// Applies the rendered options to a request.
    pub fn apply<'c>(&self, mut request: RequestBuilder<'c>, rendered: &'c RenderedOptions) -> RequestBuilder<'c> {
        if let Some(follow) = self.follow_redirects {
            request = request.follow_redirects(follow);
        }
        if let Some(max) = self.max_redirects {
            request = request.max_redirects(max);
        }
        for (name, value) in &rendered.cookies {
            request = request.cookie(name, value);
        }
        if let Some((user, password)) = &rendered.auth {
            request = request.basic_auth(user, password);
        }
        if let Some(json) = &rendered.json {
            request = request.json(json);
        }
        if !rendered.form.is_empty() {
            request = request.form(&rendered.form);
        }
        if !rendered.query.is_empty() {
            request = request.query(&rendered.query);
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_templates_render_strings_and_keep_other_values() {
        let value: toml::Value = toml::from_str::<toml::Table>(
            r#"v = { user = "{name}", id = 7, ok = true, tags = ["a", "{name}-x"], ratio = 0.5 }"#,
        )
        .unwrap()["v"]
            .clone();
        let template = JsonTemplate::from_toml(&value).unwrap();
        assert_eq!(template.variables().collect::<Vec<_>>(), ["name", "name"]);
        let lookup = |n: &str| (n == "name").then_some("ann");
        let rendered = template.render(&lookup).unwrap();
        assert_eq!(
            rendered,
            serde_json::json!({"user": "ann", "id": 7, "ok": true, "tags": ["a", "ann-x"], "ratio": 0.5})
        );
        let date: toml::Table = toml::from_str("d = 1979-05-27").unwrap();
        assert!(JsonTemplate::from_toml(&date["d"]).is_err());
    }

    #[test]
    fn a_plain_step_renders_nothing() {
        let options = StepOptions::default();
        assert!(options.is_plain());
        assert!(options.render(|_| None).unwrap().is_none());
        let with_form =
            StepOptions { form: vec![("a".into(), Template::parse("{missing}").unwrap())], ..StepOptions::default() };
        assert!(with_form.render(|_| None).is_err());
    }
}
