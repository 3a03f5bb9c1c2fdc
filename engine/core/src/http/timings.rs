//! What one exchange measured, as a response or an error carries it: the three figures every
//! exchange has, inline, and the connection work (name lookups, connects, handshakes,
//! reconnects), which most exchanges (on a pooled connection) do not do, boxed. A response is
//! moved several times on its way to the journey, and the connection work held inline was more
//! than half of its bytes; `Timings` (what the journey API hands out) is made from this.

use crate::stats::Timings;

/// One exchange's [`Timings`], held compactly (32 bytes, not 96).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ExchangeTimings {
    /// [`Timings::first_byte_us`].
    pub first_byte_us: u64,
    /// [`Timings::total_us`].
    pub total_us: u64,
    /// [`Timings::request_bytes`].
    pub request_bytes: u64,
    /// The connection work, when there was any (see [`ConnWork`]).
    pub work: ConnWork,
}

/// The connection work an exchange did, as [`Timings`] with its per-request figures
/// (`first_byte_us`, `total_us`, `request_bytes`) at 0; `None` when it did none. Boxed when the
/// first piece of work is counted: once per connect, never on a pooled connection's request.
pub(crate) type ConnWork = Option<Box<Timings>>;

/// The work counted so far, to add to (boxed on the first call).
#[inline]
pub(crate) fn work_mut(work: &mut ConnWork) -> &mut Timings {
    work.get_or_insert_with(Box::default)
}

impl ExchangeTimings {
    /// Of an exchange that ended without a response: only its work and the bytes it wrote.
    pub fn unanswered(request_bytes: u64, work: ConnWork) -> ExchangeTimings {
        ExchangeTimings { first_byte_us: 0, total_us: 0, request_bytes, work }
    }

    /// The journey API's form.
    #[inline]
    pub fn get(&self) -> Timings {
        let work = self.work.as_deref().copied().unwrap_or_default();
        Timings {
            first_byte_us: self.first_byte_us,
            total_us: self.total_us,
            request_bytes: self.request_bytes,
            ..work
        }
    }
}

impl From<Timings> for ExchangeTimings {
    /// Boxes the connection work only when there is some.
    fn from(timings: Timings) -> ExchangeTimings {
        let Timings { first_byte_us, total_us, request_bytes, .. } = timings;
        let work = Timings { first_byte_us: 0, total_us: 0, request_bytes: 0, ..timings };
        let work = (work != Timings::default()).then(|| Box::new(work));
        ExchangeTimings { first_byte_us, total_us, request_bytes, work }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_comes_back_as_it_was_given() {
        let plain = Timings { first_byte_us: 70, total_us: 90, request_bytes: 40, ..Timings::default() };
        let compact = ExchangeTimings::from(plain);
        assert!(compact.work.is_none(), "a request without connection work holds no box");
        assert_eq!(compact.get(), plain);
        let all = Timings {
            dns_us: Some(1),
            connect_us: Some(2),
            tls_us: Some(3),
            connects: 4,
            connects_failed: 5,
            tls_handshakes: 6,
            tls_failed: 7,
            first_byte_us: 8,
            total_us: 9,
            reconnects: 10,
            request_bytes: 11,
            tls_resumed: true,
        };
        assert_eq!(ExchangeTimings::from(all).get(), all);
        // Each piece of work alone is kept.
        for one in [
            Timings { dns_us: Some(0), ..Timings::default() },
            Timings { reconnects: 1, ..Timings::default() },
            Timings { tls_resumed: true, ..Timings::default() },
        ] {
            assert_eq!(ExchangeTimings::from(one).get(), one);
        }
    }

    #[test]
    fn it_stays_compact() {
        assert_eq!(size_of::<ExchangeTimings>(), 32);
    }
}
