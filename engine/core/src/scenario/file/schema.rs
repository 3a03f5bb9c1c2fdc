//! The scenario file as written: the TOML tables serde reads, before any checking.

use indexmap::IndexMap;

use serde::Deserialize;
use toml::Spanned;

use crate::scenario::ws_steps::WsJourneySpec;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSpec {
    pub(super) name: Option<String>,
    pub(super) duration: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) config: IndexMap<String, toml::Value>,
    #[serde(default)]
    pub(super) client: ClientSpec,
    #[serde(default)]
    pub(super) thresholds: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) datapools: IndexMap<String, Spanned<DataPoolSpec>>,
    #[serde(default)]
    pub(super) journeys: IndexMap<String, Spanned<JourneySpec>>,
    /// Declarative WebSocket journeys (`crate::scenario::ws_steps`).
    #[serde(default)]
    pub(super) websockets: IndexMap<String, Spanned<WsJourneySpec>>,
    #[serde(default)]
    pub(super) scenario: Vec<Spanned<EntrySpec>>,
}

/// HTTP client options a scenario file may set (CLI flags win).
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientSpec {
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) connect_timeout: Option<Spanned<String>>,
    pub(super) max_connections: Option<Spanned<usize>>,
    pub(super) max_headers: Option<Spanned<usize>>,
    pub(super) max_head_bytes: Option<Spanned<SizeSpec>>,
    pub(super) insecure: Option<bool>,
    pub(super) ca: Option<String>,
    pub(super) follow_redirects: Option<bool>,
    pub(super) max_redirects: Option<Spanned<u32>>,
    pub(super) cert: Option<String>,
    pub(super) key: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct DataPoolSpec {
    pub(super) csv: Option<String>,
    pub(super) rows: Option<Vec<Spanned<Vec<Spanned<toml::Value>>>>>,
    pub(super) columns: Option<Spanned<Vec<String>>>,
    pub(super) range: Option<RangeSpec>,
    pub(super) column: Option<String>,
    pub(super) recyclable: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RangeSpec {
    pub(super) from: i64,
    pub(super) to: i64,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct JourneySpec {
    pub(super) steps: Spanned<Vec<Spanned<StepSpec>>>,
    /// `pace = "2s"`, or `pace = { mean = "2s", plus_minus = "500ms" }`.
    pub(super) pace: Option<Spanned<toml::Value>>,
}

/// One `{ url = ..., ... }` step of `[journeys.NAME]`, each field with its place in the file
/// (an error names the line of the field that is wrong).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct StepSpec {
    pub(super) transaction: Option<Spanned<String>>,
    pub(super) method: Option<Spanned<String>>,
    pub(super) url: Spanned<String>,
    #[serde(default)]
    pub(super) headers: IndexMap<String, Spanned<String>>,
    pub(super) body: Option<Spanned<String>>,
    pub(super) expect_status: Option<Spanned<StatusSpec>>,
    #[serde(default)]
    pub(super) capture: IndexMap<String, Spanned<CaptureSpec>>,
    pub(super) think: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) cookies: IndexMap<String, Spanned<String>>,
    pub(super) follow_redirects: Option<bool>,
    pub(super) max_redirects: Option<Spanned<u32>>,
    pub(super) auth: Option<AuthSpec>,
    pub(super) json: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) form: IndexMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) query: IndexMap<String, Spanned<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthSpec {
    pub(super) user: Spanned<String>,
    pub(super) password: Spanned<String>,
}

/// A size in bytes: a number, or text with a unit (`"256KiB"`).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
pub(super) enum SizeSpec {
    Bytes(i64),
    Text(String),
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
pub(super) enum StatusSpec {
    One(u16),
    Range([u16; 2]),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct CaptureSpec {
    pub(super) header: Option<String>,
    pub(super) json: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct EntrySpec {
    pub(super) journey: Spanned<String>,
    pub(super) datapool: Option<Spanned<String>>,
    pub(super) volume: Spanned<VolumeSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct VolumeSpec {
    pub(super) constant: Option<u64>,
    pub(super) duration: Option<String>,
    pub(super) ramp: Option<RampSpec>,
    pub(super) stages: Option<Vec<VolumeSpec>>,
    pub(super) oneshot: Option<u64>,
    pub(super) nothing: Option<String>,
    pub(super) rate: Option<f64>,
    pub(super) ramp_rate: Option<RampRateSpec>,
    pub(super) rate_stages: Option<Vec<VolumeSpec>>,
    pub(super) max_in_flight: Option<u64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RampRateSpec {
    pub(super) from: f64,
    pub(super) to: f64,
    pub(super) duration: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RampSpec {
    pub(super) from: u64,
    pub(super) to: u64,
    pub(super) duration: String,
}

/// A TOML value as text: a string as it is, anything else as TOML writes it.
pub(super) fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
