//! JSON pieces the request types share: ordered pairs written as an object, and values
//! serialized with a check that JSON can carry them (no NaN, no infinities).

use std::fmt::Display;

use serde::Serialize;
use serde::ser::{
    self, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use serde_json::value::RawValue;

use crate::error::Error;
use crate::error::Result;

/// A list of pairs serialized as a JSON object, in order.
pub(crate) struct Pairs<'a, V>(pub(crate) &'a [(String, V)]);

impl<V: Serialize> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A call's input as the JSON sent in `input`, with its fields in declaration order. A NaN or
/// an infinity anywhere in it is an [`Error::Input`]: JSON cannot carry them (serde_json would
/// write `null`). One pass: the check runs as the value is written.
pub(crate) fn input<I: Serialize + ?Sized>(input: &I) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(&Finite(input)).map_err(Error::Input)
}

/// [`input`], as a `serde_json::Value` (for examples).
pub(crate) fn value<T: Serialize + ?Sized>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(Finite(value)).map_err(Error::Input)
}

/// A value as JSON, non-finite numbers refused as [`input`] refuses them (for the parameters of a
/// generated function's input).
pub(crate) fn finite_value<T: Serialize + ?Sized>(
    value: &T,
) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(Finite(value))
}

/// Serializes the value it holds through [`FiniteSerializer`].
struct Finite<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Finite<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(FiniteSerializer(serializer))
    }
}

fn not_finite<E: ser::Error>(value: impl Display) -> E {
    E::custom(format_args!(
        "{value} is not a JSON number: JSON cannot carry NaN or infinities"
    ))
}

/// A serializer that passes everything on to the one it wraps, except non-finite floats,
/// which it refuses; every nested value goes through it too.
struct FiniteSerializer<S>(S);

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
            self.0.$method($($arg),*)
        }
    )*};
}

impl<S: Serializer> Serializer for FiniteSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = FiniteSerializer<S::SerializeSeq>;
    type SerializeTuple = FiniteSerializer<S::SerializeTuple>;
    type SerializeTupleStruct = FiniteSerializer<S::SerializeTupleStruct>;
    type SerializeTupleVariant = FiniteSerializer<S::SerializeTupleVariant>;
    type SerializeMap = FiniteSerializer<S::SerializeMap>;
    type SerializeStruct = FiniteSerializer<S::SerializeStruct>;
    type SerializeStructVariant = FiniteSerializer<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.0.serialize_f32(v)
        } else {
            Err(not_finite(v))
        }
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.0.serialize_f64(v)
        } else {
            Err(not_finite(v))
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Finite(value))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Finite(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Finite(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(FiniteSerializer)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(FiniteSerializer)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0
            .serialize_tuple_struct(name, len)
            .map(FiniteSerializer)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(FiniteSerializer)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(FiniteSerializer)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(FiniteSerializer)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(FiniteSerializer)
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.collect_str(value)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<S: $trait> $trait for FiniteSerializer<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
                self.0.$method(&Finite(value))
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<S: SerializeMap> SerializeMap for FiniteSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Finite(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Finite(value))
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), S::Error> {
        self.0.serialize_entry(&Finite(key), &Finite(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

macro_rules! fields {
    ($trait:ident) => {
        impl<S: $trait> $trait for FiniteSerializer<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), S::Error> {
                self.0.serialize_field(key, &Finite(value))
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
                self.0.skip_field(key)
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
}

fields!(SerializeStruct);
fields!(SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    struct Point {
        x: f64,
        y: Option<f32>,
        tags: Vec<(String, f64)>,
        #[serde(flatten)]
        rest: BTreeMap<String, f64>,
    }

    #[test]
    fn finite_values_are_written_as_serde_json_writes_them() {
        let point = Point {
            x: 1.5,
            y: Some(2.0),
            tags: vec![("a".into(), -0.25)],
            rest: BTreeMap::from([("z".into(), 3.0)]),
        };
        let raw = input(&point).unwrap();
        assert_eq!(raw.get(), serde_json::to_string(&point).unwrap());
        let raw_input = serde_json::value::to_raw_value(&json!({"k": 1})).unwrap();
        assert_eq!(input(&raw_input).unwrap().get(), r#"{"k":1}"#);
        assert_eq!(value(&point).unwrap()["rest"], serde_json::Value::Null);
        assert_eq!(value(&point).unwrap()["z"], json!(3.0));
    }

    #[test]
    fn nan_and_infinities_are_refused_wherever_they_are() {
        let cases: Vec<Box<dyn Fn() -> Result<Box<RawValue>>>> = vec![
            Box::new(|| input(&f64::NAN)),
            Box::new(|| input(&f32::INFINITY)),
            Box::new(|| input(&vec![1.0, f64::NEG_INFINITY])),
            Box::new(|| input(&Some(Some(f64::NAN)))),
            Box::new(|| input(&BTreeMap::from([("k", f64::NAN)]))),
            Box::new(|| {
                input(&Point {
                    x: 0.0,
                    y: None,
                    tags: vec![],
                    rest: BTreeMap::from([("z".into(), f64::INFINITY)]),
                })
            }),
        ];
        for case in cases {
            let error = case().unwrap_err();
            assert!(matches!(error, Error::Input(_)), "{error:?}");
            let source = std::error::Error::source(&error).map(ToString::to_string);
            assert!(
                source.is_some_and(|source| source.contains("JSON cannot carry NaN")),
                "{error:?}"
            );
        }
    }
}
