//! scripts/backup and scripts/restore: a backup restored into a fresh PostgreSQL cluster
//! has every ticket, message and attachment.

use crate::common::*;
use std::path::PathBuf;
use std::process::Command;

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("scripts")
}

/// A throwaway PostgreSQL cluster started with scripts/lib.sh, stopped on drop.
struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let dir =
            std::env::temp_dir().join(format!("relay-restore-{}", uuid::Uuid::new_v4().simple()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let lib = scripts().join("lib.sh");
        let ok = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}' && start_postgres '{}' {port} fast",
                lib.display(),
                dir.display()
            ))
            .status()
            .unwrap()
            .success();
        assert!(ok, "could not start a fresh cluster");
        Cluster { dir, port }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let lib = scripts().join("lib.sh");
        let _ = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}' && stop_postgres '{}'",
                lib.display(),
                self.dir.display()
            ))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_web::test]
async fn a_backup_restores_into_a_fresh_cluster() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let t = app.ticket(&cast.customer, "keep me safe").await;
    let id = t["id"].as_i64().unwrap();
    app.message(&cast.customer, id, "first words", false)
        .await
        .ok();
    app.message(&cast.tech, id, "staff only words", true)
        .await
        .ok();
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4];
    let att = app
        .upload(id, &cast.customer.token, "shot.png", &png, None)
        .await;
    let att_url = att.ok()["url"].as_str().unwrap().to_owned();

    let out = std::env::temp_dir().join(format!("relay-backups-{}", uuid::Uuid::new_v4().simple()));
    let backup = Command::new(scripts().join("backup"))
        .arg(&out)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("UPLOAD_DIR", &app.state.config.upload_dir)
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let backup_dir = String::from_utf8(backup.stdout)
        .unwrap()
        .trim()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let cluster = Cluster::start();
    let create = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "postgres",
            "-qc",
            "CREATE DATABASE restored",
        ])
        .status()
        .unwrap();
    assert!(create.success());
    let url = format!("postgres://postgres@127.0.0.1:{}/restored", cluster.port);
    let uploads = std::env::temp_dir().join(format!(
        "relay-restored-uploads-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let restore = Command::new(scripts().join("restore"))
        .arg(&backup_dir)
        .env("DATABASE_URL", &url)
        .env("UPLOAD_DIR", &uploads)
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&restore.stderr)
    );

    let restored = TestApp::on_database(&url, uploads).await;
    let ticket = restored
        .get(format!("/api/tickets/{id}"), &cast.tech.token)
        .await;
    assert_eq!(ticket.ok()["title"], "keep me safe");
    assert_eq!(ticket.body["message_count"], 2);
    let msgs = restored
        .get(format!("/api/tickets/{id}/messages"), &cast.tech.token)
        .await;
    let bodies: Vec<&str> = msgs.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["first words", "staff only words"]);
    let mut res = restored
        .client
        .get(format!("{}{att_url}", restored.base))
        .bearer_auth(&cast.customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.body().await.unwrap().as_ref(), &png);
    // New tickets continue the numbering.
    let next = restored.ticket(&cast.customer, "after restore").await;
    assert!(next["number"].as_str().unwrap().ends_with("-0002"));
    restored.stop().await;
    app.stop().await;
    drop(cluster);
    let _ = std::fs::remove_dir_all(out);
}
