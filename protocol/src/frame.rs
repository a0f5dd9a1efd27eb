//! Text frames tagged by their `type` field, and how one is read.
//!
//! serde's own decoder for an internally tagged enum buffers the whole frame (every field, as
//! serde's private `Content` tree) before it knows the variant, and every type inside a frame is
//! then compiled a second time to be read back from that buffer. [`tagged_frames!`] declares the
//! enum with serde's derives (its JSON is unchanged) and a `parse` that reads the `type` first and
//! then the variant's own fields straight from the text.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::MAX_WS_FRAME_BYTES;

/// Why a frame was not understood. Never fatal: the receiver logs it and drops the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    TooLarge {
        bytes: usize,
    },
    Malformed(String),
    /// Valid JSON with a `type` this side does not know.
    UnknownType(String),
    /// A known `type` this receiver does not take (see `parse_only`): a kiosk is sent no orders.
    Unexpected(String),
    /// A known type whose fields are missing or of the wrong kind.
    Invalid {
        kind: String,
        reason: String,
    },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { bytes } => write!(f, "frame of {bytes} bytes exceeds {MAX_WS_FRAME_BYTES}"),
            FrameError::Malformed(e) => write!(f, "malformed JSON: {e}"),
            FrameError::UnknownType(t) => write!(f, "unknown message type {t:?}"),
            FrameError::Unexpected(t) => write!(f, "message type {t:?} is not one this receiver takes"),
            FrameError::Invalid { kind, reason } => write!(f, "invalid {kind}: {reason}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// A frame's `type`, read over the whole text while every other field is skipped: the frame must
/// be one JSON object, and its syntax is checked to the end (serde_json does not check the `\u`
/// escapes of the strings it skips; a field that is read checks its own).
pub(crate) fn frame_type(text: &str) -> Result<String, FrameError> {
    if text.len() > MAX_WS_FRAME_BYTES {
        return Err(FrameError::TooLarge { bytes: text.len() });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let kind = de
        .deserialize_map(TypeField)
        .and_then(|kind| de.end().map(|()| kind))
        .map_err(|e| FrameError::Malformed(e.to_string()))?;
    match kind {
        Some(Shallow::Text(kind)) => Ok(kind),
        None | Some(Shallow::Null) => Err(FrameError::Malformed("no `type` field".into())),
        Some(_) => Err(FrameError::Malformed("`type` is not a string".into())),
    }
}

/// One JSON value read with only what a reader of scalars needs: a scalar as it is, an object's
/// members in the order written, an array checked and skipped. For a frame's `type` and the page's
/// `config.json`: the one reader of any value the pages carry for them (`serde_json::Value` would
/// bring its own map, tree and printer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shallow {
    Null,
    Bool(bool),
    /// A whole number, in decimal.
    Whole(String),
    /// A number with a fraction or an exponent.
    Fraction,
    Text(String),
    Array,
    Object(Vec<(String, Shallow)>),
}

impl std::fmt::Display for Shallow {
    /// As an error message names it: scalars as JSON writes them, the others by their kind.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shallow::Null => f.write_str("null"),
            Shallow::Bool(b) => write!(f, "{b}"),
            Shallow::Whole(n) => f.write_str(n),
            Shallow::Fraction => f.write_str("a number with a fraction or an exponent"),
            Shallow::Text(s) => write!(f, "{s:?}"),
            Shallow::Array => f.write_str("an array"),
            Shallow::Object(_) => f.write_str("an object"),
        }
    }
}

impl<'de> de::Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shallow, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Shallow;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Shallow, E> {
                Ok(Shallow::Text(text.to_string()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Shallow, E> {
                Ok(Shallow::Text(text))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Shallow, E> {
                Ok(Shallow::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Shallow, E> {
                Ok(Shallow::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Shallow, E> {
                Ok(Shallow::Whole(n.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Shallow, E> {
                Ok(Shallow::Whole(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shallow, E> {
                Ok(Shallow::Fraction)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Shallow, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Shallow::Array)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shallow, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Shallow>()? {
                    members.push(member);
                }
                Ok(Shallow::Object(members))
            }
        }
        deserializer.deserialize_any(Any)
    }
}

/// Reads an object's `type` field, skipping the others. Only an object will do: serde's derived
/// decoders would also take a JSON array, its elements in field order.
struct TypeField;

impl<'de> Visitor<'de> for TypeField {
    type Value = Option<Shallow>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        while let Some(IsType(is_type)) = map.next_key()? {
            if !is_type {
                map.next_value::<IgnoredAny>()?;
            } else if kind.is_some() {
                return Err(de::Error::duplicate_field("type"));
            } else {
                kind = Some(map.next_value::<Shallow>()?);
            }
        }
        Ok(kind)
    }
}

/// Whether an object's key is `type`, compared where it lies in the text (no key is copied).
struct IsType(bool);

impl<'de> de::Deserialize<'de> for IsType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IsType, D::Error> {
        struct Key;
        impl Visitor<'_> for Key {
            type Value = IsType;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<IsType, E> {
                Ok(IsType(key == "type"))
            }
        }
        deserializer.deserialize_identifier(Key)
    }
}

/// Whether two strings are equal, at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The set of `wanted` among `types`, one bit per type in `types`' order. A name that is not in
/// `types` fails the build where the set is a constant.
#[doc(hidden)]
pub const fn kind_set(types: &[&str], wanted: &[&str]) -> u32 {
    assert!(types.len() < 32, "a kind set holds at most 31 types");
    let mut set = 0;
    let mut w = 0;
    while w < wanted.len() {
        let mut i = 0;
        while i < types.len() && !same(types[i], wanted[w]) {
            i += 1;
        }
        assert!(i < types.len(), "no frame has this type");
        set |= 1 << i;
        w += 1;
    }
    set
}

/// Declares a frame enum whose variants are told apart by a `type` field (each variant names its
/// own with `#[serde(rename = "…")]`), with:
/// - serde's `Serialize` and `Deserialize` in their internally tagged form (`#[serde(tag = "type")]`);
/// - `TYPES`, every `type` it has, and `kind()`, a frame's own;
/// - `parse(text)`, which tells apart a frame that is too large, malformed, of an unknown type, or of
///   a known type with missing or wrong fields, and reads the fields without buffering the frame;
/// - `parse_only::<KINDS>(text)`, the same for the set of types `KINDS` (built by `kinds`, or
///   `ALL`): a frame of another known type is `FrameError::Unexpected`, and its fields' decoder is
///   not compiled into a program that only ever reads the others.
///
/// A variant's field attributes apply to both decoders. Give the enum no `#[serde(…)]` attribute
/// of its own (`deny_unknown_fields`, `rename_all_fields`, …): `parse` would not see it.
macro_rules! tagged_frames {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                #[serde(rename = $tag:literal)]
                $variant:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty ),* $(,)? }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(tag = "type")]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $tag)]
                $variant { $( $(#[$field_meta])* $field: $ty ),* },
            )*
        }

        impl $name {
            /// Every `type` of these frames.
            pub const TYPES: &'static [&'static str] = &[$($tag),*];

            /// This frame's `type`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( $name::$variant { .. } => $tag, )*
                }
            }

            /// Every type, as a set for `parse_only`.
            pub const ALL: u32 = $crate::frame::kind_set(Self::TYPES, Self::TYPES);

            /// The set of these `types`, for `parse_only` (a type this enum does not have fails
            /// the build where the set is a constant).
            pub const fn kinds(types: &[&str]) -> u32 {
                $crate::frame::kind_set(Self::TYPES, types)
            }

            /// Parses one text frame, telling apart the ways it can be wrong.
            pub fn parse(text: &str) -> Result<$name, $crate::FrameError> {
                Self::parse_only::<{ $name::ALL }>(text)
            }

            /// [`Self::parse`] for the types in `KINDS` alone: a frame of another known type is
            /// `Unexpected`, checked before its fields are read.
            pub fn parse_only<const KINDS: u32>(text: &str) -> Result<$name, $crate::FrameError> {
                let kind = $crate::frame::frame_type(text)?;
                let invalid = |e: serde_json::Error| $crate::FrameError::Invalid { kind: kind.clone(), reason: e.to_string() };
                match kind.as_str() {
                    $(
                        $tag => {
                            if !const { KINDS & $crate::frame::kind_set(Self::TYPES, &[$tag]) != 0 } {
                                return Err($crate::FrameError::Unexpected(kind));
                            }
                            #[derive(serde::Deserialize)]
                            struct Fields { $( $(#[$field_meta])* $field: $ty ),* }
                            let Fields { $($field),* } = serde_json::from_str(text).map_err(invalid)?;
                            Ok($name::$variant { $($field),* })
                        }
                    )*
                    _ => Err($crate::FrameError::UnknownType(kind)),
                }
            }
        }
    };
}

pub(crate) use tagged_frames;
