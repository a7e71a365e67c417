//! Logging something once per name, with a bound on the names remembered.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The names already logged about; past [`OncePerName::MAX_NAMES`] names, every new one is
/// logged each time (never silently dropped, never an unbounded set).
#[derive(Debug)]
pub(crate) struct OncePerName {
    seen: Mutex<BTreeSet<String>>,
}

impl OncePerName {
    /// How many names are remembered.
    pub(crate) const MAX_NAMES: usize = 1024;

    pub(crate) const fn new() -> Self {
        OncePerName {
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Whether to log about `name` now: the first time, and every time once the set is full.
    pub(crate) fn first(&self, name: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.contains(name) {
            true => false,
            false if seen.len() < Self::MAX_NAMES => seen.insert(name.to_owned()),
            false => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_name_then_every_time_past_the_bound() {
        let once = OncePerName::new();
        assert!(once.first("a"));
        assert!(!once.first("a"));
        for i in 1..OncePerName::MAX_NAMES {
            assert!(once.first(&i.to_string()));
        }
        assert!(!once.first("a"));
        assert!(once.first("new"));
        assert!(once.first("new"));
        assert_eq!(once.seen.lock().unwrap().len(), OncePerName::MAX_NAMES);
    }
}
