//! Counts in words: thousands grouped, a noun in the plural but for one. Here rather than in
//! `output::units` (which re-exports them) so that the checks before a run (`scenario`) and
//! the core lists (`model::cores`) say counts as a run's output does.

/// `1234567` → `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 core`, `2 cores`: a count with its noun, plural when it is not one.
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", grouped(n)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_their_noun_in_the_plural_but_for_one() {
        assert_eq!(counted(1, "core"), "1 core");
        assert_eq!(counted(0, "core"), "0 cores");
        assert_eq!(counted(2000, "core"), "2,000 cores");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }
}
