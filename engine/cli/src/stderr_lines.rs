//! A run's lines on standard error (progress, notices) are written by a thread of their own
//! through a bounded queue: standard error a full pipe nobody reads holds that thread, never
//! the run, so the run still ends and writes its result files. A line that finds the queue
//! full is dropped and counted.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;

/// Lines waiting to be written before further ones are dropped.
const LINES_QUEUED_MAX: usize = 1024;

/// How long the end of a run waits for the lines queued to be written.
const DRAIN_WAIT: Duration = Duration::from_secs(1);

/// The queue of a run's lines and what was dropped from it.
pub struct StderrLines {
    /// `None` when the writing thread could not start: lines are then written directly.
    queue: Option<SyncSender<String>>,
    /// Says the writing thread wrote every line queued.
    drained: Receiver<()>,
    /// Lines dropped because the queue was full.
    dropped: u64,
}

impl StderrLines {
    /// Starts the writing thread.
    pub fn start() -> StderrLines {
        let (queue, lines) = std::sync::mpsc::sync_channel::<String>(LINES_QUEUED_MAX);
        let (done, drained) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("stderr-lines".into()).spawn(move || {
            for line in lines {
                // One write per line (stderr is unbuffered): a line is never split by another's.
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            let _ = done.send(());
        });
        StderrLines { queue: spawned.is_ok().then_some(queue), drained, dropped: 0 }
    }

    /// Queues `line` (ending in a newline) without waiting, or drops it when the queue is full.
    pub fn say(&mut self, line: String) {
        let line = match &self.queue {
            Some(queue) => match queue.try_send(line) {
                Ok(()) => return,
                Err(TrySendError::Full(_)) => {
                    self.dropped += 1;
                    return;
                }
                Err(TrySendError::Disconnected(line)) => line,
            },
            None => line,
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    /// Waits at most `DRAIN_WAIT` for the lines queued, then says how many were dropped. When
    /// they are still not written (nobody reads standard error), it says nothing and goes on:
    /// the result files come next.
    pub fn finish(mut self) {
        let Some(queue) = self.queue.take() else { return };
        drop(queue);
        if self.drained.recv_timeout(DRAIN_WAIT).is_ok() && self.dropped > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "{} lines of progress were dropped: standard error was not being read",
                self.dropped
            );
        }
    }
}
