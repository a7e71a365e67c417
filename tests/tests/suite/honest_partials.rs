//! Partials never lie: random values of a nested type with every kind of field, chunked by the
//! built-in server in random ways (numbers and booleans typed or split as text, integers split
//! into typed digits, strings and variant names split anywhere: `opper_tests::chunked`),
//! streamed over loopback. Every partial on the way is honest: each value present equals the
//! final one, except non-atomic strings, which are prefixes; no member or guest lacks a
//! required field; `finish()` is exact.
//!
//! Every `Partial` impl here is derived: `#[opper(required)]` and `#[opper(atomic)]` fields,
//! an atomic struct, a field both atomic and required, and a flattened struct whose required
//! field holds its parent back.

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper_tests::chunked::Chunked;
use opper_tests::fixtures::typed_stream;
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A unit-only enum: its variant enters the partial only whole.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
enum Role {
    Writer,
    Editor,
    Reviewer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Member {
    #[opper(required)]
    name: String,
    #[opper(atomic)]
    homepage: String,
    age: u32,
    score: f64,
    active: bool,
    role: Role,
    nickname: Option<String>,
    #[opper(required)]
    id: u64,
}

/// Shown only whole, as the value of an atomic field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Office {
    city: String,
    floor: i32,
}

/// Flattened into [`Guest`]: its required `email` holds the guest back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Contact {
    phone: Option<String>,
    /// Not the first field: the contact exists before it has an email.
    #[opper(required)]
    email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Guest {
    /// Shown only whole, and the guest only with it.
    #[opper(atomic, required)]
    code: String,
    note: String,
    #[serde(flatten)]
    contact: Contact,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Team {
    title: String,
    members: Vec<Member>,
    lead: Option<Member>,
    #[opper(atomic)]
    tags: Vec<String>,
    count: i64,
    #[opper(atomic)]
    office: Office,
    guests: Vec<Guest>,
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 é😀\"\\\\/]{0,12}"
}

fn member() -> impl Strategy<Value = Member> {
    (
        (
            text(),
            text(),
            any::<u32>(),
            (-4000i32..4000).prop_map(|q| f64::from(q) / 8.0),
        ),
        (
            any::<bool>(),
            prop_oneof![Just(Role::Writer), Just(Role::Editor), Just(Role::Reviewer)],
            proptest::option::of(text()),
            any::<u64>(),
        ),
    )
        .prop_map(
            |((name, homepage, age, score), (active, role, nickname, id))| Member {
                name,
                homepage,
                age,
                score,
                active,
                role,
                nickname,
                id,
            },
        )
}

fn guest() -> impl Strategy<Value = Guest> {
    (text(), text(), proptest::option::of(text()), text()).prop_map(|(code, email, phone, note)| {
        Guest {
            code,
            contact: Contact { email, phone },
            note,
        }
    })
}

fn team() -> impl Strategy<Value = Team> {
    (
        (
            text(),
            proptest::collection::vec(member(), 0..4),
            proptest::option::of(member()),
            proptest::collection::vec(text(), 0..4),
        ),
        (
            any::<i64>(),
            (text(), any::<i32>()).prop_map(|(city, floor)| Office { city, floor }),
            proptest::collection::vec(guest(), 0..3),
        ),
    )
        .prop_map(
            |((title, members, lead, tags), (count, office, guests))| Team {
                title,
                members,
                lead,
                tags,
                count,
                office,
                guests,
            },
        )
}

/// Runs `test` on a runtime of its own (the proptest above needs none).
fn block_on<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(test)
}

/// A v2 JSON chunk: `delta` at `path`.
fn chunk(path: &str, delta: Value) -> Value {
    json!({"json_path": path, "delta": delta, "chunk_type": "json"})
}

/// Fields shown only whole (atomic).
const ATOMIC: [&str; 4] = ["homepage", "tags", "office", "code"];

/// The fields the object at `at` needs before it is shown: a member's, a guest's (its
/// flattened contact's `email` included).
fn required_at(at: &str) -> &'static [&'static str] {
    let last = at.rsplit('.').next().unwrap_or(at);
    if last == "lead" || (last.starts_with("members[") && last.ends_with(']')) {
        &["name", "id"]
    } else if last.starts_with("guests[") && last.ends_with(']') {
        &["code", "email"]
    } else {
        &[]
    }
}

/// `partial` is honest about `last`: every value present equals the final one, except strings
/// outside atomic fields, which are prefixes; members have their required fields.
fn honest(partial: &Value, last: &Value, whole: bool, at: &str) -> Result<(), String> {
    match (partial, last) {
        (Value::String(p), Value::String(f)) if !whole && f.starts_with(p.as_str()) => Ok(()),
        (Value::Array(p), Value::Array(f)) if !whole && p.len() <= f.len() => p
            .iter()
            .zip(f)
            .enumerate()
            .try_for_each(|(i, (p, f))| honest(p, f, whole, &format!("{at}[{i}]"))),
        (Value::Object(p), Value::Object(f)) => {
            for key in required_at(at) {
                if !p.contains_key(*key) {
                    return Err(format!("{at} is shown without its required `{key}`"));
                }
            }
            p.iter().try_for_each(|(key, p)| match f.get(key) {
                Some(f) => honest(
                    p,
                    f,
                    whole || ATOMIC.contains(&key.as_str()),
                    &format!("{at}.{key}"),
                ),
                None => Err(format!("{at} has `{key}`, the final value does not")),
            })
        }
        (p, f) if p == f => Ok(()),
        _ => Err(format!(
            "{at}: the partial shows {partial}, the final value is {last}"
        )),
    }
}

#[test]
fn every_partial_is_honest_and_the_final_value_exact() {
    Chunked::new("team", 192)
        .max_piece(1..6)
        .typed_digits()
        .check(team(), |partial, last| {
            honest(partial, last, false, "response")
        });
}

/// The documented shapes, one update at a time.
#[test]
fn required_members_atomic_fields_and_whole_numbers_step_by_step() {
    block_on(async {
        let server = MockServer::start().await;
        server.reply(
            "team",
            Reply::events([
                chunk("response.members[0].name", json!("An")),
                chunk("response.members[0].name", json!("n")),
                chunk("response.members[0].homepage", json!("https://")),
                chunk("response.members[0].homepage", json!("ann.dev")),
                chunk("response.members[0].age", json!("4")),
                chunk("response.members[0].age", json!("2")),
                chunk("response.members[0].role", json!("Wri")),
                chunk("response.members[0].role", json!("ter")),
                chunk("response.members[0].id", json!(7)),
                chunk("response.members[1].name", json!("Bo")),
                chunk("response.tags[0]", json!("a")),
                chunk("response.tags[1]", json!("b")),
                chunk("response.count", json!(3)),
            ]),
        );
        let mut stream = typed_stream::<Team>(&server.client(), "team").await;
        let mut seen = Vec::new();
        while let Some(update) = stream.next().await {
            let update = update.expect("an update");
            let partial = serde_json::to_value(&*update.partial).expect("JSON");
            seen.push((partial, update.completed));
        }
        // Member 0 is held back until its required `id` is whole: the typed `7` could still
        // be followed by more digits, so nothing shows for nine chunks.
        for (partial, _) in &seen[..9] {
            assert_eq!(partial, &json!({"members": []}), "{partial}");
        }
        assert_eq!(seen[6].1, ["response.members[0].age"]);
        // The path leaves member 0: it appears, its number, variant and id whole; member 1
        // (no id yet) is not shown.
        assert_eq!(
            seen[9].0,
            json!({"members": [{"name": "Ann", "homepage": "https://ann.dev", "age": 42, "role": "Writer", "id": 7}]})
        );
        assert_eq!(seen[9].1, ["response.members[0].id", "response.members[0]"]);
        // Atomic tags show only once the path leaves them.
        assert_eq!(seen[10].0.get("tags"), None);
        assert_eq!(seen[11].0.get("tags"), None);
        assert_eq!(seen[12].0["tags"], json!(["a", "b"]));
        assert_eq!(
            seen[12].0["members"].as_array().map(Vec::len),
            Some(2),
            "member 1 completed"
        );
        assert_eq!(seen[12].1, ["response.tags[1]", "response.tags"]);
        let error = stream.finish().await.expect_err("the members lack fields");
        assert!(matches!(error, opper::Error::Incomplete { .. }), "{error}");
    });
}

/// A typed number continued on its path (`1`, then `2`) is `12`: it shows only once whole,
/// never as `1`; a typed boolean waits the same way.
#[test]
fn a_typed_number_continued_on_its_path_shows_only_whole() {
    #[derive(Debug, PartialEq, Deserialize, JsonSchema, opper::Partial)]
    struct Tally {
        n: i64,
        done: bool,
        label: String,
    }
    block_on(async {
        let server = MockServer::start().await;
        server.reply(
            "tally",
            Reply::events([
                chunk("response.n", json!(1)),
                chunk("response.n", json!(2)),
                chunk("response.done", json!(true)),
                chunk("response.label", json!("x")),
            ]),
        );
        let mut stream = typed_stream::<Tally>(&server.client(), "tally").await;
        let mut seen = Vec::new();
        while let Some(update) = stream.next().await {
            let update = update.expect("an update");
            seen.push((update.partial.n, update.partial.done));
        }
        assert_eq!(
            seen,
            [
                (None, None),
                (None, None),
                (Some(12), None),
                (Some(12), Some(true))
            ]
        );
        let tally = stream.finish().await.expect("a tally");
        assert_eq!(
            tally,
            Tally {
                n: 12,
                done: true,
                label: "x".into()
            }
        );
    });
}

/// A held member is absent from a map and from a `Box`ed field too, and a number split as text
/// inside an atomic field waits with it.
#[test]
fn maps_and_boxes_hold_members_back_the_same_way() {
    type Roster = std::collections::BTreeMap<String, Box<Member>>;
    block_on(async {
        let server = MockServer::start().await;
        let member = |key: &str| {
            [
                chunk(&format!("response.{key}.name"), json!("Ann")),
                chunk(&format!("response.{key}.homepage"), json!("a.dev")),
                chunk(&format!("response.{key}.age"), json!("3")),
                chunk(&format!("response.{key}.age"), json!("0")),
                chunk(&format!("response.{key}.score"), json!(1.5)),
                chunk(&format!("response.{key}.active"), json!("fal")),
                chunk(&format!("response.{key}.active"), json!("se")),
                chunk(&format!("response.{key}.role"), json!("Edit")),
                chunk(&format!("response.{key}.role"), json!("or")),
                chunk(&format!("response.{key}.id"), json!("1")),
                chunk(&format!("response.{key}.id"), json!("2")),
            ]
        };
        let mut events: Vec<Value> = member("x").into();
        events.extend(member("y"));
        server.reply("roster", Reply::events(events));
        let mut stream = typed_stream::<Roster>(&server.client(), "roster").await;
        let mut keys = Vec::new();
        while let Some(update) = stream.next().await {
            let update = update.expect("an update");
            keys.push(update.partial.keys().cloned().collect::<Vec<_>>().join(","));
        }
        // `x` appears when its id, sent as text, is whole: when the path moves on to `y`.
        assert!(keys[..11].iter().all(String::is_empty), "{keys:?}");
        assert_eq!(keys[11], "x");
        assert!(keys[11..].iter().all(|k| k == "x"), "{keys:?}");
        let roster = stream.finish().await.expect("the roster");
        assert_eq!(roster["y"].id, 12);
        assert_eq!(roster["x"].role, Role::Editor);
        assert!(!roster["x"].active);
    });
}

/// A variant name that stops short is an error when its field completes, never a partial value.
#[test]
fn a_variant_cut_short_is_an_error_not_a_value() {
    block_on(async {
        let server = MockServer::start().await;
        server.reply(
            "moved-on",
            Reply::events([
                chunk("response.role", json!("Wri")),
                chunk("response.x", json!(1)),
            ]),
        );
        server.reply(
            "ended",
            Reply::events([chunk("response.role", json!("Wri"))]),
        );
        #[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
        struct Holder {
            #[allow(dead_code)] // only deserialized
            role: Role,
        }
        let client = server.client();
        let mut stream = typed_stream::<Holder>(&client, "moved-on").await;
        let first = stream
            .next()
            .await
            .expect("an update")
            .expect("the first chunk");
        assert!(first.partial.role.is_none(), "`Wri` is not shown");
        match stream.next().await.expect("an item") {
            Err(opper::Error::InvalidChunk { reason, .. }) => {
                assert!(
                    reason.contains("`Wri` is not a variant of Role"),
                    "{reason}"
                );
            }
            other => panic!("expected InvalidChunk, got {other:?}"),
        }
        let stream = typed_stream::<Holder>(&client, "ended").await;
        match stream.finish().await {
            Err(opper::Error::Incomplete { reason, .. }) => {
                assert!(
                    reason.contains("`Wri` is not a variant of Role"),
                    "{reason}"
                );
            }
            other => panic!("expected Incomplete, got {other:?}"),
        }
    });
}

/// A unit enum's partial is the enum itself (`Option<Role>`): a program matches on the variant
/// mid-stream, and it shows only whole, once its field completes.
#[test]
fn a_unit_enum_is_matched_on_mid_stream() {
    block_on(async {
        let server = MockServer::start().await;
        server.reply(
            "review",
            Reply::events([
                chunk("response.role", json!("Edi")),
                chunk("response.role", json!("tor")),
                chunk("response.note", json!("looks")),
                chunk("response.note", json!(" good")),
            ]),
        );
        #[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
        struct Review {
            role: Role,
            note: String,
        }
        let mut stream = typed_stream::<Review>(&server.client(), "review").await;
        let mut roles = Vec::new();
        while let Some(update) = stream.next().await {
            let update = update.expect("an update");
            // The partial's field is `Option<Role>`: matched as the enum, not as its name.
            let role: &Option<Role> = &update.partial.role;
            roles.push(match role {
                Some(Role::Editor) => "editor",
                Some(Role::Writer | Role::Reviewer) => "another role",
                None => "not yet",
            });
        }
        assert_eq!(roles, ["not yet", "not yet", "editor", "editor"]);
        let review = stream.finish().await.expect("the review");
        assert_eq!(
            (review.role, review.note.as_str()),
            (Role::Editor, "looks good")
        );
    });
}

/// A number, boolean or variant path sent again after the stream moved on never changes the
/// value already shown: the same value is accepted, another one ends the stream.
#[test]
fn a_value_shown_is_never_changed_by_its_path_sent_again() {
    #[derive(Debug, PartialEq, Deserialize, JsonSchema, opper::Partial)]
    struct Card {
        n: i64,
        ok: bool,
        role: Role,
        label: String,
    }
    block_on(async {
        let server = MockServer::start().await;
        let first = || {
            vec![
                chunk("response.n", json!(1)),
                chunk("response.ok", json!(true)),
                chunk("response.role", json!("Writer")),
                chunk("response.label", json!("x")),
            ]
        };
        let again = [
            ("n", chunk("response.n", json!(2))),
            ("n", chunk("response.n", json!("2"))),
            ("ok", chunk("response.ok", json!(false))),
            ("role", chunk("response.role", json!("Editor"))),
        ];
        for (field, resent) in &again {
            let mut events = first();
            events.push(resent.clone());
            events.push(chunk("response.label", json!("y")));
            server.reply(format!("again-{field}"), Reply::events(events).times(1));
        }
        let mut same = first();
        same.extend([
            chunk("response.n", json!(1)),
            chunk("response.label", json!("y")),
        ]);
        server.reply("same", Reply::events(same));
        let client = server.client();
        for (field, _) in &again {
            let mut stream = typed_stream::<Card>(&client, format!("again-{field}")).await;
            let mut shown = Vec::new();
            let error = loop {
                match stream.next().await {
                    Some(Ok(update)) => shown.push(serde_json::to_value(&*update.partial).unwrap()),
                    Some(Err(error)) => break error,
                    None => panic!(
                        "{field}: sent again with another value, the stream went on: {shown:?}"
                    ),
                }
            };
            match &error {
                opper::Error::InvalidChunk { reason, .. } => {
                    assert!(reason.contains("already shows"), "{reason}");
                }
                other => panic!("{field}: {other:?}"),
            }
            // Every partial shown held the first values only.
            for partial in &shown {
                for (key, first) in [
                    ("n", json!(1)),
                    ("ok", json!(true)),
                    ("role", json!("Writer")),
                ] {
                    if let Some(value) = partial.get(key) {
                        assert_eq!(value, &first, "{field}: {shown:?}");
                    }
                }
            }
            assert_eq!(error.partial().unwrap()["n"], 1, "{field}");
        }
        let card = typed_stream::<Card>(&client, "same")
            .await
            .finish()
            .await
            .expect("the same value again is accepted");
        assert_eq!(
            card,
            Card {
                n: 1,
                ok: true,
                role: Role::Writer,
                label: "xy".into()
            }
        );
    });
}
