//! The ring's table of registered files: a socket registered there is named by its place in
//! the table, and the kernel takes no reference to the file for each operation on it (no
//! `fget`/`fput` a send or a receive). The places are handed out and taken back here; the
//! registration itself, and the close that frees a place, go through the ring (`uring`).
//!
//! A place is taken back only when the kernel has answered the close of it: until then an
//! entry still queued may name it, and a socket registered there in between would receive
//! that entry's operation.

/// Places in one core's table of registered files at most (sockets past them are named by
/// their descriptor, as without a table). Each place costs the kernel about 16 bytes.
pub(super) const FIXED_FILES_PER_CORE_MAX: u32 = 32_768;

/// A socket's place in its ring's table: `index`, in the table of the ring of `generation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FixedFile {
    pub(super) index: u32,
    pub(super) generation: u32,
}

/// Which places of a table of `size` are free: those never used (from `unused_from`), and
/// those given back.
pub(super) struct FileTable {
    size: u32,
    unused_from: u32,
    given_back: Vec<u32>,
}

impl FileTable {
    /// A table of `size` places (0: the ring has none).
    pub(super) fn new(size: u32) -> FileTable {
        FileTable { size, unused_from: 0, given_back: Vec::new() }
    }

    /// A free place, the most recently given back first; `None` when every place is taken.
    pub(super) fn take(&mut self) -> Option<u32> {
        if let Some(index) = self.given_back.pop() {
            return Some(index);
        }
        if self.unused_from < self.size {
            self.unused_from += 1;
            return Some(self.unused_from - 1);
        }
        None
    }

    /// Gives `index` back (its close answered, or its registration refused).
    pub(super) fn give_back(&mut self, index: u32) {
        debug_assert!(index < self.unused_from && !self.given_back.contains(&index), "a place taken, given back once");
        self.given_back.push(index);
    }

    /// Whether the table has places at all (tests).
    #[cfg(test)]
    pub(super) fn has_places(&self) -> bool {
        self.size > 0
    }

    /// Places taken and not given back (tests).
    #[cfg(test)]
    pub(super) fn taken(&self) -> u32 {
        self.unused_from - self.given_back.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_hands_out_each_place_once_until_it_is_given_back() {
        let mut table = FileTable::new(3);
        let taken: Vec<_> = std::iter::from_fn(|| table.take()).collect();
        assert_eq!(taken, [0, 1, 2]);
        assert_eq!(table.take(), None, "a full table has no place");
        table.give_back(1);
        assert_eq!(table.take(), Some(1));
        assert_eq!(table.take(), None);
        table.give_back(2);
        table.give_back(0);
        assert_eq!((table.take(), table.take(), table.take()), (Some(0), Some(2), None));
        assert_eq!(table.taken(), 3);
    }

    #[test]
    fn a_ring_without_a_table_hands_out_nothing() {
        assert_eq!(FileTable::new(0).take(), None);
    }
}
