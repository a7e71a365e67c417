//! The client's configuration: `Api` parsed from text and from `OPPER_API_VERSION`, and a
//! configuration error that keeps its cause.

use opper::{Api, Error, Opper};

#[test]
fn api_versions_parse() {
    assert_eq!("v3".parse::<Api>().unwrap(), Api::V3);
    assert_eq!(" V2 ".parse::<Api>().unwrap(), Api::V2);
    assert_eq!(Api::default(), Api::V2);
    let error = "3".parse::<Api>().unwrap_err();
    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    assert!(error.to_string().contains("OPPER_API_VERSION"), "{error}");
}

#[test]
fn a_configuration_error_keeps_its_cause_as_its_source() {
    use std::error::Error as _;
    let error = Opper::builder()
        .api_key("k")
        .base_url("http://[::1")
        .build()
        .unwrap_err();
    let shown = error.to_string();
    let source = error.source().expect("the URL parser's error").to_string();
    assert!(
        shown.starts_with("invalid Opper client configuration: invalid base URL"),
        "{shown}"
    );
    assert!(!shown.contains(&source), "{shown} repeats {source}");
}

/// Runs this test binary's `opper_api_version_is_read_from_the_environment` with
/// `OPPER_API_VERSION=value`, which checks that the client is `expect`.
#[test]
fn opper_api_version_is_read_from_the_environment() {
    if let Ok(expect) = std::env::var("OPPER_TEST_EXPECT_API") {
        let built = opper::OpperBuilder::from_env().build();
        match expect.as_str() {
            "error" => {
                let error = built.unwrap_err();
                assert!(matches!(error, Error::Config { .. }), "{error:?}");
                let shown = error.to_string();
                assert!(shown.contains("OPPER_API_VERSION"), "{error}");
                // Its layer's words once: not wrapped in another configuration error.
                assert_eq!(
                    shown.matches("invalid Opper client configuration").count(),
                    1,
                    "{shown}"
                );
            }
            "v3" => assert_eq!(built.unwrap().api(), Api::V3),
            _ => assert_eq!(built.unwrap().api(), Api::V2),
        }
        // A builder setting overrides the environment, a bad value included.
        let set = opper::OpperBuilder::from_env()
            .api(Api::V3)
            .build()
            .unwrap();
        assert_eq!(set.api(), Api::V3);
        return;
    }
    for (value, expect) in [("v3", "v3"), ("V2", "v2"), ("", "v2"), ("v4", "error")] {
        opper_tests::run_alone_with(
            "configuration::opper_api_version_is_read_from_the_environment",
            &[
                ("OPPER_API_VERSION", value),
                ("OPPER_API_KEY", "k"),
                ("OPPER_TEST_EXPECT_API", expect),
            ],
            &["OPPER_CACHE_DIR", "OPPER_CACHE_MODE"],
        );
    }
}
