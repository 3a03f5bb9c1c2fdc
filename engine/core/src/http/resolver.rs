//! Name resolution off the core threads: a few resolver threads per process fed by a bounded
//! queue, each lookup answered through a mailbox the waiting core polls, with a timeout, and a
//! per-core cache with a TTL for answers and a shorter one for failures.
//!
//! `getaddrinfo` blocks (for seconds when a name server does not answer), so a core never calls
//! it: a core thread that blocked would stop its journeys, its stop and its progress line.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::limits::{DNS_NEGATIVE_TTL, DNS_POLL_MAX, DNS_QUEUE_MAX, DNS_RESOLVER_THREADS, DNS_TTL};

/// The addresses of a host, shared by the connections that use them.
pub type Addrs = Rc<[SocketAddr]>;

/// One lookup's answer, written by a resolver thread, read by the core that asked (`Err`: the
/// system resolver's reason).
type Mailbox = Arc<Mutex<Option<Result<Vec<SocketAddr>, String>>>>;

/// A name that could not be resolved. Shared (`Rc`) so that a cached failure answers every
/// request to its host without a new error each time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The system resolver said no (no such name, no addresses, no name server).
    #[error("resolve {host}: {reason}")]
    Failed {
        /// The host.
        host: String,
        /// The resolver's reason.
        reason: String,
    },
    /// No answer within the connect timeout.
    #[error("resolve {host}: no answer within {timeout:?}")]
    NoAnswer {
        /// The host.
        host: String,
        /// How long the lookup was waited for.
        timeout: Duration,
    },
    /// `DNS_QUEUE_MAX` lookups were waiting already.
    #[error("resolve {host}: more than {DNS_QUEUE_MAX} lookups waiting")]
    QueueFull {
        /// The host.
        host: String,
    },
    /// Every resolver thread has gone.
    #[error("resolve {host}: no resolver thread is running")]
    NoResolverThread {
        /// The host.
        host: String,
    },
}

struct Request {
    host: String,
    port: u16,
    answer: Mailbox,
}

/// The process-wide queue to the resolver threads, started on first use.
fn queue() -> &'static SyncSender<Request> {
    static QUEUE: OnceLock<SyncSender<Request>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = sync_channel::<Request>(DNS_QUEUE_MAX);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..DNS_RESOLVER_THREADS {
            let rx = rx.clone();
            // A thread that cannot start leaves the others; with none, lookups time out.
            let _ = std::thread::Builder::new().name(format!("mite-dns-{i}")).spawn(move || serve(&rx));
        }
        tx
    })
}

fn serve(rx: &Mutex<Receiver<Request>>) {
    loop {
        let next = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(Request { host, port, answer }) = next else { return };
        let result = match (host.as_str(), port).to_socket_addrs() {
            Ok(addrs) => {
                let addrs = distinct(addrs);
                if addrs.is_empty() { Err("no addresses".to_string()) } else { Ok(addrs) }
            }
            Err(err) => Err(err.to_string()),
        };
        if let Ok(mut slot) = answer.lock() {
            *slot = Some(result);
        }
    }
}

/// `addrs` in their order, each once: a hosts file that names an address twice for a name does
/// not give it two turns of the connections, nor two tries of a refused connect.
fn distinct(addrs: impl Iterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    let mut seen = Vec::new();
    for addr in addrs {
        if !seen.contains(&addr) {
            seen.push(addr);
        }
    }
    seen
}

enum Entry {
    Resolved {
        addrs: Addrs,
        expires: Instant,
    },
    Failed {
        error: Rc<ResolveError>,
        expires: Instant,
    },
    /// A lookup in flight; every request for the host waits on the same mailbox.
    Pending {
        mailbox: Mailbox,
        deadline: Instant,
    },
}

/// One core's resolver: its cache, and the lookups it waits for.
#[derive(Default)]
pub struct Resolver {
    cache: RefCell<HashMap<(Box<str>, u16), Entry>>,
}

/// What the cache says about a host right now.
enum State {
    Ready(Result<Addrs, Rc<ResolveError>>),
    Wait(Mailbox),
}

impl Resolver {
    /// The addresses of `host:port`, waiting (without blocking the core) at most `timeout` for
    /// a lookup, and how long this call waited for one (`None`: cached, or an IP literal).
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(Addrs, Option<Duration>), Rc<ResolveError>> {
        let started = Instant::now();
        if let Ok(ip) = host.parse::<IpAddr>() {
            // No lookup; still cached, so that a host's first use counts one resolution.
            let answer = Ok(vec![SocketAddr::new(ip, port)]);
            let first = !self.cache.borrow().contains_key(&(Box::<str>::from(host), port));
            let addrs = if first { self.settle(host, port, answer)? } else { self.cached_ip(host, port, ip) };
            return Ok((addrs, first.then(|| started.elapsed())));
        }
        let mut waited = false;
        let mut poll = Duration::from_millis(1);
        loop {
            match self.state(host, port, timeout) {
                State::Ready(result) => return result.map(|addrs| (addrs, waited.then(|| started.elapsed()))),
                State::Wait(mailbox) => {
                    waited = true;
                    let answer = mailbox.lock().ok().and_then(|mut slot| slot.take());
                    match answer {
                        Some(answer) => {
                            return self.settle(host, port, answer).map(|addrs| (addrs, Some(started.elapsed())));
                        }
                        None => {
                            crate::driver::pause(poll).await;
                            poll = (poll * 2).min(DNS_POLL_MAX);
                        }
                    }
                }
            }
        }
    }

    /// Looks the host up in the cache, starting a lookup when it has no live entry.
    fn state(&self, host: &str, port: u16, timeout: Duration) -> State {
        let now = Instant::now();
        let mut cache = self.cache.borrow_mut();
        let key = (Box::<str>::from(host), port);
        match cache.get(&key) {
            Some(Entry::Resolved { addrs, expires }) if *expires > now => return State::Ready(Ok(addrs.clone())),
            Some(Entry::Failed { error, expires }) if *expires > now => return State::Ready(Err(error.clone())),
            Some(Entry::Pending { mailbox, deadline }) if *deadline > now => return State::Wait(mailbox.clone()),
            Some(Entry::Pending { .. }) => {
                let error = Rc::new(ResolveError::NoAnswer { host: host.to_string(), timeout });
                cache.insert(key, Entry::Failed { error: error.clone(), expires: now + DNS_NEGATIVE_TTL });
                return State::Ready(Err(error));
            }
            _ => {}
        }
        let mailbox: Mailbox = Arc::default();
        let request = Request { host: host.to_string(), port, answer: mailbox.clone() };
        match queue().try_send(request) {
            Ok(()) => {
                cache.insert(key, Entry::Pending { mailbox: mailbox.clone(), deadline: now + timeout });
                State::Wait(mailbox)
            }
            Err(TrySendError::Full(_)) => {
                State::Ready(Err(Rc::new(ResolveError::QueueFull { host: host.to_string() })))
            }
            Err(TrySendError::Disconnected(_)) => {
                State::Ready(Err(Rc::new(ResolveError::NoResolverThread { host: host.to_string() })))
            }
        }
    }

    /// Answers `host:port` with `addrs` from now on, as a lookup would (a test's name with the
    /// addresses it needs: two families, one refusing).
    #[cfg(test)]
    pub(crate) fn answer(&self, host: &str, port: u16, addrs: Vec<SocketAddr>) {
        let _ = self.settle(host, port, Ok(distinct(addrs.into_iter())));
    }

    fn cached_ip(&self, host: &str, port: u16, ip: IpAddr) -> Addrs {
        match self.cache.borrow().get(&(Box::<str>::from(host), port)) {
            Some(Entry::Resolved { addrs, .. }) => addrs.clone(),
            _ => Rc::from([SocketAddr::new(ip, port)].as_slice()),
        }
    }

    /// Stores a lookup's answer in the cache and returns it.
    fn settle(
        &self,
        host: &str,
        port: u16,
        answer: Result<Vec<SocketAddr>, String>,
    ) -> Result<Addrs, Rc<ResolveError>> {
        let now = Instant::now();
        let (entry, result) = match answer {
            Ok(addrs) => {
                let addrs: Addrs = addrs.into();
                (Entry::Resolved { addrs: addrs.clone(), expires: now + DNS_TTL }, Ok(addrs))
            }
            Err(reason) => {
                let error = Rc::new(ResolveError::Failed { host: host.to_string(), reason });
                (Entry::Failed { error: error.clone(), expires: now + DNS_NEGATIVE_TTL }, Err(error))
            }
        };
        self.cache.borrow_mut().insert((host.into(), port), entry);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{CoreRuntime, DriverChoice};

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        CoreRuntime::build(DriverChoice::Epoll).unwrap().0.block_on(future)
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        let resolver = Resolver::default();
        let (addrs, lookup) = block_on(resolver.resolve("127.0.0.1", 80, Duration::from_secs(1))).unwrap();
        assert_eq!(&addrs[..], &["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
        assert!(lookup.is_some_and(|took| took < Duration::from_millis(50)), "first use: one (instant) resolution");
        let (addrs, lookup) = block_on(resolver.resolve("127.0.0.1", 80, Duration::from_secs(1))).unwrap();
        assert_eq!((addrs.len(), lookup), (1, None), "then cached");
        let (addrs, _) = block_on(resolver.resolve("::1", 443, Duration::from_secs(1))).unwrap();
        assert_eq!(addrs[0].port(), 443);
    }

    #[test]
    fn names_resolve_and_failures_are_cached() {
        let resolver = Resolver::default();
        let (addrs, lookup) = block_on(resolver.resolve("localhost", 8080, Duration::from_secs(10))).unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080), "{addrs:?}");
        assert!(lookup.is_some(), "the first call looked the name up");
        let (_, lookup) = block_on(resolver.resolve("localhost", 8080, Duration::from_secs(10))).unwrap();
        assert_eq!(lookup, None, "the second came from the cache");
        let err = block_on(resolver.resolve("no-such-host.invalid", 80, Duration::from_secs(10))).unwrap_err();
        assert!(matches!(&*err, ResolveError::Failed { host, .. } if host == "no-such-host.invalid"), "{err:?}");
        assert!(err.to_string().starts_with("resolve no-such-host.invalid: "), "{err}");
        // The failure is cached: asked again at once, the answer is the same and immediate.
        let started = Instant::now();
        let again = block_on(resolver.resolve("no-such-host.invalid", 80, Duration::from_secs(10))).unwrap_err();
        assert!(Rc::ptr_eq(&again, &err), "the cached error itself, not a new one");
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn each_address_is_kept_once_in_its_order() {
        let [a, b] = ["[::1]:80", "127.0.0.1:80"].map(|a| a.parse::<SocketAddr>().unwrap());
        assert_eq!(distinct([a, b, a, b, b].into_iter()), [a, b]);
        assert_eq!(distinct([b, a, b].into_iter()), [b, a]);
    }

    #[test]
    fn a_lookup_that_does_not_answer_times_out() {
        let resolver = Resolver::default();
        // A pending entry whose mailbox nobody fills stands for a resolver that hangs.
        let mailbox: Mailbox = Arc::default();
        resolver.cache.borrow_mut().insert(
            ("hangs.example".into(), 80),
            Entry::Pending { mailbox, deadline: Instant::now() + Duration::from_millis(100) },
        );
        let started = Instant::now();
        let err = block_on(resolver.resolve("hangs.example", 80, Duration::from_millis(100))).unwrap_err();
        let timeout = Duration::from_millis(100);
        assert_eq!(*err, ResolveError::NoAnswer { host: "hangs.example".into(), timeout });
        assert_eq!(err.to_string(), "resolve hangs.example: no answer within 100ms");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
