//! The names of the attribute's keys (serde's `symbol.rs`).

pub(crate) const CRATE: &str = "crate";
pub(crate) const NAME: &str = "name";
pub(crate) const INSTRUCTIONS: &str = "instructions";
pub(crate) const MODEL: &str = "model";
pub(crate) const TAGS: &str = "tags";
pub(crate) const EXAMPLE: &str = "example";
pub(crate) const CONFIGURATION: &str = "configuration";
pub(crate) const MAX_ATTEMPTS: &str = "max_attempts";
pub(crate) const CACHE_TTL: &str = "cache_ttl";
pub(crate) const INPUT_VALIDATION: &str = "input_validation";
pub(crate) const XML_MODE: &str = "xml_mode";
pub(crate) const FEW_SHOT_COUNT: &str = "few_shot_count";
pub(crate) const VALIDATE: &str = "validate";
pub(crate) const REASKS: &str = "reasks";
pub(crate) const TOOLS: &str = "tools";
pub(crate) const MAX_ITERATIONS: &str = "max_iterations";

/// Keys of `example(...)`.
pub(crate) const INPUT: &str = "input";
pub(crate) const OUTPUT: &str = "output";
pub(crate) const COMMENT: &str = "comment";

/// Every top-level key, in the order the error message lists them.
pub(crate) const TOP_LEVEL: &[&str] = &[
    NAME,
    INSTRUCTIONS,
    MODEL,
    TAGS,
    EXAMPLE,
    CONFIGURATION,
    VALIDATE,
    REASKS,
    TOOLS,
    MAX_ITERATIONS,
    MAX_ATTEMPTS,
    CACHE_TTL,
    INPUT_VALIDATION,
    XML_MODE,
    FEW_SHOT_COUNT,
    CRATE,
];

/// The configuration keys: the method of `opper::Configuration` each maps to, and whether its
/// value is a boolean (else an integer).
pub(crate) const CONFIGURATION_KEYS: &[(&str, bool)] = &[
    (MAX_ATTEMPTS, false),
    (CACHE_TTL, false),
    (INPUT_VALIDATION, true),
    (XML_MODE, true),
    (FEW_SHOT_COUNT, false),
];

/// `a`, `b` and `c`, each in backticks.
pub(crate) fn list(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
