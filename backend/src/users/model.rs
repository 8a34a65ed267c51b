//! User rows and forms.

use crate::db::schema::users;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::users::{Role, UserSummary, UserView};
use relay_protocol::UserId;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub token_version: i32,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub email_opt_out: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
    pub token_version: Option<i32>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl User {
    /// The CHECK constraint guarantees a known role; fall back to the least privilege.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Customer)
    }

    pub fn view(&self) -> UserView {
        UserView {
            id: UserId(self.id),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role(),
            active: self.active,
            totp_enabled: self.totp_enabled,
            totp_setup_required: false,
            created_at: self.created_at,
        }
    }

    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: UserId(self.id),
            name: self.name.clone(),
            role: self.role(),
        }
    }
}

/// Normalises and checks an email address: trimmed, lower-case, one `@`, sane length.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err("is not an email address");
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') || email.len() > 254 {
        return Err("is not an email address");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not an email address");
    }
    Ok(email)
}

pub fn normalize_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("is required");
    }
    if name.chars().count() > 120 {
        return Err("must be at most 120 characters");
    }
    if name.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters");
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        assert!(normalize_email("nope").is_err());
        assert!(normalize_email("@x").is_err());
        assert!(normalize_email("a@b@c").is_err());
        assert!(normalize_email("a b@c").is_err());
    }
}
