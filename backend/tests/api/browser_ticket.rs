//! The ticket workspace in a real browser: staff controls (take, status, priority, tags),
//! the timer, attachments with image previews, history, and the customer's CSAT rating.
//! Every change is checked through the API, not only on screen.

use std::time::{Duration, Instant};

use crate::common::browser::{static_dir, Browser};
use crate::common::*;
use serde_json::Value;

/// Polls `GET path` until `check` accepts the body (the browser's request may still be
/// in flight).
async fn wait_for_api(
    app: &TestApp,
    who: &TestUser,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = app.get(path, &who.token).await;
        if res.status.is_success() && check(&res.body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never showed {what}: {}",
            res.body
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A small but real PNG (stored deflate, no compression library needed): a diagonal
/// gradient with a rounded "chat bubble", so the preview is recognisable in screenshots.
fn sample_png(size: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..size {
        raw.push(0); // filter: none
        for x in 0..size {
            let (dx, dy) = (x as i32 - size as i32 / 2, y as i32 - size as i32 / 2);
            let bubble = dx * dx + dy * dy < (size as i32 / 3).pow(2);
            let rgb = if bubble {
                [255, 255, 255]
            } else {
                [
                    (40 + x * 120 / size) as u8,
                    (70 + y * 80 / size) as u8,
                    (200 + (x + y) * 50 / (2 * size)) as u8,
                ]
            };
            raw.extend_from_slice(&rgb);
        }
    }
    // zlib: header, stored blocks of at most 65535 bytes, adler32.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

async fn select(b: &Browser, css: &str, value: &str) {
    b.find(css).await.select_by_value(value).await.unwrap();
}

#[actix_web::test]
async fn technician_works_a_ticket_and_the_customer_rates_it() {
    let dir = static_dir();
    let app = TestApp::start_with(move |c| c.static_dir = Some(dir)).await;
    let customer = app.user("customer", "Cora Customer").await;
    let tech = app.user("technician", "Tara Tech").await;
    let id = app.ticket(&customer, "VPN drops every hour").await["id"]
        .as_i64()
        .unwrap();
    app.message(
        &customer,
        id,
        "Since Monday the VPN disconnects on the hour, every hour.",
        false,
    )
    .await
    .ok();
    let ticket_path = format!("/tickets/{id}");
    let api_ticket = format!("/api/tickets/{id}");

    let tb = Browser::open(&app.base).await;
    tb.sign_in(&tech.email, PASSWORD).await;
    tb.goto(&ticket_path).await;
    tb.wait_for_text("VPN drops every hour", 10).await;

    // Take: the ticket becomes ours (and in progress, SPEC §2), the button turns into Release.
    tb.click("#ticket-take").await;
    tb.wait_for_presence("#ticket-release", true, 10).await;
    let tech_id = tech.id;
    wait_for_api(&app, &tech, &api_ticket, "the assignee", |t| {
        t["assignee"]["id"] == tech_id && t["status"] == "in_progress"
    })
    .await;

    // Status and priority from the selects.
    select(&tb, "#ticket-status", "blocked").await;
    wait_for_api(&app, &tech, &api_ticket, "status blocked", |t| {
        t["status"] == "blocked"
    })
    .await;
    select(&tb, "#ticket-priority", "urgent").await;
    wait_for_api(&app, &tech, &api_ticket, "priority urgent", |t| {
        t["priority"] == "urgent"
    })
    .await;
    tb.wait_for_text("Urgent", 10).await;

    // Tags, comma-separated, trimmed and de-duplicated (the server keeps them sorted).
    tb.fill("#ticket-tags", "vpn, network ,VPN").await;
    tb.click("#ticket-tags + button[type=submit]").await;
    wait_for_api(&app, &tech, &api_ticket, "the tags", |t| {
        t["tags"] == serde_json::json!(["network", "vpn"])
    })
    .await;

    // Timer: start, let it run, stop; an entry exists and the clock survives a reload.
    tb.click("#timer-toggle").await;
    tb.wait_for_text_in("#timer-toggle", "Stop timer", 10).await;
    wait_for_api(&app, &tech, "/api/me/timer", "a running timer", |r| {
        r["running"]["ticket_id"] == id
    })
    .await;
    tb.goto(&ticket_path).await;
    tb.wait_for_text_in("#timer-toggle", "Stop timer", 10).await;
    actix_web::rt::time::sleep(Duration::from_millis(2_100)).await;
    let clock = tb.find("#timer-clock").await.text().await.unwrap();
    assert_ne!(clock.trim(), "0:00", "the clock does not tick");
    tb.click("#timer-toggle").await;
    tb.wait_for_text_in("#timer-toggle", "Start timer", 10)
        .await;
    wait_for_api(
        &app,
        &tech,
        &format!("/api/tickets/{id}/time-entries"),
        "a finished entry",
        |l| {
            l["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|e| !e["ended_at"].is_null()))
        },
    )
    .await;
    assert!(app.get("/api/me/timer", &tech.token).await.ok()["running"].is_null());
    // A manual entry.
    tb.fill("#time-minutes", "15").await;
    tb.fill("#time-note", "Checked the tunnel logs").await;
    tb.click(".time-add button[type=submit]").await;
    tb.wait_for_text("15m", 10).await;

    // Upload a PNG through the file input; the preview is a blob: URL of real pixels.
    let png_path = std::env::temp_dir().join(format!("vpn-error-{id}.png"));
    std::fs::write(&png_path, sample_png(96)).unwrap();
    tb.find("#attachment-file")
        .await
        .send_keys(&png_path.display().to_string())
        .await
        .unwrap();
    tb.wait_for_presence(".attachment-preview img", true, 15)
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = tb
            .execute(
                "const img = document.querySelector('.attachment-preview img');
                 return img && img.src.startsWith('blob:') && img.complete && img.naturalWidth;",
                vec![],
            )
            .await;
        if shown == 96 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the preview never loaded: {shown}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let files = app
        .get(format!("/api/tickets/{id}/attachments"), &tech.token)
        .await;
    assert_eq!(files.ok()["items"][0]["content_type"], "image/png");
    let _ = std::fs::remove_file(&png_path);

    // A reply, then resolve.
    tb.fill(
        "#composer-body",
        "Fixed: the tunnel keep-alive was set to 60 minutes. Please confirm.",
    )
    .await;
    tb.click(".composer button[type=submit]").await;
    tb.wait_for_text("keep-alive was set to 60 minutes", 10)
        .await;
    select(&tb, "#ticket-status", "resolved").await;
    wait_for_api(&app, &tech, &api_ticket, "status resolved", |t| {
        t["status"] == "resolved"
    })
    .await;

    // The customer rates the resolved ticket once; then the form is gone and the rating shows.
    let cb = Browser::open(&app.base).await;
    cb.sign_in(&customer.email, PASSWORD).await;
    cb.goto(&ticket_path).await;
    cb.wait_for_presence("#rating-submit", true, 10).await;
    assert!(
        cb.find("#ticket-close-toggle").await.text().await.unwrap() == "Reopen ticket",
        "a resolved ticket offers Reopen"
    );
    cb.click(".star-picker label:nth-of-type(4)").await;
    cb.fill("#rating-comment", "Quick and clear, thanks Tara!")
        .await;
    cb.click("#rating-submit").await;
    cb.wait_for_text("4/5", 10).await;
    let rating = app
        .get(format!("/api/tickets/{id}/rating"), &customer.token)
        .await;
    assert_eq!(rating.ok()["score"], 4);
    assert_eq!(rating.ok()["comment"], "Quick and clear, thanks Tara!");
    cb.wait_for_presence("#rating-submit", false, 5).await;
    // Customers see no staff tools.
    for staff_only in ["#ticket-status", "#timer-toggle", "#ticket-take"] {
        cb.wait_for_presence(staff_only, false, 1).await;
    }
    cb.screenshot("ticket-workspace-customer").await;

    // Staff see the rating and the history timeline.
    tb.goto(&ticket_path).await;
    tb.wait_for_text("4/5", 10).await;
    tb.click("#history-toggle").await;
    tb.wait_for_text("changed status from In progress to Blocked", 10)
        .await;
    tb.wait_for_text("assigned the ticket to Tara Tech", 10)
        .await;
    // Tall enough to show every panel in one picture.
    tb.resize(1280, 1500).await;
    tb.execute("window.scrollTo(0, 0)", vec![]).await;
    tb.screenshot("ticket-workspace").await;
    tb.resize(375, 800).await;
    tb.goto(&ticket_path).await;
    tb.wait_for_text("4/5", 10).await;
    let overflow = tb
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await;
    tb.screenshot("ticket-workspace-phone").await;
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "the page scrolls sideways at 375 px by {overflow}"
    );

    cb.close().await;
    tb.close().await;
    app.stop().await;
}
