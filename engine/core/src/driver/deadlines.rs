//! A core's pending deadlines: sorted queues of timers (doubly linked through the slots) with
//! only each queue's first deadline in a binary min-heap. Timers of the same duration are armed
//! in deadline order, so every timeout of one duration on a core (connects, think times) is
//! appended to the same queue, and cancelling one (almost always) unlinks it in O(1) instead of
//! sifting a heap of every pending timer. A deadline that follows no open queue's last one
//! starts a queue of its own, so the worst case is the plain heap's O(log n). Cancellation
//! leaves nothing behind. I/O-free: the caller says what time it is and wakes what fires.

use std::task::Waker;
use std::time::Instant;

/// No slot, no queue, no place: a link's end, a slot not in a queue (it fired, or is free).
const NONE: u32 = u32::MAX;

/// Queues that take new deadlines at their end (least recently used out): one per timer
/// duration in use at once (request timeouts, connect timeouts, a journey's think time...).
const OPEN_QUEUES: usize = 4;

/// One timer's slot: its deadline, its queue and neighbours there, and whom to wake.
struct Slot {
    deadline: Instant,
    /// The queue it waits in; `NONE` once fired (or free).
    queue: u32,
    prev: u32,
    next: u32,
    /// A journey's think time (not the engine's own timer).
    think: bool,
    waker: Option<Waker>,
}

/// Timers in deadline order, first to last; its first deadline is in the heap at `heap_index`.
struct Queue {
    first: u32,
    last: u32,
    heap_index: u32,
}

/// A queue open to appends: `last` is at or after its last timer's deadline (a cancelled last
/// timer leaves it later, which only refuses a deadline that would have fitted).
#[derive(Clone, Copy)]
struct Open {
    queue: u32,
    last: Instant,
    used: u64,
}

/// Timers waiting for their deadlines; slots and queues are reused once free.
pub struct Deadlines {
    slots: Vec<Slot>,
    /// The first free slot, the others linked through `next`.
    free_slot: u32,
    queues: Vec<Queue>,
    free_queues: Vec<u32>,
    /// (first deadline, queue) of every queue holding a timer.
    heap: Vec<(Instant, u32)>,
    open: [Option<Open>; OPEN_QUEUES],
    /// Counts appends, for least-recently-used replacement of open queues.
    appends: u64,
    /// Think-time slots held (armed and not yet released, fired ones included).
    thinking: u64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self::new()
    }
}

impl Deadlines {
    /// No timers (`const`: a thread's timers need no lazy start).
    pub const fn new() -> Self {
        Deadlines {
            slots: Vec::new(),
            free_slot: NONE,
            queues: Vec::new(),
            free_queues: Vec::new(),
            heap: Vec::new(),
            open: [None; OPEN_QUEUES],
            appends: 0,
            thinking: 0,
        }
    }

    /// Arms a timer for `deadline`, returning its slot (held until `release`); `think` marks a
    /// journey's think time.
    pub fn insert(&mut self, deadline: Instant, waker: Waker, think: bool) -> u32 {
        let slot = self.new_slot(Slot { deadline, queue: NONE, prev: NONE, next: NONE, think, waker: Some(waker) });
        self.thinking += u64::from(think);
        self.appends += 1;
        match self.open_queue_for(deadline) {
            Some(open) => self.append(open, slot),
            None => self.start_queue(slot),
        }
        slot
    }

    /// True once the slot's deadline has been reached by `fire_due`.
    pub fn has_fired(&self, slot: u32) -> bool {
        self.slots[slot as usize].queue == NONE
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

    /// Frees a slot: its deadline leaves its queue if it has not fired. Returns its waker.
    pub fn release(&mut self, slot: u32) -> Option<Waker> {
        if !self.has_fired(slot) {
            self.unlink(slot);
        }
        let entry = &mut self.slots[slot as usize];
        self.thinking -= u64::from(entry.think);
        entry.next = std::mem::replace(&mut self.free_slot, slot);
        entry.waker.take()
    }

    /// Think times held: armed and not yet released.
    pub fn thinking(&self) -> u64 {
        self.thinking
    }

    /// The earliest deadline of the think times still waiting (a scan: for a run's stop only).
    pub fn earliest_think(&self) -> Option<Instant> {
        self.slots.iter().filter(|slot| slot.think && slot.queue != NONE).map(|slot| slot.deadline).min()
    }

    /// The earliest deadline still waiting.
    pub fn earliest(&self) -> Option<Instant> {
        self.heap.first().map(|&(deadline, _)| deadline)
    }

    /// Takes out every deadline at or before `now`, marking its slot fired and handing its
    /// waker to `fired` (called outside any borrow by the caller).
    pub fn fire_due(&mut self, now: Instant, fired: &mut Vec<Waker>) {
        while let Some(&(deadline, queue)) = self.heap.first() {
            if deadline > now {
                break;
            }
            let slot = self.queues[queue as usize].first;
            self.unlink(slot);
            fired.extend(self.slots[slot as usize].waker.take());
        }
    }

    /// Timers armed and not yet released (fired ones included).
    #[cfg(test)]
    pub fn armed(&self) -> usize {
        let (mut free, mut slot) = (0, self.free_slot);
        while slot != NONE {
            (free, slot) = (free + 1, self.slots[slot as usize].next);
        }
        self.slots.len() - free
    }

    /// Takes every waker out and forgets every timer (the runtime they belonged to is gone).
    pub fn take_all(&mut self) -> Vec<Waker> {
        let wakers = self.slots.iter_mut().filter_map(|slot| slot.waker.take()).collect();
        *self = Deadlines::default();
        wakers
    }

    fn new_slot(&mut self, slot: Slot) -> u32 {
        match self.free_slot {
            NONE => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1)
                    .ok()
                    .filter(|&index| index != NONE)
                    .expect("fewer than 2^32 - 1 timers per core")
            }
            index => {
                self.free_slot = std::mem::replace(&mut self.slots[index as usize], slot).next;
                index
            }
        }
    }

    /// The open queue whose last deadline is the latest at or before `deadline`.
    fn open_queue_for(&self, deadline: Instant) -> Option<usize> {
        let mut best: Option<(usize, Instant)> = None;
        for (index, open) in self.open.iter().enumerate() {
            if let Some(open) = open
                && open.last <= deadline
                && best.is_none_or(|(_, last)| open.last > last)
            {
                best = Some((index, open.last));
            }
        }
        best.map(|(index, _)| index)
    }

    /// Puts `slot` at the end of the open queue `open` (its deadline is at or after the last).
    fn append(&mut self, open: usize, slot: u32) {
        let entry = self.open[open].as_mut().expect("an open queue");
        let queue = entry.queue;
        entry.last = self.slots[slot as usize].deadline;
        entry.used = self.appends;
        let last = std::mem::replace(&mut self.queues[queue as usize].last, slot);
        self.slots[last as usize].next = slot;
        let entry = &mut self.slots[slot as usize];
        entry.prev = last;
        entry.queue = queue;
    }

    /// Starts a queue holding `slot` alone, open in place of the least recently used one.
    fn start_queue(&mut self, slot: u32) {
        let deadline = self.slots[slot as usize].deadline;
        let fresh = Queue { first: slot, last: slot, heap_index: NONE };
        let queue = match self.free_queues.pop() {
            Some(queue) => {
                self.queues[queue as usize] = fresh;
                queue
            }
            None => {
                self.queues.push(fresh);
                u32::try_from(self.queues.len() - 1)
                    .ok()
                    .filter(|&index| index != NONE)
                    .expect("fewer than 2^32 - 1 queues per core")
            }
        };
        self.slots[slot as usize].queue = queue;
        let replaced = (0..OPEN_QUEUES).min_by_key(|&i| self.open[i].map_or(0, |open| open.used)).expect("open queues");
        self.open[replaced] = Some(Open { queue, last: deadline, used: self.appends });
        self.heap.push((deadline, queue));
        self.sift_up(self.heap.len() - 1);
    }

    /// Takes a waiting slot out of its queue (marking it not waiting); a queue left empty is
    /// freed, one with a new first deadline moves in the heap.
    fn unlink(&mut self, slot: u32) {
        let Slot { queue, prev, next, .. } = self.slots[slot as usize];
        self.slots[slot as usize].queue = NONE;
        match prev {
            NONE => self.queues[queue as usize].first = next,
            prev => self.slots[prev as usize].next = next,
        }
        match next {
            NONE => self.queues[queue as usize].last = prev,
            next => self.slots[next as usize].prev = prev,
        }
        if prev != NONE {
            return;
        }
        let heap_index = self.queues[queue as usize].heap_index as usize;
        if next == NONE {
            self.free_queue(queue, heap_index);
        } else {
            // The first deadline only moves later: the queue can only go down the heap (it
            // seldom does: the next request timeout is usually still the earliest deadline).
            self.heap[heap_index].0 = self.slots[next as usize].deadline;
            if !self.before_its_children(heap_index) {
                self.sift_down(heap_index);
            }
        }
    }

    fn free_queue(&mut self, queue: u32, heap_index: usize) {
        if let Some(open) = self.open.iter_mut().find(|open| open.is_some_and(|open| open.queue == queue)) {
            *open = None;
        }
        self.free_queues.push(queue);
        let last = self.heap.len() - 1;
        self.heap.swap(heap_index, last);
        self.heap.pop();
        if heap_index < self.heap.len() {
            self.sift_down(heap_index);
            self.sift_up(heap_index);
        }
    }

    /// Whether the queue at heap position `index` comes no later than its children.
    fn before_its_children(&self, index: usize) -> bool {
        let first = self.heap[index].0;
        let child = |at: usize| self.heap.get(at).is_none_or(|&(deadline, _)| first <= deadline);
        child(2 * index + 1) && child(2 * index + 2)
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

    /// Tells the queue at heap position `index` where it now is.
    fn place(&mut self, index: usize) {
        let queue = self.heap[index].1;
        self.queues[queue as usize].heap_index = index as u32;
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

    impl Deadlines {
        /// Every queue in deadline order and linked both ways, the heap ordered and holding
        /// each live queue's first deadline once, open queues' `last` at or after their end.
        fn check(&self) {
            let mut queued = 0;
            for (index, &(deadline, queue)) in self.heap.iter().enumerate() {
                if index > 0 {
                    assert!(self.heap[(index - 1) / 2].0 <= deadline, "heap order at {index}");
                }
                let entry = &self.queues[queue as usize];
                assert_eq!(entry.heap_index as usize, index);
                assert_eq!(self.slots[entry.first as usize].deadline, deadline, "the heap holds the first deadline");
                let (mut slot, mut prev) = (entry.first, NONE);
                while slot != NONE {
                    let s = &self.slots[slot as usize];
                    assert_eq!((s.queue, s.prev), (queue, prev));
                    if prev != NONE {
                        assert!(self.slots[prev as usize].deadline <= s.deadline, "queue {queue} out of order");
                    }
                    (prev, slot) = (slot, s.next);
                    queued += 1;
                }
                assert_eq!(entry.last, prev);
            }
            assert_eq!(queued, self.slots.iter().filter(|s| s.queue != NONE).count(), "a waiting slot in no queue");
            assert_eq!(self.heap.len() + self.free_queues.len(), self.queues.len(), "a queue neither used nor free");
            let mut slot = self.free_slot;
            while slot != NONE {
                assert_eq!(self.slots[slot as usize].queue, NONE, "a free slot in a queue");
                slot = self.slots[slot as usize].next;
            }
            for open in self.open.iter().flatten() {
                let entry = &self.queues[open.queue as usize];
                assert!(entry.heap_index != NONE && !self.free_queues.contains(&open.queue), "an open queue was freed");
                assert!(self.slots[entry.last as usize].deadline <= open.last);
            }
        }

        fn queues_in_use(&self) -> usize {
            self.heap.len()
        }
    }

    #[test]
    fn timers_of_one_duration_share_one_queue_and_leave_it_in_any_order() {
        let base = Instant::now();
        let mut deadlines = Deadlines::default();
        let mut slots: Vec<u32> =
            (0..64).map(|ms| deadlines.insert(at(base, 30_000 + ms), Waker::noop().clone(), false)).collect();
        let think = deadlines.insert(at(base, 1_000), Waker::noop().clone(), true);
        assert_eq!(deadlines.queues_in_use(), 2, "request timeouts in one queue, the think time in another");
        assert_eq!(deadlines.earliest(), Some(at(base, 1_000)));
        for i in [0, 63, 31, 1, 30] {
            deadlines.release(slots.remove(i.min(slots.len() - 1)));
            deadlines.check();
        }
        assert_eq!(deadlines.earliest(), Some(at(base, 1_000)));
        deadlines.release(think);
        assert_eq!(deadlines.earliest(), Some(at(base, 30_001)), "the first left is the second armed");
        let mut fired = Vec::new();
        deadlines.fire_due(at(base, 30_010), &mut fired);
        assert_eq!(fired.len(), 9, "30,001 and 30,003 to 30,010 (30,002 was released)");
        deadlines.check();
        for slot in slots {
            deadlines.release(slot);
        }
        assert_eq!((deadlines.queues_in_use(), deadlines.armed(), deadlines.earliest()), (0, 0, None));
    }

    #[test]
    fn deadlines_armed_latest_first_each_start_a_queue_and_still_fire_in_order() {
        let base = Instant::now();
        let mut deadlines = Deadlines::default();
        for ms in (0..1_000).rev() {
            deadlines.insert(at(base, ms), Waker::noop().clone(), false);
        }
        assert_eq!(deadlines.queues_in_use(), 1_000, "none follows another: the plain heap");
        deadlines.check();
        let mut fired = Vec::new();
        for ms in 0..1_000 {
            deadlines.fire_due(at(base, ms), &mut fired);
            assert_eq!(fired.len() as u64, ms + 1);
            assert_eq!(deadlines.earliest(), (ms < 999).then(|| at(base, ms + 1)));
        }
        assert_eq!(deadlines.queues_in_use(), 0);
        deadlines.check();
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

    #[derive(Debug, Clone)]
    enum Use {
        /// A timer of this many milliseconds from now; a think time when true.
        Arm(u64, bool),
        Release(usize),
        /// The clock moves on this many milliseconds and what is due fires.
        Advance(u64),
    }

    fn use_step() -> impl Strategy<Value = Use> {
        let duration = prop_oneof![Just(3_000u64), Just(1_000), Just(500), Just(0), 0u64..4_000];
        prop_oneof![
            4 => (duration, any::<bool>()).prop_map(|(ms, think)| Use::Arm(ms, think)),
            3 => (0usize..64).prop_map(Use::Release),
            2 => (0u64..300).prop_map(Use::Advance),
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
                deadlines.check();
            }
        }

        /// As a core uses them: a clock that moves on, timers of a few durations (and some of
        /// any length) armed at the current time, cancelled anywhere in their queue, fired at
        /// the current time; against a plain list, think times counted apart.
        #[test]
        fn timers_armed_as_time_goes_on_behave_like_a_sorted_list(steps in proptest::collection::vec(use_step(), 0..400)) {
            let base = Instant::now();
            let mut now = 0u64;
            let mut deadlines = Deadlines::default();
            // (slot, deadline, fired, think) for each timer armed and not released.
            let mut model: Vec<(u32, Instant, bool, bool)> = Vec::new();
            for step in steps {
                match step {
                    Use::Arm(ms, think) => {
                        let slot = deadlines.insert(at(base, now + ms), Waker::noop().clone(), think);
                        prop_assert!(model.iter().all(|t| t.0 != slot), "a slot in use was handed out");
                        model.push((slot, at(base, now + ms), false, think));
                    }
                    Use::Release(i) if !model.is_empty() => {
                        let (slot, ..) = model.remove(i % model.len());
                        deadlines.release(slot);
                    }
                    Use::Release(_) => {}
                    Use::Advance(ms) => {
                        now += ms;
                        let mut fired = Vec::new();
                        deadlines.fire_due(at(base, now), &mut fired);
                        let mut due = 0;
                        for timer in model.iter_mut().filter(|t| !t.2 && t.1 <= at(base, now)) {
                            timer.2 = true;
                            due += 1;
                        }
                        prop_assert_eq!(fired.len(), due);
                    }
                }
                for &(slot, _, fired, _) in &model {
                    prop_assert_eq!(deadlines.has_fired(slot), fired);
                }
                let waiting = || model.iter().filter(|t| !t.2);
                prop_assert_eq!(deadlines.earliest(), waiting().map(|t| t.1).min());
                prop_assert_eq!(deadlines.earliest_think(), waiting().filter(|t| t.3).map(|t| t.1).min());
                prop_assert_eq!(deadlines.thinking(), model.iter().filter(|t| t.3).count() as u64);
                prop_assert_eq!(deadlines.armed(), model.len());
                deadlines.check();
            }
        }
    }
}
