//! A core's pending deadlines: a binary min-heap of (deadline, slot) whose slots know their
//! place in the heap, so that a timer cancelled before it fires (a request's timeout, almost
//! always) leaves at once, in O(log n), instead of lingering until its deadline. I/O-free: the
//! caller says what time it is and wakes what fires.

use std::task::Waker;
use std::time::Instant;

/// A slot's place in the heap when it is not in it: it fired (or was never armed).
const NOT_IN_HEAP: u32 = u32::MAX;

/// One timer's slot: where its deadline sits in the heap, and whom to wake.
struct Slot {
    heap_index: u32,
    /// A journey's think time (not the engine's own timer).
    think: bool,
    waker: Option<Waker>,
}

/// Timers waiting for their deadlines; slots are reused after `release`.
#[derive(Default)]
pub struct Deadlines {
    heap: Vec<(Instant, u32)>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Think-time slots held (armed and not yet released, fired ones included).
    thinking: u64,
}

impl Deadlines {
    /// Arms a timer for `deadline`, returning its slot (held until `release`); `think` marks a
    /// journey's think time.
    pub fn insert(&mut self, deadline: Instant, waker: Waker, think: bool) -> u32 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot { heap_index: NOT_IN_HEAP, think: false, waker: None });
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 timers per core")
            }
        };
        let index = self.heap.len();
        self.heap.push((deadline, slot));
        self.slots[slot as usize] = Slot { heap_index: index as u32, think, waker: Some(waker) };
        self.thinking += u64::from(think);
        self.sift_up(index);
        slot
    }

    /// True once the slot's deadline has been popped by `fire_due`.
    pub fn has_fired(&self, slot: u32) -> bool {
        self.slots[slot as usize].heap_index == NOT_IN_HEAP
    }

    /// Replaces the waker to wake, unless it would wake the same task. Returns the one
    /// replaced, for the caller to drop outside its borrow (dropping a waker can drop a task).
    #[must_use = "drop the replaced waker outside any borrow of the timers"]
    pub fn set_waker(&mut self, slot: u32, waker: &Waker) -> Option<Waker> {
        let held = &mut self.slots[slot as usize].waker;
        if held.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return None;
        }
        held.replace(waker.clone())
    }

    /// Frees a slot: its deadline leaves the heap if it has not fired. Returns its waker.
    pub fn release(&mut self, slot: u32) -> Option<Waker> {
        let index = self.slots[slot as usize].heap_index;
        if index != NOT_IN_HEAP {
            self.remove_at(index as usize);
        }
        let entry = &mut self.slots[slot as usize];
        entry.heap_index = NOT_IN_HEAP;
        self.thinking -= u64::from(entry.think);
        self.free.push(slot);
        entry.waker.take()
    }

    /// Think times held: armed and not yet released.
    pub fn thinking(&self) -> u64 {
        self.thinking
    }

    /// The earliest deadline of the think times still waiting (a scan: for a run's stop only).
    pub fn earliest_think(&self) -> Option<Instant> {
        self.heap.iter().filter(|&&(_, slot)| self.slots[slot as usize].think).map(|&(deadline, _)| deadline).min()
    }

    /// The earliest deadline still waiting.
    pub fn earliest(&self) -> Option<Instant> {
        self.heap.first().map(|&(deadline, _)| deadline)
    }

    /// Pops every deadline at or before `now`, marking its slot fired and handing its waker to
    /// `fired` (called outside any borrow by the caller).
    pub fn fire_due(&mut self, now: Instant, fired: &mut Vec<Waker>) {
        while let Some(&(deadline, slot)) = self.heap.first() {
            if deadline > now {
                break;
            }
            self.remove_at(0);
            let entry = &mut self.slots[slot as usize];
            entry.heap_index = NOT_IN_HEAP;
            fired.extend(entry.waker.take());
        }
    }

    /// Timers armed and not yet released (fired ones included).
    #[cfg(test)]
    pub fn armed(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Takes every waker out and forgets every timer (the runtime they belonged to is gone).
    pub fn take_all(&mut self) -> Vec<Waker> {
        let wakers = self.slots.iter_mut().filter_map(|slot| slot.waker.take()).collect();
        *self = Deadlines::default();
        wakers
    }

    fn remove_at(&mut self, index: usize) {
        let last = self.heap.len() - 1;
        self.heap.swap(index, last);
        self.heap.pop();
        if index < self.heap.len() {
            self.place(index);
            self.sift_down(index);
            self.sift_up(index);
        }
    }

    fn sift_up(&mut self, mut index: usize) {
        while index > 0 {
            let parent = (index - 1) / 2;
            if self.heap[parent].0 <= self.heap[index].0 {
                break;
            }
            self.heap.swap(parent, index);
            self.place(index);
            index = parent;
        }
        self.place(index);
    }

    fn sift_down(&mut self, mut index: usize) {
        loop {
            let left = 2 * index + 1;
            let right = left + 1;
            let mut least = index;
            if left < self.heap.len() && self.heap[left].0 < self.heap[least].0 {
                least = left;
            }
            if right < self.heap.len() && self.heap[right].0 < self.heap[least].0 {
                least = right;
            }
            if least == index {
                break;
            }
            self.heap.swap(least, index);
            self.place(index);
            index = least;
        }
        self.place(index);
    }

    /// Tells the slot at heap position `index` where it now is.
    fn place(&mut self, index: usize) {
        let slot = self.heap[index].1;
        self.slots[slot as usize].heap_index = index as u32;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn deadlines_fire_in_order_and_only_when_due() {
        let base = Instant::now();
        let mut deadlines = Deadlines::default();
        let late = deadlines.insert(at(base, 30), Waker::noop().clone(), false);
        let early = deadlines.insert(at(base, 10), Waker::noop().clone(), false);
        assert_eq!(deadlines.earliest(), Some(at(base, 10)));
        let mut fired = Vec::new();
        deadlines.fire_due(at(base, 9), &mut fired);
        assert!(fired.is_empty() && !deadlines.has_fired(early));
        deadlines.fire_due(at(base, 10), &mut fired);
        assert_eq!(fired.len(), 1, "a deadline fires at its instant");
        assert!(deadlines.has_fired(early) && !deadlines.has_fired(late));
        assert_eq!(deadlines.earliest(), Some(at(base, 30)));
    }

    #[test]
    fn a_released_timer_leaves_the_heap_at_once_and_its_slot_is_reused() {
        let base = Instant::now();
        let mut deadlines = Deadlines::default();
        let slot = deadlines.insert(at(base, 5), Waker::noop().clone(), false);
        assert!(deadlines.release(slot).is_some());
        assert_eq!(deadlines.earliest(), None);
        assert_eq!(deadlines.armed(), 0);
        assert_eq!(deadlines.insert(at(base, 7), Waker::noop().clone(), false), slot);
    }

    #[test]
    fn the_first_think_time_is_found_among_other_timers() {
        let base = Instant::now();
        let mut deadlines = Deadlines::default();
        deadlines.insert(at(base, 5), Waker::noop().clone(), false);
        assert_eq!(deadlines.earliest_think(), None);
        let late = deadlines.insert(at(base, 50), Waker::noop().clone(), true);
        deadlines.insert(at(base, 20), Waker::noop().clone(), true);
        assert_eq!(deadlines.earliest_think(), Some(at(base, 20)));
        let mut fired = Vec::new();
        deadlines.fire_due(at(base, 30), &mut fired);
        assert_eq!(deadlines.earliest_think(), Some(at(base, 50)), "fired think times are not waiting");
        deadlines.release(late);
        assert_eq!(deadlines.earliest_think(), None);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Insert(u16),
        Release(usize),
        Fire(u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u16..500).prop_map(Step::Insert),
            (0usize..64).prop_map(Step::Release),
            (0u16..500).prop_map(Step::Fire),
        ]
    }

    proptest! {
        /// Against a plain list: the same timers fire at the same times, and the earliest
        /// deadline is always the least of those neither fired nor released.
        #[test]
        fn behaves_like_a_sorted_list(steps in proptest::collection::vec(step(), 0..300)) {
            let base = Instant::now();
            let mut deadlines = Deadlines::default();
            // (slot, deadline, fired) for each timer armed and not released.
            let mut model: Vec<(u32, Instant, bool)> = Vec::new();
            for step in steps {
                match step {
                    Step::Insert(ms) => {
                        let slot = deadlines.insert(at(base, ms.into()), Waker::noop().clone(), false);
                        prop_assert!(model.iter().all(|&(s, _, _)| s != slot), "a slot in use was handed out");
                        model.push((slot, at(base, ms.into()), false));
                    }
                    Step::Release(i) if !model.is_empty() => {
                        let (slot, _, _) = model.remove(i % model.len());
                        deadlines.release(slot);
                    }
                    Step::Release(_) => {}
                    Step::Fire(ms) => {
                        let mut fired = Vec::new();
                        deadlines.fire_due(at(base, ms.into()), &mut fired);
                        let mut due = 0;
                        for timer in model.iter_mut().filter(|t| !t.2 && t.1 <= at(base, ms.into())) {
                            timer.2 = true;
                            due += 1;
                        }
                        prop_assert_eq!(fired.len(), due);
                    }
                }
                for &(slot, _, fired) in &model {
                    prop_assert_eq!(deadlines.has_fired(slot), fired);
                }
                let earliest = model.iter().filter(|t| !t.2).map(|t| t.1).min();
                prop_assert_eq!(deadlines.earliest(), earliest);
                prop_assert_eq!(deadlines.armed(), model.len());
            }
        }
    }
}
