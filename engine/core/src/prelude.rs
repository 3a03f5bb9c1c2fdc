//! What journey authors use, in one import: `use mite_engine::prelude::*;` (or
//! `mite_core::prelude::*`). Everything else in the engine's crates is its own business.
//! Every item here shows an example that runs as a doc test, and so do the methods a journey
//! calls on them; [`JourneyTest`] runs a journey from a plain `#[test]`.
//!
//! A journey, its datapool and its scenario, registered by `module:name` as Mite names them:
//!
//! ```
//! use mite_core::prelude::*;
//!
//! async fn browse(ctx: &Ctx, row: Row) -> JourneyResult {
//!     let base = ctx.config().get_or("base", "http://127.0.0.1:8080").to_string();
//!     let user = row.by_name("user").unwrap_or("anonymous").to_string();
//!     ctx.transaction("home", async {
//!         ctx.http().get(&base).send().await?;
//!         ctx.send("visited", &[("user", &user)]);
//!         Ok(())
//!     })
//!     .await
//! }
//!
//! fn users() -> DataPool {
//!     let columns: std::sync::Arc<[String]> = vec!["user".to_string()].into();
//!     let rows = ["ann", "bob"].iter().map(|u| Row::with_columns(vec![u.to_string()], columns.clone()));
//!     DataPool::recyclable("users", rows.collect())
//! }
//!
//! fn scenario(_config: &Config) -> Result<Scenario, ScenarioError> {
//!     Ok(Scenario {
//!         name: "shop".into(),
//!         entries: vec![ScenarioEntry {
//!             journey: "shop:browse".into(),
//!             datapool: Some(users()),
//!             volume: VolumeModel::constant(4),
//!         }],
//!         config: Config::default(),
//!     })
//! }
//!
//! let mut registry = Registry::default();
//! registry.journey("shop:browse", browse);
//! registry.datapool("shop:users", users);
//! registry.scenario("shop:scenario", scenario);
//! assert_eq!(registry.journey_names().collect::<Vec<_>>(), ["shop:browse"]);
//! assert_eq!(registry.find_datapool("shop:users").unwrap().len(), 2);
//! ```

pub use crate::driver::sleep;
pub use crate::http::{HttpError, Response, TlsOptions};
pub use crate::journey::journey_test::JourneyTest;
pub use crate::journey::pacing::{ensure_average_separation, ensure_fixed_separation};
/// What a [`JourneyTest`] saw the journey do: its result, requests, transactions, messages and
/// errors, in order.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// // `target`: the embedded target server, `mite_engine::testing::target()` in a user crate
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let base = ctx.config().get_or("base", "");
///     ctx.transaction("buy", async { Ok(ctx.http().get(&format!("{base}/status/503")).send().await?) }).await?;
///     Ok(())
/// }
///
/// let record: JourneyRecord = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// assert!(!record.is_ok());
/// assert_eq!((record.requests[0].method.as_str(), record.requests[0].status), ("GET", Some(503)));
/// assert!(record.transaction("buy").unwrap().error.as_ref().unwrap().contains("answered 503"));
/// assert_eq!(record.errors.len(), 2); // the failed request, then the journey's own error
/// ```
pub use crate::journey::record::JourneyRecord;
pub use crate::journey::{
    Ctx, Http, JourneyError, JourneyResult, Registry, RequestBuilder, Scenario, ScenarioEntry, ScenarioError,
    Transaction,
};
pub use crate::model::config::Config;
pub use crate::model::datapool::{DataPool, Row};
pub use crate::model::volume::{RateModel, VolumeModel};
pub use crate::stats::ErrorKind;
/// A journey's WebSocket connection, from `ctx.websocket().connect(url).await?`: messages
/// sent and received are counted under the current transaction.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn chat(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("ws", "").to_string();
///     let mut socket: WebSocket<'_> = ctx.websocket().connect(&url).await?;
///     socket.send_text("hello").await?;
///     assert_eq!(socket.receive().await?.text(), Some("hello"));
///     Ok(socket.close().await?)
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(chat).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WebSocket;
/// What `ctx.websocket()` returns: opens WebSocket connections (`ws://`, `wss://`).
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("ws", "").to_string();
///     let sockets: WebSockets<'_> = ctx.websocket();
///     let (mut a, mut b) = (sockets.connect(&url).await?, sockets.connect(&url).await?);
///     a.send_text("a").await?;
///     b.send_text("b").await?;
///     assert_eq!((a.receive().await?.text(), b.receive().await?.text()), (Some("a"), Some("b")));
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WebSockets;
/// A WebSocket connection being opened: add headers or subprotocols, then `.await` it.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("ws", "").to_string();
///     let connect: WsConnect<'_, '_> = ctx.websocket().connect(&url).header("Cookie", "seen=no");
///     let mut socket = connect.await?; // this endpoint sends the Cookie header it got first
///     assert_eq!(socket.receive().await?.text(), Some("seen=no"));
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/cookie")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WsConnect;
/// A data message received on a [`WebSocket`]: text or binary.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let mut socket = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
///     socket.send_binary(&[1, 2, 3]).await?;
///     let message: WsMessage = socket.receive().await?;
///     assert!(!message.is_text() && message.text().is_none());
///     assert_eq!(message.bytes().as_ref(), [1, 2, 3]);
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WsMessage;
/// An HTTP method, for the ones without a shortcut on [`Http`] (`get`, `post`, `put`, `delete`,
/// `head`, `patch`, `options`): `ctx.http().request(Method::from_bytes(b"PURGE")?, url)`.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn purge(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("url", "").to_string();
///     let method = Method::from_bytes(b"PURGE").map_err(|e| JourneyError::msg(e.to_string()))?;
///     ctx.http().request(method, &url).send().await?;
///     Ok(())
/// }
/// let record = JourneyTest::new().config("url", target.url("/")).run(purge).unwrap();
/// assert_eq!(record.requests[0].method, "PURGE");
/// ```
pub use http::Method;

#[cfg(test)]
mod tests {
    //! The prelude is the journey author's reference (`cargo doc`): every item it re-exports, and
    //! every `pub fn` of their inherent impls that the docs show (not `#[doc(hidden)]`), carries
    //! an example (a ```` ``` ```` block, which `cargo test --doc` runs). Read from the source,
    //! so a new item or method without one fails here.

    use std::collections::BTreeMap;

    /// Methods allowed to wait for their examples (`Type::method`): none now.
    const WAITING: &[&str] = &[];

    /// The doc comment lines (`///`) just above line `at`, and whether an attribute among them
    /// is `#[doc(hidden)]`.
    fn doc_above(lines: &[&str], at: usize) -> (String, bool) {
        let (mut doc, mut hidden) = (String::new(), false);
        for line in lines[..at].iter().rev().map(|l| l.trim()) {
            if let Some(text) = line.strip_prefix("///") {
                doc.insert_str(0, &format!("{text}\n"));
            } else if line.starts_with("#[") {
                hidden |= line == "#[doc(hidden)]";
            } else {
                break;
            }
        }
        (doc, hidden)
    }

    /// A name the prelude re-exports: where it comes from (`journey/record`, a path under
    /// `src/`), and whether its re-export line carries an example.
    struct Reexport {
        module: String,
        example: bool,
    }

    /// The names the prelude re-exports (`pub use crate::a::{B, C};`, over several lines too).
    fn reexports(prelude: &str) -> BTreeMap<String, Reexport> {
        let lines: Vec<&str> = prelude.split("#[cfg(test)]").next().unwrap().lines().collect();
        let mut names = BTreeMap::new();
        for (at, line) in lines.iter().enumerate() {
            let Some(first) = line.strip_prefix("pub use crate::") else { continue };
            let example = doc_above(&lines, at).0.contains("```");
            let rest = lines[at + 1..].iter().take_while(|_| !first.ends_with(';'));
            let path = rest.fold(first.to_string(), |path, more| path + more);
            let path = path.split(';').next().unwrap();
            let (module, list) = path.split_once("::{").unwrap_or_else(|| path.rsplit_once("::").unwrap());
            for name in list.split([',', '}']).map(str::trim).filter(|n| !n.is_empty()) {
                names.insert(name.to_string(), Reexport { module: module.replace("::", "/"), example });
            }
        }
        names
    }

    /// The type an inherent `impl` line is for (`impl<'c> Http<'c> {` → `Http`); `None` for a
    /// trait impl or anything else.
    fn impl_type(line: &str) -> Option<&str> {
        let rest = line.strip_prefix("impl")?;
        if line.contains(" for ") || !line.ends_with('{') {
            return None;
        }
        let mut depth = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                c if depth == 0 && c.is_alphabetic() => {
                    return rest[i..].split(|c: char| !c.is_alphanumeric() && c != '_').next();
                }
                _ => {}
            }
        }
        None
    }

    /// The name a line defines (`pub struct X`, `pub enum X`, `pub type X`, `pub fn x`,
    /// `pub async fn x`), at any indentation.
    fn defined(line: &str) -> Option<&str> {
        let words: Vec<&str> =
            line.split(|c: char| !c.is_alphanumeric() && c != '_').filter(|w| !w.is_empty()).collect();
        match words.as_slice() {
            ["pub", "struct" | "enum" | "type" | "fn", name, ..] => Some(name),
            ["pub", "async" | "const" | "unsafe", "fn", name, ..] => Some(name),
            _ => None,
        }
    }

    /// `(what, where, has an example)` for every prelude item defined in `file` (its path under
    /// `src/`) and every `pub fn` of their inherent impls there that is not hidden.
    fn items_in(text: &str, file: &str, names: &BTreeMap<String, Reexport>) -> Vec<(String, String, bool)> {
        let lines: Vec<&str> = text.split("#[cfg(test)]").next().unwrap().lines().collect();
        let home = |name: &str| names.get(name).filter(|r| file.starts_with(&r.module));
        // A type of the same name defined here but re-exported from elsewhere is another type.
        let other = |name: &str| home(name).is_none() && lines.iter().any(|l| defined(l) == Some(name));
        let (mut found, mut in_impl) = (Vec::new(), None::<String>);
        for (at, line) in lines.iter().enumerate() {
            if line.starts_with("impl") {
                // A header over several lines (a `where` clause) is read up to its `{`.
                let (mut header, mut next) = (line.to_string(), at + 1);
                while !header.ends_with('{') && next < lines.len() {
                    header = format!("{header} {}", lines[next].trim());
                    next += 1;
                }
                let owner = impl_type(&header).filter(|t| names.contains_key(*t) && !other(t));
                in_impl = owner.map(str::to_string);
            } else if *line == "}" {
                in_impl = None;
            }
            let Some(name) = defined(line) else { continue };
            let (doc, hidden) = doc_above(&lines, at);
            let place = format!("{file}:{}", at + 1);
            match (&in_impl, home(name)) {
                (Some(owner), _) if line.starts_with("    pub ") && !hidden => {
                    found.push((format!("{owner}::{name}"), place, doc.contains("```")))
                }
                (None, Some(reexport)) => {
                    found.push((name.to_string(), place, doc.contains("```") || reexport.example))
                }
                _ => {}
            }
        }
        found
    }

    /// Every item and method checked, across mite-core's sources.
    fn checked() -> Vec<(String, String, bool)> {
        let files = crate::layers::source_files();
        let prelude = files.iter().find(|(file, _)| file == "prelude.rs").expect("prelude.rs");
        let names = reexports(&prelude.1);
        files.iter().flat_map(|(file, text)| items_in(text, file, &names)).collect()
    }

    #[test]
    fn every_prelude_item_and_method_has_an_example() {
        let found = checked();
        let names = reexports(include_str!("prelude.rs"));
        let unseen: Vec<&String> = names.keys().filter(|n| !found.iter().any(|(what, _, _)| what == *n)).collect();
        assert!(unseen.is_empty(), "prelude items whose definition the scan did not find: {unseen:?}");
        let missing: Vec<String> = found
            .iter()
            .filter(|(what, _, example)| !example && !WAITING.contains(&what.as_str()))
            .map(|(what, place, _)| format!("{place}: {what}"))
            .collect();
        assert!(
            missing.is_empty(),
            "give each a short example in its doc comment (it runs as a doc test), or #[doc(hidden)] \
             if journey authors never call it:\n{}",
            missing.join("\n")
        );
        let methods = found.iter().filter(|(what, _, _)| what.contains("::")).count();
        assert!(methods > 80, "only {methods} methods found: is the scan still reading the impls?");
    }

    /// README's list of what the prelude brings names only what it does bring.
    #[test]
    fn readme_names_only_what_the_prelude_brings() {
        let readme = include_str!("../../../README.md");
        let list = readme.split("`use mite_engine::prelude::*;` brings").nth(1).expect("README's list");
        let list = &list[..list.find("); `cargo doc").expect("the list's end")];
        let names = reexports(include_str!("prelude.rs"));
        let listed: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
        assert!(listed.len() > 10, "{listed:?}");
        let unknown: Vec<&&str> = listed.iter().filter(|n| !names.contains_key(**n) && **n != "Method").collect();
        assert!(unknown.is_empty(), "README lists {unknown:?}, which the prelude does not bring");
        // And every prelude name the section's examples use is in the list.
        let section = readme.split("## Your own journeys").nth(1).expect("the section");
        let section = &section[..section.find("\n## ").unwrap_or(section.len())];
        let code: String = section.split("```").skip(1).step_by(2).collect();
        let words: std::collections::BTreeSet<&str> = code.split(|c: char| !c.is_alphanumeric() && c != '_').collect();
        let unlisted: Vec<&String> =
            names.keys().filter(|n| words.contains(n.as_str()) && !listed.contains(&n.as_str())).collect();
        assert!(
            unlisted.is_empty(),
            "README's examples use {unlisted:?}: name them in its list of what the prelude brings"
        );
    }

    #[test]
    fn the_scan_sees_a_method_without_an_example() {
        let uses = "pub use crate::a::{Shop, Basket};\npub use crate::c::{\n    Bag,\n    Coin,\n};\n";
        let names = reexports(&format!("{uses}/// ```\n/// ```\npub use crate::b::shop::Till;\n"));
        assert_eq!(names.keys().collect::<Vec<_>>(), ["Bag", "Basket", "Coin", "Shop", "Till"]);
        assert!(names["Till"].example && !names["Shop"].example);
        assert_eq!(names["Till"].module, "b/shop");
        let text = "/// A shop.\n///\n/// ```\n/// ```\npub struct Shop;\n\nimpl<'a> Shop {\n    /// Opens.\n    \
                    pub fn open(&self) {}\n\n    #[doc(hidden)]\n    pub fn engine_only(&self) {}\n    \
                    pub(crate) fn private(&self) {}\n}\n\nimpl Default for Shop {\n    fn default() -> Shop { Shop }\n}\n";
        let found = items_in(text, "a/shop.rs", &names);
        let shown: Vec<(&str, bool)> = found.iter().map(|(what, _, example)| (what.as_str(), *example)).collect();
        assert_eq!(shown, [("Shop", true), ("Shop::open", false)]);
        assert_eq!(found[1].1, "a/shop.rs:9");
        assert!(items_in(text, "output/shop.rs", &names).is_empty(), "another Shop, defined elsewhere");
        let text = "impl<T> Basket<T>\nwhere\n    T: Clone,\n{\n    pub const fn new() -> Self {}\n}\n";
        let found = items_in(text, "a/basket.rs", &names);
        assert_eq!(found, [("Basket::new".to_string(), "a/basket.rs:5".to_string(), false)]);
    }
}
