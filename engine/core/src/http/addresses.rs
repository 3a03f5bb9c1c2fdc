//! Which of a host's addresses a new connection tries, in what order: one function decides,
//! for every new connection of the host's pool. Connections take the addresses in turn (a
//! name with several spreads its connections over them); an address that refused a connect
//! goes after the others for `limits::REFUSED_ADDRESS_LAST_FOR`, so that a name with one
//! address nobody listens on (`localhost` as `::1` and 127.0.0.1, the server on 127.0.0.1
//! only) costs one refused connect, not one per connection.

use std::net::SocketAddr;
use std::time::Instant;

use crate::limits::REFUSED_ADDRESS_LAST_FOR;

/// A host pool's turn among its addresses, and those that refused lately.
#[derive(Debug, Default)]
pub(crate) struct AddrChoice {
    /// Counts the connections ordered: the turn among the addresses that have not refused.
    next: usize,
    /// Addresses that refused a connect, each with until when it goes last.
    refused: Vec<(SocketAddr, Instant)>,
}

impl AddrChoice {
    /// The addresses a new connection tries at `now`, in order, each once: those that have not
    /// refused lately first, starting one further on at every call (so that connections take
    /// them in turn), then those that refused, the earliest refusal first.
    pub(crate) fn order(&mut self, addrs: &[SocketAddr], now: Instant) -> Vec<SocketAddr> {
        self.refused.retain(|(_, until)| *until > now);
        let refused_until = |addr: &SocketAddr| self.refused.iter().find(|(a, _)| a == addr).map(|(_, until)| *until);
        let (mut order, mut last): (Vec<SocketAddr>, Vec<SocketAddr>) =
            addrs.iter().partition(|addr| refused_until(addr).is_none());
        if !order.is_empty() {
            let turn = self.next % order.len();
            order.rotate_left(turn);
        }
        last.sort_by_key(|addr| refused_until(addr));
        self.next = self.next.wrapping_add(1);
        order.extend(last);
        order
    }

    /// `addr` refused a connect at `now`: it goes last until `REFUSED_ADDRESS_LAST_FOR` later.
    pub(crate) fn refused(&mut self, addr: SocketAddr, now: Instant) {
        self.accepted(addr);
        self.refused.push((addr, now + REFUSED_ADDRESS_LAST_FOR));
    }

    /// `addr` took a connection: it takes its turn again.
    pub(crate) fn accepted(&mut self, addr: SocketAddr) {
        if !self.refused.is_empty() {
            self.refused.retain(|(a, _)| *a != addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> [SocketAddr; 3] {
        ["[::1]:80", "127.0.0.1:80", "127.0.0.2:80"].map(|a| a.parse().unwrap())
    }

    #[test]
    fn connections_take_the_addresses_in_turn() {
        let [a, b, c] = addrs();
        let mut choice = AddrChoice::default();
        let now = Instant::now();
        let firsts: Vec<SocketAddr> = (0..6).map(|_| choice.order(&[a, b, c], now)[0]).collect();
        assert_eq!(firsts, [a, b, c, a, b, c]);
        assert_eq!(choice.order(&[a, b, c], now), [a, b, c], "each address once");
        assert_eq!(choice.order(&[a], now), [a]);
    }

    /// A refused address goes after the others (which keep their turn among themselves) until
    /// its time is up or it takes a connection; with every address refused, each is still
    /// tried, the earliest refusal first.
    #[test]
    fn a_refused_address_goes_last_for_a_while() {
        let [a, b, c] = addrs();
        let mut choice = AddrChoice::default();
        let now = Instant::now();
        choice.refused(a, now);
        let orders: Vec<Vec<SocketAddr>> = (0..4).map(|_| choice.order(&[a, b, c], now)).collect();
        assert_eq!(orders, [vec![b, c, a], vec![c, b, a], vec![b, c, a], vec![c, b, a]]);
        choice.refused(b, now + REFUSED_ADDRESS_LAST_FOR / 2);
        assert_eq!(choice.order(&[a, b], now), [a, b], "every address refused: the earliest refusal first");
        let later = now + REFUSED_ADDRESS_LAST_FOR;
        assert_eq!(choice.order(&[a, b], later)[1], b, "a's time is up, b's is not");
        choice.accepted(b);
        assert!(choice.order(&[a, b], later).contains(&b));
        assert!(choice.refused.is_empty());
    }
}
