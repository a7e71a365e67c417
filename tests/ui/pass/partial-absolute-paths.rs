//! `#[derive(Partial)]` names only absolute paths: it compiles where nothing is in scope, not
//! even the prelude, with the serde attributes it follows, a generic type, and the `opper`
//! field keys (`atomic`, `required`, with a flattened struct that has required fields).
#![no_implicit_prelude]

mod shapes {
    #[derive(::serde::Deserialize, ::opper::Partial)]
    #[serde(rename_all = "camelCase", deny_unknown_fields, bound(deserialize = "T: ::serde::de::DeserializeOwned"))]
    pub struct Page<T> {
        /// The items so far.
        #[serde(default, alias = "entries")]
        pub page_items: ::std::vec::Vec<T>,
        #[serde(skip)]
        pub cursor: u8,
        #[serde(rename(deserialize = "total"))]
        pub count: u32,
    }

    #[derive(::serde::Deserialize, ::opper::Partial)]
    pub struct Member<T> {
        #[opper(required)]
        pub name: ::std::string::String,
        #[opper(atomic)]
        pub homepage: ::std::string::String,
        #[opper(atomic, required)]
        pub id: T,
        #[serde(flatten)]
        pub contact: Contact,
    }

    #[derive(::serde::Deserialize, ::opper::Partial)]
    pub struct Contact {
        #[opper(required)]
        pub email: ::std::string::String,
    }

    #[derive(::serde::Deserialize, ::opper::Partial)]
    pub struct Empty {}

    #[derive(::std::fmt::Debug, ::std::clone::Clone, ::serde::Serialize, ::serde::Deserialize, ::opper::Partial)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum Status {
        InProgress,
        #[serde(alias = "finished")]
        Done,
        #[serde(other)]
        Unknown,
    }

    #[derive(::serde::Deserialize, ::opper::Partial)]
    pub struct Job {
        pub status: Status,
    }
}

fn main() {
    let partial: <shapes::Page<u8> as ::opper::Partial>::Partial =
        ::std::default::Default::default();
    let _ = (partial.page_items, partial.count);
    let member: <shapes::Member<u64> as ::opper::Partial>::Partial =
        ::std::default::Default::default();
    let _ = (member.name, member.homepage, member.id, member.contact);
    let _: <shapes::Empty as ::opper::Partial>::Partial = ::std::default::Default::default();
    // A unit enum is its own partial form: `Option<Status>` in its parent's partial.
    let job: <shapes::Job as ::opper::Partial>::Partial = ::std::default::Default::default();
    let _: ::std::option::Option<shapes::Status> = job.status;
}
