//! Uploads and downloads: size limit, content sniffing, harmless names, visibility.

use crate::common::*;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
];
const ELF: &[u8] = &[
    0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0,
];

#[actix_web::test]
async fn uploads_are_sniffed_limited_named_safely_and_served_as_downloads() {
    let app = TestApp::start_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let cast = Cast::new(&app).await;
    let id = app.ticket(&cast.customer, "files").await["id"]
        .as_i64()
        .unwrap();

    let ok = app
        .upload(id, &cast.customer.token, "../../etc/passwd.png", PNG, None)
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["filename"], "passwd.png");
    assert_eq!(ok.body["content_type"], "image/png");
    let url = ok.body["url"].as_str().unwrap().to_owned();

    let before = app.counts();
    app.upload(id, &cast.customer.token, "cat.png", ELF, None)
        .await
        .expect_error(415, "unsupported_media_type");
    app.upload(
        id,
        &cast.customer.token,
        "big.txt",
        &vec![b'a'; 70 * 1024],
        None,
    )
    .await
    .expect_error(413, "payload_too_large");
    app.upload(id, &cast.other_customer.token, "x.png", PNG, None)
        .await
        .expect_error(404, "not_found");
    assert_eq!(app.counts(), before);

    // Downloads: always an attachment, never sniffed by the browser.
    let mut res = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(&cast.tech.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(
        h.get("content-disposition").unwrap(),
        "attachment; filename*=UTF-8''passwd.png"
    );
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("content-type").unwrap(), "image/png");
    assert_eq!(res.body().await.unwrap().as_ref(), PNG);
    // The file on disk sits under a random key, not the client's name.
    let stored: Vec<_> = walk(&app.state.config.upload_dir);
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].to_string_lossy().contains("passwd"));
    app.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[actix_web::test]
async fn attachments_on_internal_notes_are_staff_only() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let id = app.ticket(&cast.customer, "secret file").await["id"]
        .as_i64()
        .unwrap();
    let note = app
        .message(&cast.tech, id, "see the attached log", true)
        .await;
    let note_id = note.ok()["id"].as_i64().unwrap();
    let public = app
        .message(&cast.tech, id, "here is the guide", false)
        .await;
    let public_id = public.ok()["id"].as_i64().unwrap();

    let secret = app
        .upload(
            id,
            &cast.tech.token,
            "CANARY.txt",
            b"CANARY internal log\n",
            Some(note_id),
        )
        .await;
    assert_eq!(secret.status, 201, "{}", secret.body);
    let guide = app
        .upload(
            id,
            &cast.tech.token,
            "guide.txt",
            b"step 1\n",
            Some(public_id),
        )
        .await;
    assert_eq!(guide.status, 201);
    // A customer may not attach to the internal note either.
    app.upload(id, &cast.customer.token, "x.txt", b"x\n", Some(note_id))
        .await
        .expect_error(403, "forbidden");

    let secret_url = secret.body["url"].as_str().unwrap().to_owned();
    let c = app
        .send("GET", &secret_url, Some(&cast.customer.token), None)
        .await;
    c.expect_error(404, "not_found");
    let t = app
        .send("GET", &secret_url, Some(&cast.tech.token), None)
        .await;
    assert_eq!(t.status, 200);
    let guide_url = guide.body["url"].as_str().unwrap().to_owned();
    assert_eq!(
        app.send("GET", &guide_url, Some(&cast.customer.token), None)
            .await
            .status,
        200
    );
    app.send("GET", &guide_url, Some(&cast.other_customer.token), None)
        .await
        .expect_error(404, "not_found");

    let listed = app
        .get(
            format!("/api/tickets/{id}/attachments"),
            &cast.customer.token,
        )
        .await;
    let names: Vec<&str> = listed.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["guide.txt"]);
    assert_eq!(
        app.get(format!("/api/tickets/{id}/attachments"), &cast.tech.token)
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.stop().await;
}
