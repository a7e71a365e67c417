//! What the client as a whole guarantees, whichever call or stream it makes: the key is in no
//! `Debug`, `Display` or error. A call's request and answer are in `calls.rs`, streams in
//! `streaming.rs`.

use opper::RetryPolicy;
use opper_tests::{KEY, RawServer, Script, client};
use serde_json::json;

#[tokio::test]
async fn the_key_is_in_no_debug_display_or_error() {
    let server = RawServer::start().await;
    server.push(Script::json(
        401,
        &json!({"type": "UnauthorizedError", "message": "bad key"}),
    ));
    server.push(Script::response(500, &[], b"oops"));
    server.push(
        Script::default()
            .sse_head()
            .write("data: {\"chunk_type\": \"error\", \"error_message\": \"x\"}\n\n"),
    );
    let opper = opper_tests::builder(&server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut texts = vec![
        format!("{opper:?}"),
        format!("{:?}", opper::Opper::builder().api_key(KEY)),
    ];
    let errors = [
        opper.call("t").send::<String>().await.unwrap_err(),
        opper.call("t").send::<String>().await.unwrap_err(),
        opper_tests::text_stream_error(&opper, "t").await,
        client("http://127.0.0.1:9")
            .call("t")
            .send::<String>()
            .await
            .unwrap_err(),
    ];
    for error in &errors {
        texts.push(format!("{error}"));
        texts.push(format!("{error:?}"));
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            texts.push(format!("{inner} {inner:?}"));
            source = inner.source();
        }
    }
    for text in texts {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
    assert_eq!(
        server.received()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}
