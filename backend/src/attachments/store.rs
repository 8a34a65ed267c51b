//! Where attachment bytes live: a small trait so an S3-compatible store can follow; the
//! local implementation writes under `UPLOAD_DIR` (a shared volume for several instances).

use crate::error::{AppError, AppResult};
use futures_util::future::BoxFuture;
use std::path::PathBuf;

pub trait Store: Send + Sync {
    fn put(&self, key: String, bytes: Vec<u8>) -> BoxFuture<'static, AppResult<()>>;
    fn get(&self, key: String) -> BoxFuture<'static, AppResult<Vec<u8>>>;
    fn delete(&self, key: String) -> BoxFuture<'static, AppResult<()>>;
}

pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> LocalStore {
        LocalStore { root }
    }

    /// Keys are generated here (UUIDs), never taken from a client; still, refuse
    /// anything that is not a plain key.
    fn path(&self, key: &str) -> AppResult<PathBuf> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(AppError::internal("bad storage key"));
        }
        Ok(self.root.join(&key[..2]).join(key))
    }
}

fn io(e: std::io::Error) -> AppError {
    AppError::internal(format!("attachment store: {e}"))
}

impl Store for LocalStore {
    fn put(&self, key: String, bytes: Vec<u8>) -> BoxFuture<'static, AppResult<()>> {
        let path = self.path(&key);
        Box::pin(async move {
            let path = path?;
            actix_web::web::block(move || {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                // Write then rename: a crash never leaves a half-written file under the key.
                let tmp = path.with_extension("part");
                std::fs::write(&tmp, &bytes)?;
                std::fs::rename(&tmp, &path)
            })
            .await?
            .map_err(io)
        })
    }

    fn get(&self, key: String) -> BoxFuture<'static, AppResult<Vec<u8>>> {
        let path = self.path(&key);
        Box::pin(async move {
            let path = path?;
            actix_web::web::block(move || std::fs::read(path))
                .await?
                .map_err(io)
        })
    }

    fn delete(&self, key: String) -> BoxFuture<'static, AppResult<()>> {
        let path = self.path(&key);
        Box::pin(async move {
            let path = path?;
            actix_web::web::block(move || match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            })
            .await?
            .map_err(io)
        })
    }
}
