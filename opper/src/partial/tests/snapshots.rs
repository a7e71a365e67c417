//! Snapshots share the value and copy only when held; a long stream costs linear time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Team, feed, schema_of};
use crate::partial::{Assembler, Cx, PartialForm, Seg};

#[test]
fn snapshots_share_the_value_and_copy_only_when_held() {
    let mut asm = Assembler::<Team>::new(None);
    feed(&mut asm, &[("summary", json!("a"))]);
    let first = asm.partial();
    let first_ptr = Arc::as_ptr(&first);
    drop(first);
    feed(&mut asm, &[("summary", json!("b"))]);
    let second = asm.partial();
    assert!(
        std::ptr::eq(first_ptr, Arc::as_ptr(&second)),
        "no copy when nobody holds a snapshot"
    );
    assert_eq!(Arc::strong_count(&second), 2);
    feed(&mut asm, &[("summary", json!("c"))]);
    assert_eq!(
        second.summary.as_deref(),
        Some("ab"),
        "a held snapshot does not change"
    );
    assert_eq!(Arc::strong_count(&second), 1);
    let third = asm.partial();
    assert!(!Arc::ptr_eq(&second, &third));
    assert_eq!(third.summary.as_deref(), Some("abc"));
}

/// Counts clones of a leaf, to show that a push copies nothing when no snapshot is held.
#[derive(Debug, Default, Serialize)]
struct Counted(String);

static CLONES: AtomicUsize = AtomicUsize::new(0);

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Counted(self.0.clone())
    }
}

#[derive(Debug, Deserialize)]
struct CountedLeaf(#[allow(dead_code)] String);

impl PartialForm for CountedLeaf {
    type Form = Counted;
    fn __empty() -> Option<Counted> {
        Some(Counted(String::new()))
    }
    fn __apply(
        slot: &mut Option<Counted>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        let mut text = slot.take().map(|c| c.0);
        let result = String::__apply(&mut text, path, delta, cx);
        *slot = text.map(Counted);
        result
    }
}

#[test]
fn pushes_without_held_snapshots_never_clone() {
    let mut asm = Assembler::<Vec<BTreeMap<String, Option<Box<CountedLeaf>>>>>::new(None);
    let before = CLONES.load(std::sync::atomic::Ordering::SeqCst);
    for i in 0..200 {
        asm.push(Some(&format!("[{}].k{}", i / 10, i % 3)), &json!("x"))
            .unwrap();
        let snapshot = asm.partial();
        drop(snapshot);
    }
    assert_eq!(CLONES.load(std::sync::atomic::Ordering::SeqCst), before);
    let held = asm.partial();
    asm.push(Some("[0].k0"), &json!("y")).unwrap();
    assert!(
        CLONES.load(std::sync::atomic::Ordering::SeqCst) > before,
        "a held snapshot is copied"
    );
    drop(held);
}

#[test]
fn long_streams_cost_linear_time() {
    // Quadratic work (re-serializing, re-parsing or copying the value per chunk) would take
    // minutes here; linear work takes well under a second even unoptimized.
    let mut asm = Assembler::<Team>::new(schema_of::<Team>());
    let started = std::time::Instant::now();
    for i in 0..20_000 {
        asm.push(Some(&format!("response.people[{i}].name")), &json!("n"))
            .unwrap();
        asm.push(Some(&format!("response.people[{i}].role")), &json!("r"))
            .unwrap();
        drop(asm.partial());
    }
    let delta = json!("0123456789");
    for _ in 0..100_000 {
        asm.push(Some("response.summary"), &delta).unwrap();
        drop(asm.partial());
    }
    let (team, _) = asm.finish().unwrap();
    assert_eq!((team.people.len(), team.summary.len()), (20_000, 1_000_000));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
