//! `#[derive(opper::Partial)]` as users see it: generated types, their traits and their JSON.

#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;

use opper::Partial;
use serde::Deserialize;
use serde_json::json;

mod model {
    use serde::Deserialize;

    /// A person.
    #[derive(Debug, Deserialize, opper::Partial)]
    pub(crate) struct Person {
        /// Full name as written in the text
        pub(crate) name: String,
        pub(crate) role: Role,
        pub(crate) age: Option<u8>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, Deserialize, opper::Partial)]
    #[serde(rename_all = "lowercase")]
    pub(crate) enum Role {
        Engineer,
        Writer,
    }

    #[derive(Debug, Deserialize, opper::Partial)]
    pub(crate) struct Team {
        pub(crate) people: Vec<Person>,
        pub(crate) summary: String,
    }
}

use model::{PartialPerson, PartialTeam, Team};

fn assert_partial<T: Partial>()
where
    T::Partial: std::fmt::Debug + Clone + Default + serde::Serialize + Send + Sync + 'static,
{
}

/// A unit enum is its own partial form (it has no `Default`: a variant is only ever whole).
fn assert_own_partial<T: opper::__private::PartialForm<Form = T>>() {}

#[test]
fn generated_types_are_public_with_the_fields_visibility() {
    assert_partial::<Team>();
    assert_own_partial::<model::Role>();
    let team = PartialTeam {
        people: Some(vec![PartialPerson {
            name: Some("Ann".into()),
            role: Some(model::Role::Engineer),
            age: None,
        }]),
        summary: None,
    };
    assert_eq!(
        serde_json::to_value(&team).unwrap(),
        json!({"people": [{"name": "Ann", "role": "engineer"}]})
    );
    let copy = team.clone();
    assert_eq!(format!("{copy:?}"), format!("{team:?}"));
    assert_eq!(
        serde_json::to_value(PartialTeam::default()).unwrap(),
        json!({})
    );
}

#[derive(Debug, Deserialize, opper::Partial)]
struct Page<T> {
    items: Vec<T>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
    #[serde(skip)]
    #[allow(dead_code)]
    cursor: Option<String>,
}

#[test]
fn generics_flatten_and_skip() {
    let page: PartialPage<model::Person> = PartialPage {
        items: Some(vec![]),
        extra: Some([("total".to_owned(), json!(3))].into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&page).unwrap(),
        json!({"items": [], "total": 3})
    );
}

#[test]
fn std_types_have_partials() {
    fn same<A: Partial<Partial = B>, B>() {}
    same::<String, String>();
    same::<u64, u64>();
    same::<f32, f32>();
    same::<bool, bool>();
    same::<Option<String>, String>();
    same::<Vec<u8>, Vec<u8>>();
    same::<Box<String>, Box<String>>();
    same::<BTreeMap<String, Team>, BTreeMap<String, PartialTeam>>();
    same::<serde_json::Value, serde_json::Value>();
}

/// The expansion must not warn in users' crates, even under strict lints.
#[deny(unused_qualifications, missing_docs, clippy::pedantic)]
pub mod strict {
    /// A documented public output type.
    #[derive(Debug, serde::Deserialize, opper::Partial)]
    pub struct Strict<T> {
        /// Items.
        pub items: Vec<T>,
        /// Nested.
        pub next: Option<Box<Self>>,
        /// Kind.
        pub kind: Kind,
    }

    /// A documented enum.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, opper::Partial)]
    pub enum Kind {
        /// A.
        A,
    }
}
