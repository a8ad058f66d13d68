//! docs/management-api.md is the reference generated from the OpenAPI
//! document: it must match what the handlers describe now.

#[test]
fn the_management_api_reference_in_docs_is_current() {
    let doc: serde_json::Value =
        serde_json::from_str(&gatehouse_admin::api::openapi_json()).unwrap();
    let want = gatehouse_admin::api::reference::markdown(&doc);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/management-api.md");
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/management-api.md is stale; regenerate it with \
         `cargo run -q -p gatehouse-web -- openapi --markdown > docs/management-api.md`"
    );
}
