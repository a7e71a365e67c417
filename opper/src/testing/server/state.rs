//! What the server keeps between requests: the script, the recording, the spans, the limits.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::testing::record::Recording;
use crate::testing::reply::Reply;
use crate::testing::spans;

/// Scripted behaviour, behind one lock.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub(crate) api_key: Option<String>,
    pub(crate) sticky: HashMap<String, Reply>,
    pub(crate) default_reply: Option<Reply>,
    pub(crate) queues: HashMap<String, VecDeque<(Reply, usize)>>,
    pub(crate) faults: VecDeque<(Reply, usize)>,
}

impl Script {
    /// The next scripted fault, taken from its queue.
    pub(crate) fn next_fault(&mut self) -> Option<Reply> {
        pop(&mut self.faults)
    }

    /// The reply for a task: the next queued for it, else its sticky reply, else the default
    /// one, else a generated answer.
    pub(crate) fn reply_for(&mut self, name: &str) -> Reply {
        if let Some(reply) = self.queues.get_mut(name).and_then(pop) {
            return reply;
        }
        self.sticky
            .get(name)
            .or(self.default_reply.as_ref())
            .cloned()
            .unwrap_or_else(Reply::generated)
    }
}

fn pop(queue: &mut VecDeque<(Reply, usize)>) -> Option<Reply> {
    let (reply, remaining) = queue.front_mut()?;
    let reply = reply.clone();
    // Queued only when more than 0, and popped at 0: never below 1 here.
    *remaining = remaining.saturating_sub(1);
    if *remaining == 0 {
        queue.pop_front();
    }
    Some(reply)
}

/// The longest request body the server reads by default.
const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;
/// How long a request body may take to arrive by default.
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// State shared by the server handle, the accept loop and every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) script: Mutex<Script>,
    pub(crate) requests: Mutex<Recording>,
    pub(crate) seed: AtomicU64,
    pub(crate) counter: AtomicU64,
    pub(crate) accepted: AtomicUsize,
    pub(crate) closed: AtomicUsize,
    pub(crate) max_body_bytes: AtomicUsize,
    pub(crate) body_timeout: Mutex<Duration>,
    pub(crate) spans: Mutex<spans::Store>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            script: Mutex::default(),
            requests: Mutex::default(),
            seed: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            accepted: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
            max_body_bytes: AtomicUsize::new(DEFAULT_MAX_BODY_BYTES),
            body_timeout: Mutex::new(DEFAULT_BODY_TIMEOUT),
            spans: Mutex::default(),
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not break the server for others).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
