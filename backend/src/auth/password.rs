//! Password policy and bcrypt, always on the blocking pool so hashing never stalls
//! the async workers.

use crate::error::{AppError, AppResult};
use std::sync::OnceLock;

pub const MIN_LEN: usize = 8;
/// bcrypt reads at most 72 bytes; longer passwords are refused, never silently cut.
pub const MAX_BYTES: usize = 72;

pub fn check_policy(field: &str, password: &str) -> AppResult<()> {
    crate::error::no_nul(field, password)?;
    if password.chars().count() < MIN_LEN {
        return Err(AppError::invalid(
            field,
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

pub async fn hash(password: String, cost: u32) -> AppResult<String> {
    actix_web::web::block(move || bcrypt::hash(password, cost))
        .await?
        .map_err(|e| AppError::internal(format!("bcrypt: {e}")))
}

pub async fn verify(password: String, hash: String) -> AppResult<bool> {
    Ok(actix_web::web::block(move || bcrypt::verify(password, &hash).unwrap_or(false)).await?)
}

/// Verifies against a fixed hash of the same cost, so an unknown email costs as much
/// time as a wrong password and does not reveal which accounts exist.
pub async fn burn_time(cost: u32) -> AppResult<()> {
    static DUMMY: OnceLock<(u32, String)> = OnceLock::new();
    let dummy = match DUMMY.get() {
        Some((c, h)) if *c == cost => h.clone(),
        _ => {
            let h = hash("relay-desk-dummy-password".into(), cost).await?;
            let _ = DUMMY.set((cost, h.clone()));
            h
        }
    };
    verify("not-the-password".into(), dummy).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("password", "short").is_err());
        assert!(check_policy("password", "long enough").is_ok());
        assert!(check_policy("password", &"x".repeat(72)).is_ok());
        assert!(check_policy("password", &"x".repeat(73)).is_err());
        // 25 three-byte characters are 75 bytes: refused, not truncated.
        assert!(check_policy("password", &"€".repeat(25)).is_err());
    }
}
