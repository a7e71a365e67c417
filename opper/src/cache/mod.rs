//! A response cache on disk that doubles as test cassettes: one readable JSON file per request.

mod key;
mod seen;
mod frames;
mod entry;

use std::future::Future;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use serde_json::Value;

use entry::Found;
pub(crate) use entry::{Answer, CallAnswer};
pub(crate) use frames::{Recorded, StreamAnswer};
use key::{Key, Route};

use crate::api::Api;
use crate::error::Error;
use crate::error::Result;
use crate::protocol::Endpoint;

/// A directory of cached answers: calls answered from it make no request.
///
/// [`Cache::dir`] is read-write: a hit is served from disk, a miss is sent and its answer
/// stored. [`Cache::replay_only`] never sends: a miss is [`Error::CacheMiss`]. Commit the
/// directory and a test suite replays real answers offline, without an API key.
///
/// ```
/// let cache = opper::Cache::dir("target/opper-cache");
/// assert!(!cache.is_replay_only());
/// let cassettes = opper::Cache::dir("tests/cassettes").replay_only();
/// assert!(cassettes.is_replay_only());
/// ```
///
/// # The key
/// A request's key is the SHA-256 of `opper-cache-v1`, a newline, the endpoint's path
/// (`/v2/call` or `/v2/call/stream`; on [`Api::V3`](crate::Api::V3)
/// `/v3/functions/{name}/call` or `/stream`, the name as sent), a newline, and the request body
/// as canonical JSON: without the top-level `parent_span_id` and (v2) `tags` (they label a
/// call, they do not change its answer), object keys sorted by their UTF-8 bytes at every depth, no whitespace, strings
/// and numbers as `serde_json` writes them; in it, the value of each of the model's extra
/// headers ([`Model::extra_header`](crate::Model::extra_header), which may hold a provider's
/// key) is replaced by `<redacted sha256:HEX>`, HEX the SHA-256 of `opper-cache-v1 header`, a
/// newline and the value. So two header values key apart, and no value is ever stored. It
/// depends on nothing else: not the base URL, the API key, the client's headers, the process,
/// the machine or the release of this crate. So the same task
/// (name, instructions, schemas, model, examples, configuration) with the same input hits,
/// and any change to them misses. A body nested deeper than 128 levels has no key: it is sent
/// without the cache (and is a miss in replay-only mode).
///
/// # Hits
/// A hit goes through the same decoding as the live answer did: a call's hit is the same
/// [`Response`](crate::Response) (its `span_id`, `usage`, `cost` and `cached` as recorded), a
/// stream hit replays the same events through the decoder a live stream uses, so the same
/// [`Update`](crate::Update)s and the same `finish()`. Tracing records `cache = "hit"` or
/// `"miss"` on the call's span.
///
/// # The entries
/// Each key is one file, `<task>.<call|stream>.<key>.json`, pretty-printed so it reads well in a
/// review: the format version, the endpoint, the request body as sent (no HTTP header, so never
/// the API key; extra headers of the model with their values hashed, as in the key), then the
/// call's response body, or the stream's events in order as they arrived, one per line, in
/// `"chunks"` (the same shape on v2 and v3): each event's `data` (its JSON text as sent, on one
/// line), or `{"event": name, "data": ...}` for an event with a name (v3's final answer,
/// `complete`). Entries written before by v3 streams hold the same items as `"frames"`, read
/// the same way. (A header value's
/// hash cannot be undone, but a short or guessable value can be found by trying candidates:
/// pass provider keys as headers of the client rather than of the model where you can.)
/// Only successes are stored: never an error status, and a stream only once it ended cleanly
/// (and only if its entry reads back: an event that is not JSON is not stored).
/// A task with a validator stores only the answer it accepted, under the request as first made
/// (a re-ask's instructions are not part of the key), so its replay is accepted at once. A file is
/// written to a temporary file beside it and renamed into place, so concurrent writers and a
/// crash never leave a torn entry. A file that is damaged, truncated, of another format or for
/// another request is a miss, logged at `warn`: never a panic, and never an error in read-write
/// mode. So is one that is not a regular file (a symbolic link is not followed; a FIFO or a
/// device is not opened to read) or is larger than 64 MiB; an answer whose entry would be
/// larger is not stored, and a stream's recording never holds more than the client's
/// [`max_response_bytes`](crate::OpperBuilder::max_response_bytes). Entries are written, and
/// read when larger than 64 KiB, on tokio's
/// blocking threads, never on the task that makes the call; a smaller entry (a call's answer, a
/// short stream) is read on that task, after an open that cannot block (a regular file that
/// small reads from the page cache in microseconds, and at worst in one read from the disk).
/// A stream's events are each checked when its entry is read, as the version's decoder reads
/// them but building nothing (an entry with an error event, such as a v2 `error` chunk or a v3
/// `error` frame, is a miss), and each is decoded as it is replayed.
/// An entry read again in this process, its text unchanged, is not parsed or checked again:
/// where its answer is in it is remembered (for at most 64 entries and 4 MiB of positions),
/// known by its path, its key, and its text's length and hash.
///
/// # Re-asks
/// A replay-only cache never sends a request, re-asks included: a replayed answer that the
/// task's validator (or output type) rejects is [`Error::ReplayRejected`] when a re-ask is left,
/// and [`Error::Rejected`] when none is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    dir: PathBuf,
    replay_only: bool,
}

impl Cache {
    /// A read-write cache in `path` (created when the first entry is stored). A relative path
    /// is taken from the current directory: under `cargo test`, the package's directory.
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        Self {
            dir: path.into(),
            replay_only: false,
        }
    }

    /// Serves hits only: a miss is [`Error::CacheMiss`] and no request is made.
    #[must_use]
    pub fn replay_only(mut self) -> Self {
        self.replay_only = true;
        self
    }

    /// The directory of the entries.
    pub fn get_path(&self) -> &Path {
        &self.dir
    }

    /// Whether a miss is an error rather than a request.
    pub fn is_replay_only(&self) -> bool {
        self.replay_only
    }

    /// The cache that `OPPER_CACHE_DIR` and `OPPER_CACHE_MODE` ask for, from their values (unset
    /// or empty as `None`): none without a directory or with mode `off`; read-write with no
    /// mode (or `read-write`); replay-only with `replay`.
    pub(crate) fn from_env_values(dir: Option<&str>, mode: Option<&str>) -> Result<Option<Self>> {
        let dir = dir.map(str::trim).filter(|dir| !dir.is_empty());
        let mode = mode.map(str::trim).filter(|mode| !mode.is_empty());
        let replay_only = match mode {
            None | Some("read-write") => false,
            Some("replay") => true,
            Some("off") => return Ok(None),
            Some(other) => {
                return Err(Error::config(format!(
                    "OPPER_CACHE_MODE is {other:?}; use replay, off or read-write"
                )));
            }
        };
        match dir {
            Some(dir) => Ok(Some(Self {
                dir: PathBuf::from(dir),
                replay_only,
            })),
            None if replay_only => Err(Error::config(
                "OPPER_CACHE_MODE=replay needs OPPER_CACHE_DIR, the directory to replay from",
            )),
            None => Ok(None),
        }
    }

    /// Looks up the answer to `body` (a request body as sent) on the endpoint that answers
    /// with an `A`.
    ///
    /// A hit is [`Lookup::Hit`]. A miss is [`Lookup::Miss`] in read-write mode (with how to
    /// store the answer, unless the body has no key) and [`Error::CacheMiss`] in replay-only
    /// mode. Damaged entries are logged and count as misses.
    ///
    /// An entry of at most [`INLINE_BYTES`](entry::INLINE_BYTES) is read on the calling task
    /// (a regular file that small, opened without blocking, is read in microseconds); a larger
    /// one is read (and parsed) on a blocking thread, off the async ones.
    pub(crate) async fn lookup<A: Answer + Send + 'static>(
        &self,
        api: Api,
        task: &str,
        body: Bytes,
    ) -> Result<Lookup<A>> {
        let asked = match self.ask::<A>(api, task, &body) {
            Ok(asked) => asked,
            Err(unkeyed) => return unkeyed,
        };
        let asked = match self.answer(asked, entry::INLINE_BYTES) {
            Ok(lookup) => return lookup,
            Err(larger) => larger,
        };
        let cache = self.clone();
        let read = blocking(move || cache.answer(asked, entry::MAX_ENTRY_BYTES));
        match read.await {
            Ok(Ok(lookup)) => lookup,
            // Not larger than the largest entry: never.
            Ok(Err(asked)) => self.missed(asked),
            // The read panicked or its runtime is shutting down: no answer from the cache.
            Err(error) => {
                tracing::warn!(error = %error, "the opper cache could not be read");
                match self.replay_only {
                    true => Err(cache_miss(task, &self.dir)),
                    false => Ok(Lookup::Miss(None)),
                }
            }
        }
    }

    /// [`lookup`](Self::lookup), on the calling thread whatever the entry's size.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn lookup_now<A: Answer>(
        &self,
        api: Api,
        task: &str,
        body: &[u8],
    ) -> Result<Lookup<A>> {
        match self.ask::<A>(api, task, body) {
            Ok(asked) => self
                .answer(asked, entry::MAX_ENTRY_BYTES)
                .unwrap_or_else(|asked| self.missed(asked)),
            Err(unkeyed) => unkeyed,
        }
    }

    /// The entry that answers `body`: its key, the request as it is stored, and its path. A
    /// body that cannot be keyed is a miss without a store (an error in replay-only mode).
    fn ask<A: Answer>(
        &self,
        api: Api,
        task: &str,
        body: &[u8],
    ) -> std::result::Result<Asked, Result<Lookup<A>>> {
        let Ok(mut request) = serde_json::from_slice::<Value>(body) else {
            tracing::warn!(
                task,
                "the request body cannot be keyed (nested too deep); the opper cache is bypassed"
            );
            return Err(match self.replay_only {
                true => Err(cache_miss(task, &self.dir)),
                false => Ok(Lookup::Miss(None)),
            });
        };
        // The entry holds (and the key is of) the request with its header values hashed.
        let route = Route::of(api, A::ENDPOINT, task);
        key::redact_headers(&route, &mut request);
        let key = Key::of(&route, &request);
        let path = self.dir.join(file_name(task, A::ENDPOINT, key));
        Ok(Asked {
            task: task.to_owned(),
            route,
            key,
            request,
            path,
        })
    }

    /// Reads the entry `asked` for if it is at most `limit` bytes; hands `asked` back if it is
    /// larger.
    fn answer<A: Answer>(
        &self,
        asked: Asked,
        limit: u64,
    ) -> std::result::Result<Result<Lookup<A>>, Asked> {
        let Asked { task, path, .. } = &asked;
        match entry::read::<A>(path, &asked.route, asked.key, limit) {
            Found::Answer(answer) => {
                tracing::debug!(task, path = %path.display(), "opper cache hit");
                return Ok(Ok(Lookup::Hit(answer)));
            }
            Found::Larger => return Err(asked),
            Found::Nothing => {}
            Found::Damaged(reason) => tracing::warn!(
                task,
                path = %path.display(),
                reason = reason.as_str(),
                "ignoring a damaged opper cache entry"
            ),
        }
        Ok(self.missed(asked))
    }

    /// A miss of `asked`: how to store its answer, or in replay-only mode an error.
    fn missed<A>(&self, asked: Asked) -> Result<Lookup<A>> {
        if self.replay_only {
            return Err(cache_miss(&asked.task, &asked.path));
        }
        Ok(Lookup::Miss(Some(Store {
            path: asked.path,
            route: asked.route,
            request: asked.request,
            answer: PhantomData,
        })))
    }
}

/// A request looked up: what names and checks its entry.
#[derive(Debug)]
struct Asked {
    task: String,
    route: Route,
    key: Key,
    /// The request as an entry holds it (header values hashed).
    request: Value,
    path: PathBuf,
}

fn cache_miss(task: &str, path: &Path) -> Error {
    Error::CacheMiss {
        task: task.to_owned(),
        path: path.to_owned(),
    }
}

/// `<task>.<endpoint>.<key>.json`, the task's name reduced to ASCII letters, digits, `_` and
/// `-` (others become `_`) and at most 64 bytes: the key alone names the entry, the rest helps
/// a reader.
fn file_name(task: &str, endpoint: Endpoint, key: Key) -> String {
    let task: String = task
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!("{task}.{}.{key}.json", key::label(endpoint))
}

/// The outcome of [`Cache::lookup`].
#[derive(Debug)]
pub(crate) enum Lookup<A> {
    /// The stored answer: serve it without a request.
    Hit(A),
    /// Send the request; store its answer through this, when it has a key.
    Miss(Option<Store<A>>),
}

/// How to store the answer to a missed request. Dropping it stores nothing: call
/// [`Store::call`] or [`Store::stream`] only once the answer is known to be a success (for a
/// task with a validator, the accepted one).
#[derive(Debug)]
pub(crate) struct Store<A> {
    path: PathBuf,
    route: Route,
    request: Value,
    answer: PhantomData<A>,
}

impl<A: Answer> Store<A> {
    /// The entry that will be written.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the entry `text` on the calling thread; a failure is logged. Whether it was
    /// written.
    fn write_now(&self, text: std::io::Result<&[u8]>) -> bool {
        match text.and_then(|text| entry::write(&self.path, text)) {
            Ok(()) => {
                tracing::debug!(path = %self.path.display(), "stored in the opper cache");
                true
            }
            Err(error) => {
                tracing::warn!(
                    path = %self.path.display(),
                    error = %error,
                    "the opper cache entry could not be written"
                );
                false
            }
        }
    }
}

impl Store<CallAnswer> {
    /// Stores a call's response body (as received), on a blocking thread; the future ends
    /// when the entry is written. A body that is not a JSON object, or a failure to write, is
    /// logged and stores nothing: the call itself succeeded.
    pub(crate) fn call(self, body: Bytes) -> Writing {
        Writing(blocking(move || self.call_now(&body)))
    }

    /// [`call`](Self::call), on the calling thread.
    pub(crate) fn call_now(self, body: &[u8]) {
        match serde_json::from_slice::<Value>(body) {
            Ok(response) if response.is_object() => {
                let text = entry::render_call(&self.route, &self.request, &response);
                self.write_now(Ok(text.as_bytes()));
            }
            _ => tracing::warn!(
                path = %self.path.display(),
                "the response is not a JSON object; not stored in the opper cache"
            ),
        }
    }
}

impl Store<StreamAnswer> {
    /// Stores a stream's events, recorded in order (`list`: [`Recorded`] items one after
    /// another), on a blocking thread; call it only for a stream that ended cleanly. The
    /// future ends when the entry is written.
    pub(crate) fn stream(self, list: String) -> Writing {
        Writing(blocking(move || self.stream_now(&list)))
    }

    /// [`stream`](Self::stream), on the calling thread. The entry is checked as it will be
    /// read before it is written: one that would not replay (no events, an error, an event
    /// that is not JSON) is logged and not stored.
    pub(crate) fn stream_now(self, list: &str) {
        let text = entry::render_stream(&self.route, &self.request, list);
        let key = Key::of(&self.route, &self.request);
        let checked = entry::check(&text, &self.route, key, Endpoint::Stream);
        match checked {
            Ok(spans) => {
                if self.write_now(Ok(text.as_bytes())) {
                    // As it is on disk: its first replay need not check it again.
                    seen::remember(&self.path, seen::Identity::of(&text), key, spans);
                }
            }
            Err(reason) => tracing::warn!(
                path = %self.path.display(),
                reason = reason.as_str(),
                "a stream that would not replay is not stored in the opper cache"
            ),
        }
    }
}

/// An entry being written on a blocking thread. Awaiting it waits until the entry is written
/// (or the write failed, which is logged); dropping it leaves the write to finish on its own.
#[derive(Debug)]
#[must_use = "dropping it does not wait for the entry to be written"]
pub(crate) struct Writing(tokio::task::JoinHandle<()>);

impl Future for Writing {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|done| {
            if let Err(error) = done {
                tracing::warn!(error = %error, "the opper cache entry could not be written");
            }
        })
    }
}

/// Runs `work` on tokio's blocking threads (file I/O never runs on an async one), with the
/// caller's tracing subscriber and span, so what it logs goes where the caller's logs go.
fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> tokio::task::JoinHandle<R> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&dispatch, || span.in_scope(work))
    })
}

#[cfg(test)]
mod tests;
