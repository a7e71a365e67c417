//! Entries this process has already read and checked, by their text: a later hit on the same
//! text at the same path is read but neither parsed nor checked again. What is remembered is
//! where the answer is in the text: a call's response, or each event a stream's entry recorded.
//!
//! The text is told by its length and a 64-bit hash keyed at random for the process (std's
//! `RandomState`): a few milliseconds for a long stream's entry, against the tens a check
//! takes, and unlike a file's times it sees an edit made in the same clock tick. Bounded: at
//! most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] of positions in all, the oldest forgotten
//! first.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::key::Key;

/// How many entries are remembered.
const MAX_ENTRIES: usize = 64;
/// How many bytes of positions are remembered in all (4 MiB, 32 bytes a position and the
/// names of named events); an entry with more is not.
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Where one part of an entry's answer is in its text: a call's response, or the data of an
/// event a stream's entry recorded, with the event's name when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    /// Where the JSON text is.
    pub(crate) data: Range<usize>,
    /// The event's name (none: SSE's default, an event without one).
    pub(crate) event: Option<Arc<str>>,
}

impl Span {
    /// A part with no event name: a call's response, or an unnamed event's data.
    pub(crate) fn data(data: Range<usize>) -> Self {
        Span { data, event: None }
    }

    /// What it holds on the heap, counted against [`MAX_BYTES`].
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>().saturating_add(self.event.as_ref().map_or(0, |e| e.len()))
    }
}

/// Where the answer is in an entry's text: a call's response, or each event of a stream.
pub(crate) type Spans = Arc<[Span]>;

/// What `spans` hold, counted against [`MAX_BYTES`].
fn bytes(spans: &[Span]) -> usize {
    spans.iter().map(Span::bytes).fold(0, usize::saturating_add)
}

/// What tells an entry's text from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    len: usize,
    hash: u64,
}

impl Identity {
    /// The identity of `text`.
    pub(crate) fn of(text: &str) -> Self {
        static KEYS: OnceLock<RandomState> = OnceLock::new();
        let mut hasher = KEYS.get_or_init(RandomState::new).build_hasher();
        hasher.write(text.as_bytes());
        Self {
            len: text.len(),
            hash: hasher.finish(),
        }
    }
}

/// A checked entry: where its answer is in its text.
struct Seen {
    path: PathBuf,
    identity: Identity,
    key: Key,
    spans: Spans,
    /// What `spans` hold ([`bytes`]).
    bytes: usize,
}

static SEEN: Mutex<VecDeque<Seen>> = Mutex::new(VecDeque::new());

/// Where the answer is in the entry at `path` answering `key`, if this text was checked there
/// before (and was accepted: a response alone, or events alone, none an error).
pub(crate) fn spans(path: &Path, identity: Identity, key: Key) -> Option<Spans> {
    let seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    seen.iter()
        .find(|seen| seen.identity == identity && seen.key == key && seen.path == path)
        .map(|seen| Arc::clone(&seen.spans))
}

/// Remembers a checked and accepted entry, forgetting the oldest past the bounds.
pub(crate) fn remember(path: &Path, identity: Identity, key: Key, spans: Spans) {
    let size = bytes(&spans);
    if size > MAX_BYTES {
        return;
    }
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    seen.retain(|seen| seen.path != path);
    let count = |seen: &VecDeque<Seen>| {
        seen.iter()
            .fold(0_usize, |sum, seen| sum.saturating_add(seen.bytes))
    };
    while seen.len() >= MAX_ENTRIES || count(&seen).saturating_add(size) > MAX_BYTES {
        if seen.pop_front().is_none() {
            break;
        }
    }
    seen.push_back(Seen {
        path: path.to_owned(),
        identity,
        key,
        spans,
        bytes: size,
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::Api;
    use crate::cache::key::Route;
    use crate::protocol::Endpoint;

    fn identity(n: u64) -> Identity {
        Identity::of(&format!("text {n}"))
    }

    fn key(n: u64) -> Key {
        Key::of(
            &Route::of(Api::V2, Endpoint::Stream, "t"),
            &json!({ "n": n }),
        )
    }

    #[test]
    fn only_the_same_file_for_the_same_key_is_remembered_and_within_bounds() {
        let path = Path::new("/nonexistent/opper-seen-test/a.json");
        let kept: Spans = Arc::from(vec![Span::data(1..3), Span::data(4..9)]);
        remember(path, identity(7), key(1), Arc::clone(&kept));
        assert_eq!(spans_of(path, 7, 1), Some(kept));
        assert_eq!(spans_of(path, 8, 1), None, "another text");
        assert_eq!(spans_of(path, 7, 2), None, "another key");
        let other = Path::new("/nonexistent/opper-seen-test/b.json");
        assert_eq!(spans(other, identity(7), key(1)), None, "another path");
        assert_eq!(Identity::of("text 7"), identity(7));
        assert_ne!(Identity::of("text 7 "), identity(7));

        // Too many positions: not remembered.
        let huge: Spans =
            vec![Span::data(0..1); MAX_BYTES / std::mem::size_of::<Span>() + 1].into();
        remember(other, identity(1), key(1), huge);
        assert_eq!(spans(other, identity(1), key(1)), None);
        // Past the count, the oldest are forgotten.
        for n in 0..=u64::try_from(MAX_ENTRIES).unwrap() {
            let path = PathBuf::from(format!("/nonexistent/opper-seen-test/{n}.json"));
            remember(
                &path,
                identity(n),
                key(n),
                Arc::from(vec![Span::data(0..1)]),
            );
        }
        assert_eq!(spans_of(path, 7, 1), None);
        let seen = SEEN.lock().unwrap();
        assert!(seen.len() <= MAX_ENTRIES);
    }

    fn spans_of(path: &Path, inode: u64, n: u64) -> Option<Spans> {
        spans(path, identity(inode), key(n))
    }
}
