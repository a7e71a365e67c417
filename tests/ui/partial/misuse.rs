//! Misuses of `#[derive(opper::Partial)]`, one module each (named after what it shows), checked in one
//! compilation: each is an error the macro reports on the offending token, with what to do.

mod bad_crate_path {
    #[derive(opper::Partial)]
    #[opper(crate = "opper::")]
    struct Person {
        name: String,
    }
}

mod custom_deserializer_on_field {
    mod seconds {
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
            serde::Deserialize::deserialize(d)
        }
    }

    #[derive(serde::Deserialize, opper::Partial)]
    struct Timeout {
        #[serde(deserialize_with = "seconds::deserialize")]
        after: u64,
    }
}

mod enum_variant_with_fields {
    #[derive(serde::Deserialize, opper::Partial)]
    enum Shape {
        Point,
        Circle(f64),
        Rect { w: f64, h: f64 },
    }
}

mod field_key_on_enum {
    // `atomic` and `required` go on a struct's fields: a variant is shown only whole already.
    #[derive(serde::Deserialize, opper::Partial)]
    #[opper(required)]
    enum Role {
        #[opper(atomic)]
        Writer,
        #[opper(required)]
        Editor,
    }
}

mod field_key_on_flattened_field {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Member {
        name: String,
        #[serde(flatten)]
        #[opper(atomic, required)]
        contact: Contact,
    }

    #[derive(serde::Deserialize, opper::Partial)]
    struct Contact {
        email: String,
    }
}

mod field_key_on_skipped_field {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Member {
        name: String,
        #[serde(skip)]
        #[opper(required)]
        cache: u32,
        #[serde(skip_deserializing)]
        #[opper(atomic)]
        derived: String,
    }
}

mod field_key_on_struct {
    #[derive(serde::Deserialize, opper::Partial)]
    #[opper(atomic, required)]
    struct Member {
        name: String,
    }
}

mod field_key_with_value {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Member {
        #[opper(atomic = true)]
        homepage: String,
    }
}

mod lifetime_param {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Quote<'a> {
        text: &'a str,
    }
}

mod opper_attribute_on_field {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Person {
        #[opper(crate = "::opper")]
        name: String,
    }
}

mod partial_name_not_an_identifier {
    #[derive(serde::Deserialize, opper::Partial)]
    #[opper(partial = "Live Person")]
    struct Person {
        name: String,
    }
}

mod repeated_field_key {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Member {
        #[opper(required, required)]
        name: String,
        #[opper(atomic)]
        #[opper(atomic)]
        homepage: String,
    }
}

mod repeated_opper_key {
    #[derive(serde::Deserialize, opper::Partial)]
    #[opper(partial = "LivePerson", partial = "PersonSoFar")]
    struct Person {
        name: String,
    }
}

mod tuple_struct {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Score(u8);
}

mod a_union {
    #[derive(opper::Partial)]
    union Bits {
        a: u8,
        b: i8,
    }
}

mod unit_struct {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Nothing;
}

mod unknown_field_key {
    #[derive(serde::Deserialize, opper::Partial)]
    struct Member {
        #[opper(atomc)]
        homepage: String,
    }
}

mod unknown_opper_key {
    #[derive(serde::Deserialize, opper::Partial)]
    #[opper(partial_name = "LivePerson")]
    struct Person {
        name: String,
    }
}

mod unknown_rename_rule {
    #[derive(opper::Partial)]
    #[serde(rename_all = "Snake")]
    struct Person {
        full_name: String,
    }
}

mod unsupported_serde_attribute {
    #[derive(serde::Deserialize, opper::Partial)]
    #[serde(untagged)]
    enum Either {
        Left,
        Right,
    }

    #[derive(serde::Deserialize, opper::Partial)]
    #[serde(transparent)]
    struct Meters {
        value: f64,
    }
}

fn main() {}
