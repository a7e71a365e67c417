//! [`Cx`]: what one stream's reassembly keeps between chunks, shared by every level of a walk.
//!
//! A chunk is applied by a *walk* down its path. When the next chunk's path leaves some of the
//! previous path's levels, those levels are *complete*: before the new chunk is applied, a
//! *commit walk* goes down the previous path once more (with no delta) so each completing level
//! can show what it held back:
//!
//! - a number or boolean (typed or as text) or a unit-enum variant waits in [`Cx`]'s text
//!   buffer and enters its slot only then (a typed `1` may be followed by `2`);
//! - an `atomic` field is built aside, in the held stack, and enters its slot only then;
//! - a struct with `required` fields is built aside until they all have a value (or it
//!   completes), so its parent never shows it without them.
//!
//! Held values only ever lie along the current path, one per level at most, so the held stack
//! is indexed by depth: a level's depth is the length of the walk's path less the length of the
//! path still ahead of it.

use std::any::Any;
use std::fmt;

use super::kind::Kind;
use super::path::Seg;
use crate::jsontext::limits::FREE_ITEMS;

/// State an [`Assembler`](super::Assembler) keeps between chunks, shared by every leaf.
#[doc(hidden)]
#[derive(Default)]
pub struct Cx {
    /// This chunk continues the previous one (same json_path).
    pub(crate) continued: bool,
    /// The text so far of the current number, boolean or variant leaf.
    pub(crate) text: String,
    /// The current leaf's text is an incomplete number or boolean of this kind.
    pub(crate) pending: Option<Kind>,
    /// The current leaf's value is `text`, held until the leaf completes.
    pub(crate) held_text: bool,
    /// How many more array items this stream may create (see [`FREE_ITEMS`]).
    pub(crate) items_left: usize,
    /// The length of the path being walked (relative to the output).
    pub(crate) len: usize,
    /// In a commit walk, the depth from which levels complete.
    pub(crate) commit: Option<usize>,
    /// How many atomic levels enclose the current one (their insides are hidden anyway).
    pub(crate) hidden: usize,
    /// Values held back, by depth.
    held: Vec<Option<Box<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Cx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx")
            .field("continued", &self.continued)
            .field("text", &self.text)
            .field("commit", &self.commit)
            .field("held", &self.held.iter().filter(|h| h.is_some()).count())
            .finish_non_exhaustive()
    }
}

impl Cx {
    pub(crate) fn new() -> Self {
        Self {
            items_left: FREE_ITEMS,
            ..Self::default()
        }
    }

    /// Pays for `count` new array items out of the stream's budget.
    pub(crate) fn create_items(&mut self, count: usize) -> Result<(), String> {
        match self.items_left.checked_sub(count) {
            Some(left) => {
                self.items_left = left;
                Ok(())
            }
            None => Err(format!(
                "the chunk would create {count} array items, more than the {} the stream has \
                 paid for ({FREE_ITEMS} plus one per byte of json_path received)",
                self.items_left
            )),
        }
    }

    /// The depth of the level whose path ahead is `path`.
    pub(crate) fn depth(&self, path: &[Seg<'_>]) -> usize {
        self.len.saturating_sub(path.len())
    }

    /// Whether this is a commit walk (no delta: completing levels show what they held).
    pub fn committing(&self) -> bool {
        self.commit.is_some()
    }

    /// Whether the level at `depth` completes in this commit walk.
    pub(crate) fn completes(&self, depth: usize) -> bool {
        self.commit.is_some_and(|from| depth >= from)
    }

    /// Takes the value held at `depth`, if it is a `P`.
    pub(crate) fn take_held<P: 'static>(&mut self, depth: usize) -> Option<P> {
        let held = self.held.get_mut(depth)?.take()?;
        held.downcast::<P>().ok().map(|held| *held)
    }

    /// Holds `value` back at `depth`.
    pub(crate) fn put_held<P: Send + Sync + 'static>(&mut self, depth: usize, value: P) {
        if self.held.len() <= depth {
            self.held.resize_with(depth.saturating_add(1), || None);
        }
        // There since the resize (a depth is at most `MAX_DEPTH`).
        if let Some(slot) = self.held.get_mut(depth) {
            *slot = Some(Box::new(value));
        }
    }

    /// Drops what is held at `depth` and deeper (after a commit walk from `depth`, nothing
    /// should be).
    pub(crate) fn release_from(&mut self, depth: usize) {
        self.held.truncate(depth);
    }

    /// Whether anything is held at any depth.
    pub(crate) fn holds_anything(&self) -> bool {
        self.held.iter().any(Option::is_some)
    }
}
