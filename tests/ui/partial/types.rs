//! Misuses of `#[derive(opper::Partial)]`, one module each (named after what it shows), checked in one
//! compilation: each is a type that does not fit where it is used, reported by the compiler on the user's type.

mod field_in_vec_not_partial {
    #[derive(serde::Deserialize)]
    struct Address {
        city: String,
    }

    // A type without `Partial` in two fields, inside a `Vec` and an `Option`: it is named on a
    // field and on the struct, as for a field of that type alone.
    #[derive(serde::Deserialize, opper::Partial)]
    struct Person {
        name: String,
        homes: Vec<Address>,
        work: Option<Address>,
    }
}

mod field_not_partial {
    #[derive(serde::Deserialize)]
    struct Address {
        city: String,
    }

    // A field whose type lacks `#[derive(opper::Partial)]`: the error names the type, on the field
    // (and once more on the struct, whose own `Partial` needs it), nothing else.
    #[derive(serde::Deserialize, opper::Partial)]
    struct Person {
        name: String,
        address: Address,
    }
}

mod unit_enum_not_clone {
    // A unit enum is its own partial form, so it needs what a partial form is: `Clone`, `Debug`
    // and `Serialize`. The error says so, on the enum's name.
    #[derive(Debug, serde::Deserialize, opper::Partial)]
    enum Role {
        Writer,
        Editor,
    }
}

fn main() {}
