//! `Set-Cookie` fields the journey's jar ignored, by reason: counted per transaction (a load run
//! has no trace to say so), so that a user sees a cookie the server meant to set was never kept.

/// Why a `Set-Cookie` field was ignored (the jar's reasons, and a value that is not UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieIgnored {
    /// The field's value is not UTF-8.
    NotUtf8,
    /// Name and value above the jar's size limit.
    TooLarge,
    /// No `name=value`, or an empty name.
    NoName,
    /// A `Domain` that does not cover the host that set it (or ends in a dot it does not).
    ForeignDomain,
    /// `Secure` over plain HTTP, or replacing a `Secure` cookie from plain HTTP.
    SecureOverHttp,
    /// A control character in the name or value.
    ControlCharacter,
}

impl CookieIgnored {
    /// Reasons, as many as there are.
    pub const COUNT: usize = 6;
    /// Every reason, in index order.
    pub const ALL: [CookieIgnored; CookieIgnored::COUNT] = [
        CookieIgnored::NotUtf8,
        CookieIgnored::TooLarge,
        CookieIgnored::NoName,
        CookieIgnored::ForeignDomain,
        CookieIgnored::SecureOverHttp,
        CookieIgnored::ControlCharacter,
    ];

    /// The reason's name in results and tables.
    pub fn name(self) -> &'static str {
        match self {
            CookieIgnored::NotUtf8 => "not_utf8",
            CookieIgnored::TooLarge => "too_large",
            CookieIgnored::NoName => "no_name",
            CookieIgnored::ForeignDomain => "foreign_domain",
            CookieIgnored::SecureOverHttp => "secure_over_http",
            CookieIgnored::ControlCharacter => "control_character",
        }
    }

    /// The reason named `name`, if any.
    pub fn from_name(name: &str) -> Option<CookieIgnored> {
        CookieIgnored::ALL.into_iter().find(|reason| reason.name() == name)
    }
}

/// Ignored `Set-Cookie` fields of one transaction, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookiesIgnored {
    counts: [u64; CookieIgnored::COUNT],
}

impl CookiesIgnored {
    /// Counts `count` fields ignored for `reason`.
    pub fn add(&mut self, reason: CookieIgnored, count: u64) {
        self.counts[reason as usize] += count;
    }

    /// Fields ignored for `reason`.
    pub fn of(&self, reason: CookieIgnored) -> u64 {
        self.counts[reason as usize]
    }

    /// Fields ignored, every reason.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The reasons with a count, in index order.
    pub fn nonzero(&self) -> impl Iterator<Item = (CookieIgnored, u64)> + '_ {
        CookieIgnored::ALL.into_iter().map(|reason| (reason, self.of(reason))).filter(|&(_, n)| n > 0)
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &CookiesIgnored) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways_and_counts_add_up() {
        for (index, reason) in CookieIgnored::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, index);
            assert_eq!(CookieIgnored::from_name(reason.name()), Some(reason));
        }
        let mut a = CookiesIgnored::default();
        a.add(CookieIgnored::NotUtf8, 2);
        let mut b = CookiesIgnored::default();
        b.add(CookieIgnored::TooLarge, 1);
        b.add(CookieIgnored::NotUtf8, 1);
        a.merge(&b);
        assert_eq!(a.nonzero().collect::<Vec<_>>(), [(CookieIgnored::NotUtf8, 3), (CookieIgnored::TooLarge, 1)]);
        assert_eq!(a.total(), 4);
    }
}
