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
    // A file goes with the new ticket.
    let file = std::env::temp_dir().join(format!("tray-{}.txt", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, "error 0x42 on the display\n").unwrap();
    cb.find("#ticket-files")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    cb.click("form button[type=submit]").await;
    cb.wait_for_text("Printer on fire", 10).await;
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    cb.wait_for_text(&name, 10).await;
    let ticket_path = cb.client.current_url().await.unwrap().path().to_owned();
    assert!(
        ticket_path.starts_with("/tickets/"),
        "after creating: {ticket_path}"
    );
    let created: i64 = ticket_path.trim_start_matches("/tickets/").parse().unwrap();
    let files = app
        .get(
            format!("/api/tickets/{created}/attachments"),
            &customer.token,
        )
        .await;
    assert_eq!(files.ok()["items"][0]["filename"], name.as_str());
    assert_eq!(
        files.body["items"][0]["content_type"],
        "text/plain; charset=utf-8"
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

/// Polls the API until `ticket` has `status` (the browser's PATCH may still be in flight).
async fn wait_for_status(app: &TestApp, who: &TestUser, ticket: i64, status: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = app.get(format!("/api/tickets/{ticket}"), &who.token).await;
        if now.ok()["status"] == status {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ticket {ticket} is {} not {status}",
            now.body["status"]
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A few tickets in every state, so boards and charts have something to show.
async fn seed_desk(app: &TestApp, customer: &TestUser, tech: &TestUser) -> Vec<i64> {
    let plan = [
        ("Laptop will not boot after update", "urgent", None, false),
        ("Shared drive asks for password again", "high", None, true),
        (
            "New starter needs accounts",
            "medium",
            Some("pending"),
            true,
        ),
        ("Printer on 3rd floor jams", "low", Some("blocked"), true),
        ("Outlook keeps crashing", "medium", Some("resolved"), true),
        ("Request: second monitor", "low", None, false),
    ];
    let mut ids = Vec::new();
    for (title, priority, status, take) in plan {
        let id = app.ticket(customer, title).await["id"].as_i64().unwrap();
        app.patch(
            format!("/api/tickets/{id}"),
            &tech.token,
            json!({ "priority": priority }),
        )
        .await
        .ok();
        if take {
            app.post(
                format!("/api/tickets/{id}/assign"),
                &tech.token,
                json!({ "assignee_id": tech.id }),
            )
            .await
            .ok();
        }
        if let Some(status) = status {
            app.patch(
                format!("/api/tickets/{id}"),
                &tech.token,
                json!({ "status": status }),
            )
            .await
            .ok();
        }
        ids.push(id);
    }
    ids
}

#[actix_web::test]
async fn kanban_drag_moves_the_card_for_everyone_watching() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;
    let watcher = app.user("technician", "Theo Tech").await;
    seed_desk(&app, &customer, &tech).await;
    let id = app.ticket(&customer, "VPN drops every hour").await["id"]
        .as_i64()
        .unwrap();
    let card = format!("[data-ticket-id=\"{id}\"]");
    let in_open = format!("[data-column=\"open\"] {card}");
    let in_pending = format!("[data-column=\"pending\"] {card}");

    let b1 = Browser::open(&app.base).await;
    b1.sign_in(&tech.email, PASSWORD).await;
    b1.goto("/board").await;
    b1.find(&in_open).await;

    let b2 = Browser::open(&app.base).await;
    b2.sign_in(&watcher.email, PASSWORD).await;
    b2.goto("/board").await;
    b2.find(&in_open).await;
    // The watcher's socket is up before the move: what follows is a live update.
    b2.find(".conn-live").await;

    b1.drag_and_drop(&card, "[data-column=\"pending\"]").await;
    b1.find(&in_pending).await;
    wait_for_status(&app, &tech, id, "pending").await;

    b2.find(&in_pending).await;
    b2.wait_for_presence(&in_open, false, 5).await;
    assert_eq!(
        b2.client.current_url().await.unwrap().path(),
        "/board",
        "no navigation"
    );
    b1.screenshot("kanban-drag").await;
    b2.screenshot("kanban-watcher").await;

    // The keyboard route: the card's "Move to" menu.
    let menu = format!("{card} select.kanban-move");
    b2.find(&menu)
        .await
        .select_by_value("blocked")
        .await
        .unwrap();
    b2.find(&format!("[data-column=\"blocked\"] {card}")).await;
    wait_for_status(&app, &tech, id, "blocked").await;
    b1.find(&format!("[data-column=\"blocked\"] {card}")).await;

    b2.resize(375, 812).await;
    b2.screenshot("kanban-mobile").await;
    b1.close().await;
    b2.close().await;
    app.stop().await;
}

#[actix_web::test]
async fn supervisor_floor_counts_a_new_ticket_live() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;
    let supervisor = app.user("supervisor", "Sam Super").await;
    seed_desk(&app, &customer, &tech).await;

    let b = Browser::open(&app.base).await;
    b.sign_in(&supervisor.email, PASSWORD).await;
    b.goto("/floor").await;
    // Two of the seeded active tickets are nobody's.
    b.wait_for_text_in("#floor-unassigned", "2", 10).await;
    b.wait_for_text_in("#floor-status-open", "2", 5).await;
    b.find("#agent-workload").await;

    app.ticket(&customer, "Wi-Fi in meeting room B is down")
        .await;
    b.wait_for_text_in("#floor-unassigned", "3", 10).await;
    b.wait_for_text_in("#floor-status-open", "3", 5).await;
    assert_eq!(
        b.client.current_url().await.unwrap().path(),
        "/floor",
        "no navigation"
    );
    b.find("#chart-status").await;
    b.find("#chart-trend").await;
    // The whole page, once the bars have finished growing.
    b.resize(1280, 1500).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(700)).await;
    b.screenshot("floor-live").await;
    b.resize(375, 812).await;
    b.screenshot("floor-mobile").await;
    b.close().await;
    app.stop().await;
}

#[actix_web::test]
async fn bell_counts_live_notifications_and_marks_them_read() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;
    let id = app.ticket(&customer, "Cannot print invoices").await["id"]
        .as_i64()
        .unwrap();

    let b = Browser::open(&app.base).await;
    b.sign_in(&customer.email, PASSWORD).await;
    b.find(".conn-live").await;
    b.wait_for_presence("#bell-count", false, 2).await;

    app.patch(
        format!("/api/tickets/{id}"),
        &tech.token,
        json!({ "status": "pending" }),
    )
    .await
    .ok();
    b.wait_for_text_in("#bell-count", "1", 10).await;
    b.click("#bell-button").await;
    b.wait_for_text("is now pending", 5).await;
    b.screenshot("notifications-bell").await;
    b.click("#bell-mark-all").await;
    b.wait_for_presence("#bell-count", false, 5).await;
    let list = app.get("/api/notifications", &customer.token).await;
    assert_eq!(list.ok()["unread"], 0);
    b.close().await;
    app.stop().await;
}

#[actix_web::test]
async fn admin_pages_manage_users_categories_and_watch_the_system() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let admin = app.user("admin", "Ada Admin").await;
    app.user("technician", "Tara Tech").await;
    app.user("supervisor", "Sam Super").await;

    let b = Browser::open(&app.base).await;
    b.sign_in(&admin.email, PASSWORD).await;
    b.click("a.nav-link[href=\"/admin\"]").await;
    b.find("#users-table").await;

    // Create a technician through the form.
    b.click("#user-new").await;
    b.fill("#new-user-name", "Nina New").await;
    b.fill("#new-user-email", "nina@example.com").await;
    b.fill("#new-user-password", "long enough secret").await;
    b.click("form[aria-labelledby=new-user-title] button[type=submit]")
        .await;
    b.wait_for_text("nina@example.com", 10).await;
    let users = app.get("/api/users?q=nina", &admin.token).await;
    assert_eq!(users.ok()["items"][0]["role"], "technician");

    // The only admin cannot demote themselves: the 409 reads as advice.
    let me = format!("[data-user-id=\"{}\"]", admin.id);
    b.click(&format!("{me} button")).await;
    b.find(&format!("#edit-user-{}-role", admin.id))
        .await
        .select_by_value("supervisor")
        .await
        .unwrap();
    b.click(".inline-editor button[type=submit]").await;
    b.wait_for_text("needs at least one active admin", 10).await;
    b.screenshot("admin-users").await;

    // Categories: a top-level one and a subcategory.
    b.click("a.tab[href=\"/admin/categories\"]").await;
    b.fill("#cat-new-name", "Hardware").await;
    b.fill("#cat-new-description", "Laptops, printers, phones")
        .await;
    b.click("form[aria-labelledby=cat-new-title] button[type=submit]")
        .await;
    b.wait_for_text("Laptops, printers, phones", 10).await;
    b.click("#category-tree .cat-row button").await; // "Add subcategory"
    b.fill("#category-tree input[type=text]", "Printers").await;
    b.click("#category-tree .cat-add-child button[type=submit]")
        .await;
    b.find("#category-tree .cat-children").await;
    b.wait_for_text("Printers", 10).await;
    let tree = app.get("/api/categories", &admin.token).await;
    assert_eq!(tree.ok()["items"][0]["children"][0]["name"], "Printers");
    b.screenshot("admin-categories").await;

    // The live system monitor fills from `system` frames (every 5 s).
    b.click("a.tab[href=\"/admin/system\"]").await;
    b.find("#system-table [data-instance=\"test\"]").await;
    b.screenshot("admin-system").await;
    b.click("a.tab[href=\"/admin/sla\"]").await;
    b.find("#sla-table").await;
    b.screenshot("admin-sla").await;
    b.click("a.tab[href=\"/admin/settings\"]").await;
    b.find("#setting-auto-assign").await;
    b.screenshot("admin-settings").await;
    b.close().await;
    app.stop().await;
}

#[actix_web::test]
async fn alerts_typing_read_ticks_and_recovery_after_a_server_restart() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;

    let tb = Browser::open(&app.base).await;
    tb.sign_in(&tech.email, PASSWORD).await;
    tb.wait_for_text("Live", 15).await;

    // The customer opens a ticket; the technician is alerted without a reload.
    let cb = Browser::open(&app.base).await;
    cb.sign_in(&customer.email, PASSWORD).await;
    cb.goto("/tickets/new").await;
    cb.fill("#ticket-title", "Projector shows no signal").await;
    cb.fill("#ticket-description", "Meeting room 4, HDMI.")
        .await;
    cb.click("form button[type=submit]").await;
    cb.wait_for_text("Meeting room 4, HDMI.", 10).await;
    let path = cb.client.current_url().await.unwrap().path().to_owned();
    let id: i64 = path.trim_start_matches("/tickets/").parse().unwrap();
    tb.wait_for_text("Projector shows no signal", 10).await;
    assert!(
        tb.text().await.contains("New ticket"),
        "a toast announces it"
    );

    // The technician takes it and both are in the conversation.
    app.post(
        format!("/api/tickets/{id}/assign"),
        &tech.token,
        json!({"assignee_id": tech.id}),
    )
    .await
    .ok();
    tb.goto(&path).await;
    tb.wait_for_text("Meeting room 4, HDMI.", 10).await;
    cb.wait_for_text("Live", 10).await;

    // Typing shows up on the other side and goes away when the message is sent.
    cb.find("#composer-body")
        .await
        .send_keys("Any idea what")
        .await
        .unwrap();
    tb.wait_for_text("Cora Customer is typing", 10).await;
    cb.find("#composer-body")
        .await
        .send_keys(" it could be?")
        .await
        .unwrap();
    cb.click("form button[type=submit]").await;
    tb.wait_for_text("Any idea what it could be?", 10).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tb.text().await.contains("is typing") {
        assert!(
            std::time::Instant::now() < deadline,
            "the typing indicator never went away"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The technician has it on screen: the customer's tick turns to read.
    cb.find("span.tick-read").await;

    // An internal note stays with staff.
    app.message(&tech, id, "CANARY: check the HDMI switch", true)
        .await
        .ok();
    tb.wait_for_text("CANARY: check the HDMI switch", 10).await;

    // The server goes away and comes back on the same address: the app says so,
    // recovers, and the conversation has every message exactly once.
    let app = app
        .restart_same_port(std::time::Duration::from_secs(2))
        .await;
    cb.wait_for_text("Reconnecting", 15).await;
    cb.screenshot("reconnecting").await;
    app.message(&tech, id, "Try the other HDMI port.", false)
        .await
        .ok();
    cb.wait_for_text("Try the other HDMI port.", 30).await;
    cb.wait_for_text("Live", 10).await;
    let text = cb.text().await;
    assert_eq!(
        text.matches("Any idea what it could be?").count(),
        1,
        "no duplicates: {text}"
    );
    assert_eq!(
        text.matches("Try the other HDMI port.").count(),
        1,
        "no duplicates: {text}"
    );
    assert!(!text.contains("CANARY"), "the customer never sees the note");
    cb.screenshot("customer-after-reconnect").await;
    tb.screenshot("technician-live-chat").await;
    cb.close().await;
    tb.close().await;
    app.stop().await;
}

#[actix_web::test]
async fn queue_filters_live_in_the_url() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;
    for (title, priority) in [("Printer is smoking", "urgent"), ("Mouse squeaks", "low")] {
        app.post(
            "/api/tickets",
            &customer.token,
            json!({"title": title, "priority": priority}),
        )
        .await
        .ok();
    }
    let tb = Browser::open(&app.base).await;
    tb.sign_in(&tech.email, PASSWORD).await;
    tb.goto("/tickets").await;
    tb.wait_for_text("Mouse squeaks", 10).await;
    tb.find("#ticket-priority-filter")
        .await
        .select_by_value("urgent")
        .await
        .unwrap();
    // The filtered list: the urgent ticket shown and the low one gone. Both at once, as
    // the list may be empty for a moment while the filtered page loads.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = tb.text().await;
        if text.contains("Printer is smoking") && !text.contains("Mouse squeaks") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the priority filter did not apply: {text}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    tb.find("#ticket-who")
        .await
        .select_by_value("unassigned")
        .await
        .unwrap();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    let url = tb.client.current_url().await.unwrap();
    let query = url.query().unwrap_or("").to_owned();
    assert!(
        query.contains("priority=urgent") && query.contains("who=unassigned"),
        "{query}"
    );
    // A reload (or a shared link) shows the same view.
    tb.client.goto(url.as_str()).await.unwrap();
    tb.wait_for_text("Printer is smoking", 10).await;
    assert!(!tb.text().await.contains("Mouse squeaks"));
    tb.screenshot("queue-filters").await;
    tb.close().await;
    app.stop().await;
}

/// A search that stops at the server's budget goes on by itself for a few pages, then
/// says so and searches on at a click. Here every page is one slice of four tickets,
/// and the only match is the oldest of 41: the first load searches eight slices (32
/// tickets) and finds nothing, the click the other nine.
#[actix_web::test]
async fn a_search_cut_short_offers_to_search_further() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| {
        c.static_dir = Some(dir);
        c.search = relay_desk::config::SearchBudget {
            ms: 0,
            first_slice: 4,
        };
    })
    .await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;
    app.ticket(&customer, "Walrus on the printer").await;
    for i in 0..40 {
        app.ticket(&customer, &format!("Routine request {i}")).await;
    }
    let tb = Browser::open(&app.base).await;
    tb.sign_in(&tech.email, PASSWORD).await;
    tb.goto("/tickets?q=walrus").await;
    // Not "No tickets match", but a search to go on.
    tb.wait_for_text("No matches yet", 10).await;
    let text = tb.text().await;
    assert!(!text.contains("No tickets match"), "{text}");
    assert!(!text.contains("Walrus on the printer"), "{text}");
    tb.wait_for_text_in("#list-more", "Search further", 5).await;
    tb.screenshot("search-further").await;
    tb.click("#list-more").await;
    tb.wait_for_text("Walrus on the printer", 10).await;
    // That reached the end of the list: nothing further to search.
    tb.wait_for_presence("#list-more", false, 5).await;
    let text = tb.text().await;
    assert!(!text.contains("not searched yet"), "{text}");
    tb.close().await;
    app.stop().await;
}

#[actix_web::test]
async fn staff_set_up_a_required_second_factor_before_anything_else() {
    use diesel::RunQueryDsl;
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let tech = app.user("technician", "Tess Twofactor").await;
    diesel::sql_query(
        "INSERT INTO settings (key, value) VALUES ('require_totp_for_staff', 'true')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .execute(&mut app.conn())
    .unwrap();

    let b = Browser::open(&app.base).await;
    b.sign_in(&tech.email, PASSWORD).await;
    b.wait_for_presence("#totp-required", true, 10).await;
    // The queue is out of reach until the second factor is on.
    b.goto("/tickets").await;
    b.wait_for_presence("#totp-required", true, 10).await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/account");

    b.click("#totp-start").await;
    let secret: String = b
        .find("#totp-secret")
        .await
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    let code = relay_desk::auth::totp::current_code(&secret, &tech.email).unwrap();
    b.fill("#totp-code", &code).await;
    b.click("#two-factor button[type=submit]").await;
    b.wait_for_text("Two-factor sign-in is on", 10).await;
    b.wait_for_presence("#totp-required", false, 10).await;
    b.screenshot("account-two-factor").await;
    assert_eq!(
        app.get("/api/me", &tech.token).await.ok()["totp_enabled"],
        true
    );

    // Now the queue opens, and so does the socket.
    b.goto("/tickets").await;
    b.wait_for_text("Queue", 10).await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/tickets");
    b.wait_for_presence(".conn-live", true, 10).await;
    b.close().await;
    app.stop().await;
}
