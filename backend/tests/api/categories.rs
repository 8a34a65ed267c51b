//! The two-level category tree.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn two_level_tree_is_enforced_and_in_use_categories_stay() {
    let app = TestApp::start().await;
    let admin = app.user("admin", "Ada").await;
    let c = app.user("customer", "Cora").await;
    let post = |body: serde_json::Value| app.post("/api/categories", &admin.token, body);
    let hw = post(json!({"name": "Hardware", "position": 1})).await;
    let hw_id = hw.ok()["id"].as_i64().unwrap();
    let laptops = post(json!({"name": "Laptops", "parent_id": hw_id})).await;
    let laptops_id = laptops.ok()["id"].as_i64().unwrap();
    post(json!({"name": "Software", "position": 0})).await.ok();

    // Three levels are refused, on create and on move; names are unique per level.
    let before = app.counts();
    post(json!({"name": "Too deep", "parent_id": laptops_id}))
        .await
        .expect_error(422, "validation_failed");
    post(json!({"name": "Ghost parent", "parent_id": 987654}))
        .await
        .expect_error(422, "validation_failed");
    post(json!({"name": "laptops", "parent_id": hw_id}))
        .await
        .expect_error(409, "conflict");
    post(json!({"name": ""}))
        .await
        .expect_error(422, "validation_failed");
    let sw_id = app.get("/api/categories", &c.token).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/categories/{hw_id}"),
        &admin.token,
        json!({"parent_id": sw_id}),
    )
    .await
    .expect_error(422, "validation_failed");
    assert_eq!(app.counts(), before);

    // Everyone signed in reads the tree, ordered by position.
    let tree = app.get("/api/categories", &c.token).await;
    let items = tree.ok()["items"].as_array().unwrap();
    assert_eq!(items[0]["name"], "Software");
    assert_eq!(items[1]["name"], "Hardware");
    assert_eq!(items[1]["children"][0]["name"], "Laptops");

    // A used category cannot be deleted; an unused one can.
    let t = app
        .post(
            "/api/tickets",
            &c.token,
            json!({"title": "broken", "category_id": laptops_id}),
        )
        .await;
    assert_eq!(t.ok()["category"]["name"], "Laptops");
    let del = |id: i64| {
        app.send(
            "DELETE",
            format!("/api/categories/{id}"),
            Some(&admin.token),
            None,
        )
    };
    del(laptops_id).await.expect_error(409, "category_in_use");
    del(hw_id).await.expect_error(409, "category_in_use");
    assert_eq!(del(sw_id).await.status, 204);
    del(sw_id).await.expect_error(404, "not_found");

    // Renaming keeps the tree.
    let renamed = app
        .patch(
            &format!("/api/categories/{laptops_id}"),
            &admin.token,
            json!({"name": "Notebooks"}),
        )
        .await;
    assert_eq!(renamed.ok()["name"], "Notebooks");
    assert_eq!(renamed.body["parent_id"], hw_id);
    app.stop().await;
}
