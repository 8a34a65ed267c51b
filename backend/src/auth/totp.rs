//! Optional TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, one step of skew).

use crate::error::{AppError, AppResult};
use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

fn totp(secret_b32: &str, account: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|_| AppError::internal("stored TOTP secret is not base32"))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some("Relay Desk"))
        .with_account_name(account)
        .build()
        .map_err(|e| AppError::internal(format!("totp: {e}")))
}

/// A fresh 160-bit secret, base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new_stack(bytes).to_base32()
}

pub fn otpauth_url(secret_b32: &str, account: &str) -> AppResult<String> {
    totp(secret_b32, account)?
        .to_url()
        .map_err(|e| AppError::internal(format!("totp url: {e}")))
}

pub fn verify(secret_b32: &str, account: &str, code: &str) -> AppResult<bool> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    Ok(totp(secret_b32, account)?.check_current(code).is_some())
}

/// The current code (tests and tools).
pub fn current_code(secret_b32: &str, account: &str) -> AppResult<String> {
    Ok(totp(secret_b32, account)?.generate_current().to_string())
}

/// A staff account without a second factor on a desk that requires one: such a user
/// may only reach their own account endpoints until they set one up.
pub fn setup_required(
    conn: &mut diesel::PgConnection,
    user: &crate::users::model::User,
) -> AppResult<bool> {
    if user.totp_enabled || !user.role().is_staff() {
        return Ok(false);
    }
    crate::admin::queries::require_totp_for_staff(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_code_verifies() {
        let s = new_secret();
        let code = current_code(&s, "a@b.c").unwrap();
        assert!(verify(&s, "a@b.c", &code).unwrap());
        assert!(!verify(&s, "a@b.c", "000000x").unwrap());
        assert!(otpauth_url(&s, "a@b.c")
            .unwrap()
            .starts_with("otpauth://totp/"));
    }
}
