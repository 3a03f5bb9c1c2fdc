//! HAR import: turns a browser recording into a scenario file with one declarative journey
//! (one step, and one transaction, per kept request), like Mite's `mite har`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What a conversion produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The scenario file text.
    pub toml: String,
    /// Requests in the recording.
    pub total: usize,
    /// Requests kept as steps.
    pub kept: usize,
    /// Static assets dropped.
    pub dropped_static: usize,
    /// Requests to hosts not asked for.
    pub dropped_host: usize,
}

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    pages: Vec<Page>,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Page {
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
struct Entry {
    pageref: Option<String>,
    request: HarRequest,
}

#[derive(Deserialize)]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(rename = "postData")]
    post_data: Option<PostData>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct PostData {
    #[serde(default)]
    text: String,
}

const STATIC_EXTENSIONS: &[&str] = &[
    ".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".avif", ".woff",
    ".woff2", ".ttf", ".otf", ".eot", ".mp4", ".webm", ".mp3",
];

/// Headers that are the client's business, not the journey's (hop-by-hop, framing, cookies
/// from the recording's session, and encodings the client does not decode).
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "accept-encoding",
    "cookie",
    "te",
    "upgrade",
    "transfer-encoding",
];

fn is_static(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    STATIC_EXTENSIONS.iter().any(|ext| path.ends_with(ext))
}

/// Braces are template syntax in scenario files: recorded text keeps them literal.
fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// Converts HAR JSON. `hosts` keeps only requests to those hosts (all when empty);
/// `keep_static` keeps stylesheets, scripts, images and fonts.
pub fn convert(har_json: &str, hosts: &[String], keep_static: bool) -> Result<Converted, String> {
    let har: Har = serde_json::from_str(har_json).map_err(|e| format!("not a HAR file: {e}"))?;
    let titles: BTreeMap<&str, &str> = har.log.pages.iter().map(|p| (p.id.as_str(), p.title.as_str())).collect();
    let mut steps = Vec::new();
    let (mut dropped_static, mut dropped_host) = (0, 0);
    for (i, entry) in har.log.entries.iter().enumerate() {
        let request = &entry.request;
        let url = crate::http::Url::parse(&request.url).map_err(|e| format!("entry {i}: {e}"))?;
        if !hosts.is_empty()
            && !hosts.iter().any(|h| h.eq_ignore_ascii_case(url.host) || h.eq_ignore_ascii_case(url.authority))
        {
            dropped_host += 1;
            continue;
        }
        if !keep_static && is_static(url.target) {
            dropped_static += 1;
            continue;
        }
        let path = url.target.split('?').next().unwrap_or("/");
        let name = format!("{} {path}", request.method.to_ascii_uppercase());
        let transaction = match entry.pageref.as_deref().and_then(|id| titles.get(id)) {
            Some(title) if !title.is_empty() => format!("{title} :: {name}"),
            _ => name,
        };
        let mut step = toml::Table::new();
        step.insert("transaction".into(), transaction.into());
        step.insert("method".into(), request.method.to_ascii_uppercase().into());
        step.insert("url".into(), escape(&request.url).into());
        let mut headers = toml::Table::new();
        for header in &request.headers {
            let lower = header.name.to_ascii_lowercase();
            if lower.starts_with(':') || DROPPED_HEADERS.contains(&lower.as_str()) {
                continue;
            }
            headers.insert(header.name.clone(), escape(&header.value).into());
        }
        if !headers.is_empty() {
            step.insert("headers".into(), headers.into());
        }
        if let Some(post) = &request.post_data
            && !post.text.is_empty()
        {
            step.insert("body".into(), escape(&post.text).into());
        }
        steps.push(toml::Value::Table(step));
    }
    let kept = steps.len();
    if kept == 0 {
        return Err(format!(
            "no requests left after filtering ({dropped_static} static assets, {dropped_host} other hosts); \
             try --keep-static or another --host"
        ));
    }
    let mut journey = toml::Table::new();
    journey.insert("steps".into(), toml::Value::Array(steps));
    let mut journeys = toml::Table::new();
    journeys.insert("recorded".into(), journey.into());
    let mut entry = toml::Table::new();
    entry.insert("journey".into(), "recorded".into());
    let mut volume = toml::Table::new();
    volume.insert("oneshot".into(), 1.into());
    entry.insert("volume".into(), volume.into());
    let mut root = toml::Table::new();
    root.insert("name".into(), "recorded".into());
    root.insert("journeys".into(), journeys.into());
    root.insert("scenario".into(), toml::Value::Array(vec![entry.into()]));
    let body = toml::to_string(&root).map_err(|e| format!("writing TOML: {e}"))?;
    let header = "# Converted from a HAR recording by `mite-engine har convert`.\n\
                  # Replace the oneshot volume with what the test needs, e.g. volume = { constant = 50 }.\n\n";
    Ok(Converted { toml: format!("{header}{body}"), total: har.log.entries.len(), kept, dropped_static, dropped_host })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAR: &str = r#"{"log": {"version": "1.2", "creator": {"name": "test", "version": "1"},
      "pages": [{"id": "p1", "title": "Home", "startedDateTime": "2026-01-01T00:00:00Z"}],
      "entries": [
        {"pageref": "p1", "request": {"method": "GET", "url": "http://127.0.0.1:8080/?q={x}",
          "headers": [{"name": "Accept", "value": "text/html"}, {"name": "Cookie", "value": "s=1"}, {"name": ":authority", "value": "x"}]}},
        {"pageref": "p1", "request": {"method": "GET", "url": "http://127.0.0.1:8080/app.js", "headers": []}},
        {"request": {"method": "POST", "url": "http://127.0.0.1:8080/echo", "headers": [{"name": "Content-Type", "value": "application/json"}],
          "postData": {"mimeType": "application/json", "text": "{\"a\":1}"}}},
        {"request": {"method": "GET", "url": "https://cdn.example/lib.css", "headers": []}}
      ]}}"#;

    #[test]
    fn converts_and_filters() {
        let converted = convert(HAR, &["127.0.0.1".to_string()], false).unwrap();
        assert_eq!((converted.total, converted.kept, converted.dropped_static, converted.dropped_host), (4, 2, 1, 1));
        let doc: toml::Table = converted.toml.parse().unwrap();
        let steps = doc["journeys"]["recorded"]["steps"].as_array().unwrap();
        assert_eq!(steps[0]["transaction"].as_str(), Some("Home :: GET /"));
        assert_eq!(steps[0]["url"].as_str(), Some("http://127.0.0.1:8080/?q={{x}}"));
        assert!(steps[0]["headers"].get("Cookie").is_none());
        assert_eq!(steps[1]["body"].as_str(), Some("{{\"a\":1}}"));
    }

    #[test]
    fn keeps_static_on_request_and_refuses_non_har() {
        assert_eq!(convert(HAR, &[], true).unwrap().kept, 4);
        assert!(convert("{}", &[], false).unwrap_err().contains("not a HAR"));
    }
}
