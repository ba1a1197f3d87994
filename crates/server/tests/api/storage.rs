use reqwest::Method;
use sha2::{Digest, Sha256};
use test_support::spawn_app_with_fixtures;

#[tokio::test]
async fn a_stored_file_streams_back_byte_for_byte_with_its_checksum() {
    let app = spawn_app_with_fixtures().await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let res = app
        .send(
            app.request(Method::POST, "/test/files?name=../../plan%20RDC.pdf")
                .header("Content-Type", "application/octet-stream")
                .body(bytes.clone()),
        )
        .await;
    let stored = res.ok(201);
    assert_eq!(stored["size"], 300_000);
    assert_eq!(stored["sha256"], hex::encode(Sha256::digest(&bytes)));
    let key = stored["key"].as_str().unwrap();
    assert!(
        key.starts_with("tests/") && key.ends_with("-plan_RDC.pdf"),
        "{key}"
    );

    let res = app
        .send(
            app.request(Method::GET, "/test/files")
                .query(&[("key", key)]),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body.as_ref(), bytes.as_slice());
    assert!(app.database.data_dir().join("files").join(key).exists());
}

#[tokio::test]
async fn a_missing_file_is_an_enveloped_404() {
    let app = spawn_app_with_fixtures().await;
    let res = app
        .send(
            app.request(Method::GET, "/test/files")
                .query(&[("key", "tests/none.bin")]),
        )
        .await;
    res.error(404, "NOT_FOUND");
}
