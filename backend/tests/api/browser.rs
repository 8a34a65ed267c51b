//! The SPA in a real browser (headless Chromium over WebDriver) against the real server,
//! database and bus. Each test saves a screenshot of its final state to
//! `artifacts/screenshots/`.

use crate::common::browser::{static_dir, Browser};
use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn customer_and_technician_talk_through_the_spa() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;

    let cb = Browser::open(&app.base).await;
    cb.sign_in(&customer.email, PASSWORD).await;
    cb.goto("/tickets/new").await;
    cb.fill("#ticket-title", "Printer on fire").await;
    cb.fill("#ticket-description", "Smoke is coming out of the tray.")
        .await;
    cb.click("form button[type=submit]").await;
    cb.wait_for_text("Printer on fire", 10).await;
    let ticket_path = cb.client.current_url().await.unwrap().path().to_owned();
    assert!(
        ticket_path.starts_with("/tickets/"),
        "after creating: {ticket_path}"
    );

    let tb = Browser::open(&app.base).await;
    tb.sign_in(&tech.email, PASSWORD).await;
    tb.wait_for_text("Printer on fire", 10).await;
    tb.goto(&ticket_path).await;
    tb.wait_for_text("Smoke is coming out of the tray.", 10)
        .await;
    tb.fill("#composer-body", "On my way with an extinguisher.")
        .await;
    tb.click("form button[type=submit]").await;
    tb.wait_for_text("On my way with an extinguisher.", 10)
        .await;

    cb.wait_for_text("On my way with an extinguisher.", 15)
        .await;
    // An internal note stays with staff.
    let id: i64 = ticket_path.trim_start_matches("/tickets/").parse().unwrap();
    app.message(&tech, id, "CANARY: bill the customer", true)
        .await
        .ok();
    tb.goto(&ticket_path).await;
    tb.wait_for_text("CANARY: bill the customer", 10).await;
    cb.fill("#composer-body", "Thank you!").await;
    cb.click("form button[type=submit]").await;
    tb.wait_for_text("Thank you!", 15).await;
    cb.wait_for_text("Thank you!", 10).await;
    assert!(
        !cb.text().await.contains("CANARY"),
        "the customer sees an internal note"
    );
    cb.screenshot("customer-conversation").await;
    tb.screenshot("technician-conversation").await;
    let _ = json!(null);
    cb.close().await;
    tb.close().await;
    app.stop().await;
}
