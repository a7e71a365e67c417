//! Nightly-free fuzzing of the SSE decoder: arbitrary bytes, split anywhere, never panic and
//! never exceed the event cap; well-formed streams decode the same however they are split.

use opper::__fuzz::{DecodeError, Decoder, Event};
use proptest::prelude::*;

fn decode(pieces: &[Vec<u8>], limit: usize) -> Result<Vec<Event>, DecodeError> {
    let mut decoder = Decoder::with_limit(limit);
    let mut events = Vec::new();
    for piece in pieces {
        decoder.feed(piece, &mut events)?;
    }
    events.extend(decoder.finish()?);
    Ok(events)
}

fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts {
        pieces.push(bytes[start..cut].to_vec());
        start = cut;
    }
    pieces.push(bytes[start..].to_vec());
    pieces
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

fn field_line() -> impl Strategy<Value = String> {
    let value =
        "[ -~é😀]{0,12}".prop_filter("no line breaks", |v: &String| !v.contains(['\r', '\n']));
    prop_oneof![
        value.clone().prop_map(|v| format!("data: {v}")),
        value.clone().prop_map(|v| format!("data:{v}")),
        value.clone().prop_map(|v| format!(": {v}")),
        value.clone().prop_map(|v| format!("event: {v}")),
        "[0-9]{1,4}".prop_map(|v| format!("retry: {v}")),
        value.prop_map(|v| format!("id: {v}")),
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_respect_the_cap(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        limit in 1usize..300,
    ) {
        if let Ok(events) = decode(&split(&bytes, &cuts), limit) {
            for event in events {
                prop_assert!(event.data.len() <= limit);
            }
        }
    }

    #[test]
    fn well_formed_streams_decode_the_same_however_split(
        lines in proptest::collection::vec((field_line(), line_end()), 0..24),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let text: String = lines.iter().map(|(line, end)| format!("{line}{end}")).collect();
        let whole = decode(&[text.clone().into_bytes()], usize::MAX).unwrap();
        let pieces = split(text.as_bytes(), &cuts);
        prop_assert_eq!(decode(&pieces, usize::MAX).unwrap(), whole.clone());
        let one_by_one: Vec<Vec<u8>> = text.bytes().map(|b| vec![b]).collect();
        prop_assert_eq!(decode(&one_by_one, usize::MAX).unwrap(), whole);
    }
}

fn chunk_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("response"),
        Just("a"),
        Just("b"),
        Just("0"),
        "[a-z]{1,3}".prop_map(|s| Box::leak(s.into_boxed_str()) as &str)
    ];
    let seg = prop_oneof![
        key.clone().prop_map(|k| format!(".{k}")),
        (0usize..4).prop_map(|i| format!("[{i}]")),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(".".to_owned()),
    ];
    let delta = prop_oneof![
        "[ -~é]{0,6}".prop_map(|s| serde_json::Value::String(s).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| serde_json::json!(n).to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_owned()),
        Just("[1]".to_owned()),
        Just("{\"k\": 1}".to_owned()),
        "[0-9.eE+-]{1,5}".prop_map(|s| serde_json::Value::String(s).to_string()),
    ];
    (key, proptest::collection::vec(seg, 0..4), delta)
        .prop_map(|(first, segs, delta)| format!("{first}{}\t{delta}", segs.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// The fuzz targets' entry points, on stable: none of them may panic.
    #[test]
    fn the_fuzz_entry_points_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        text in "\\PC{0,40}",
        lines in proptest::collection::vec(chunk_line(), 0..30),
        json in "[0-9a-z]?(```json\n)?[\\[\\]{}\"\\\\:, 0-9.eE+\\-tfrualsnu`\n]{0,60}",
    ) {
        opper::__fuzz::sse(&bytes);
        opper::__fuzz::json_path(&text);
        opper::__fuzz::assemble(&bytes);
        opper::__fuzz::assemble(lines.join("\n").as_bytes());
        opper::__fuzz::json_text(&bytes);
        opper::__fuzz::json_text(json.as_bytes());
    }
}
