//! Entry points for the fuzz targets in `fuzz/` and the property tests that stand in for them
//! on stable Rust. Not a public API.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::partial::Assembler;
use crate::protocol::v3::text::TextReader;

/// Feeds `data` to the SSE decoder in pieces cut where the input says (its first byte picks
/// the piece length), with a small event cap. Must never panic.
pub fn sse(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first % 17) + 1;
    let mut decoder = crate::stream::sse::Decoder::with_limit(256);
    let mut events = Vec::new();
    for chunk in rest.chunks(piece) {
        if decoder.feed(chunk, &mut events).is_err() {
            return;
        }
    }
    let _ = decoder.finish();
    for event in &events {
        assert!(
            event.data.len() <= 256,
            "an event over the cap was dispatched"
        );
    }
}

/// Parses `text` as a `json_path`. Must never panic.
pub fn json_path(text: &str) {
    let _ = crate::partial::path::parse(text);
}

/// Reads `data` as lines of `json_path<TAB>delta-JSON` and pushes them through assemblers of a
/// nested std type and of `serde_json::Value`, then finishes both. Must never panic.
pub fn assemble(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let chunks: Vec<(Option<&str>, Value)> = text
        .lines()
        .filter_map(|line| {
            let (path, delta) = line.split_once('\t').unwrap_or((line, "\"x\""));
            let delta = serde_json::from_str(delta).ok()?;
            Some(((!path.is_empty()).then_some(path), delta))
        })
        .collect();
    run::<BTreeMap<String, Vec<Option<BTreeMap<String, f64>>>>>(&chunks);
    run::<Value>(&chunks);
    run::<Vec<String>>(&chunks);
    run::<String>(&chunks);
}

/// Reads `data` (as text, lossily) with the JSON text reader of v3 streams, in pieces of 1 to
/// 8 characters (its first byte picks the length), its events pushed into assemblers of a
/// nested std type and of `serde_json::Value`. Must never panic.
pub fn json_text(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first % 8) + 1;
    let text = String::from_utf8_lossy(rest);
    let mut reader = TextReader::new();
    let mut typed = Assembler::<BTreeMap<String, Vec<Option<BTreeMap<String, f64>>>>>::new(None);
    let mut any = Assembler::<Value>::new(None);
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let end = rest
            .char_indices()
            .nth(piece)
            .map_or(rest.len(), |(i, _)| i);
        let (head, tail) = rest.split_at(end);
        let pushed = reader.push(head, |path, delta| {
            let _ = typed.push(Some(path), &delta);
            let _ = any.push(Some(path), &delta);
        });
        if pushed.is_err() {
            break;
        }
        rest = tail;
    }
    let _ = reader.finish(|path, delta| {
        let _ = typed.push(Some(path), &delta);
        let _ = any.push(Some(path), &delta);
    });
    let _ = reader.status();
    let _ = typed.finish();
    let _ = any.finish();
}

fn run<T: crate::partial::Partial + serde::de::DeserializeOwned>(chunks: &[(Option<&str>, Value)]) {
    let mut assembler = Assembler::<T>::new(None);
    for (path, delta) in chunks {
        if assembler.push(*path, delta).is_err() {
            break;
        }
        let _ = assembler.partial();
    }
    let _ = assembler.so_far();
    let _ = assembler.finish();
}
