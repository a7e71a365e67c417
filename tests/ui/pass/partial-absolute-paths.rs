//! `#[derive(Partial)]` names only absolute paths: it compiles where nothing is in scope, not
//! even the prelude, with the serde attributes it follows and a generic type.
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
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum Status {
        InProgress,
        #[serde(alias = "finished")]
        Done,
        #[serde(other)]
        Unknown,
    }
}

fn main() {
    let partial: <shapes::Page<u8> as ::opper::Partial>::Partial =
        ::std::default::Default::default();
    let _ = (partial.page_items, partial.count);
    let _: ::std::option::Option<::std::string::String> =
        ::std::option::Option::<<shapes::Status as ::opper::Partial>::Partial>::None;
}
