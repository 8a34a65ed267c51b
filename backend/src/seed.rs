//! `create-admin` and `seed-demo`: accounts and a small, realistic data set for a first
//! look. Everything goes through the same queries the API uses.

use crate::auth::Actor;
use crate::config::Config;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::messages::queries as messages;
use crate::tickets::queries as tickets;
use crate::users::model::{normalize_email, NewUser, User, UserChanges};
use crate::users::queries as users;
use diesel::PgConnection;
use relay_protocol::tickets::{CreateTicketRequest, Priority, TicketStatus, UpdateTicketRequest};
use relay_protocol::users::Role;
use relay_protocol::{CategoryId, UserId};

pub const DEMO_PASSWORD: &str = "relaydesk-demo";

fn connect(config: &Config) -> AppResult<db::PgConn> {
    let pool = db::build_pool(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

fn hash(password: &str, cost: u32) -> AppResult<String> {
    crate::auth::password::check_policy("password", password)?;
    bcrypt::hash(password, cost).map_err(|e| AppError::internal(format!("bcrypt: {e}")))
}

/// Creates an admin, or makes an existing account an active admin with this password.
pub fn create_admin(config: &Config, email: &str, name: &str, password: &str) -> AppResult<User> {
    let mut conn = connect(config)?;
    let email = normalize_email(email).map_err(|p| AppError::invalid("email", p))?;
    let hash = hash(password, config.bcrypt_cost)?;
    match users::find_by_email(&mut conn, &email)? {
        Some(u) => users::update(
            &mut conn,
            u.id,
            UserChanges {
                role: Some("admin".into()),
                active: Some(true),
                password_hash: Some(hash),
                name: Some(name.trim().to_owned()),
                ..Default::default()
            },
        ),
        None => users::insert(
            &mut conn,
            &NewUser {
                email: &email,
                name: name.trim(),
                role: "admin",
                password_hash: &hash,
            },
        ),
    }
}

fn actor(u: &User) -> Actor {
    Actor {
        id: u.id,
        role: u.role(),
        name: u.name.clone(),
        email: u.email.clone(),
    }
}

fn user(
    conn: &mut PgConnection,
    email: &str,
    name: &str,
    role: Role,
    hash: &str,
) -> AppResult<User> {
    users::insert(
        conn,
        &NewUser {
            email,
            name,
            role: role.as_str(),
            password_hash: hash,
        },
    )
}

pub fn seed_demo(config: &Config) -> AppResult<()> {
    let mut conn = connect(config)?;
    let conn = &mut *conn;
    if users::find_by_email(conn, "admin@demo.relaydesk")?.is_some() {
        println!("demo data already present");
        print_logins();
        return Ok(());
    }
    let hash = hash(DEMO_PASSWORD, config.bcrypt_cost.min(10))?;
    let admin = user(
        conn,
        "admin@demo.relaydesk",
        "Ada Admin",
        Role::Admin,
        &hash,
    )?;
    let sup = user(
        conn,
        "supervisor@demo.relaydesk",
        "Sam Supervisor",
        Role::Supervisor,
        &hash,
    )?;
    let tech = user(
        conn,
        "tech@demo.relaydesk",
        "Tara Technician",
        Role::Technician,
        &hash,
    )?;
    let tech2 = user(
        conn,
        "tech2@demo.relaydesk",
        "Theo Technician",
        Role::Technician,
        &hash,
    )?;
    let cust = user(
        conn,
        "customer@demo.relaydesk",
        "Cora Customer",
        Role::Customer,
        &hash,
    )?;
    let cust2 = user(
        conn,
        "customer2@demo.relaydesk",
        "Carl Customer",
        Role::Customer,
        &hash,
    )?;
    let _ = (&admin, &sup);

    use crate::categories::queries::insert as cat;
    let hw = cat(
        conn,
        "Hardware",
        "Laptops, printers and peripherals",
        None,
        0,
    )?;
    let laptops = cat(conn, "Laptops", "", Some(hw.id.0), 0)?;
    let printers = cat(conn, "Printers", "", Some(hw.id.0), 1)?;
    let sw = cat(conn, "Software", "Applications and licences", None, 1)?;
    let email = cat(conn, "Email", "", Some(sw.id.0), 0)?;
    let vpn = cat(conn, "VPN", "", Some(sw.id.0), 1)?;
    let acc = cat(conn, "Accounts", "Sign-in and access", None, 2)?;
    let pw = cat(conn, "Password reset", "", Some(acc.id.0), 0)?;

    let (c, c2, t, t2) = (actor(&cust), actor(&cust2), actor(&tech), actor(&tech2));
    let new = |title: &str, desc: &str, p: Priority, cat: CategoryId, who: Option<i64>| {
        CreateTicketRequest {
            title: title.into(),
            description: desc.into(),
            priority: Some(p),
            category_id: Some(cat),
            requester_id: who.map(UserId),
            tags: vec![],
        }
    };
    let t1 = tickets::create(
        conn,
        &c,
        &new(
            "Laptop will not boot after update",
            "It shows a black screen with a blinking cursor since this morning's update.",
            Priority::High,
            laptops.id,
            None,
        ),
    )?;
    tickets::assign(conn, &t, t1.id, Some(t.id))?;
    messages::post(
        conn,
        &c,
        t1.id,
        "Hi, I have a client demo at 3pm, any chance this can be looked at soon?",
        false,
        None,
    )?;
    messages::post(conn, &t, t1.id, "Hi Cora, I'm on it. Can you try holding the power button for 15 seconds and booting again?", false, None)?;
    messages::post(
        conn,
        &t,
        t1.id,
        "Probably the firmware update from Tuesday; check the BIOS version.",
        true,
        None,
    )?;
    messages::post(
        conn,
        &c,
        t1.id,
        "Tried it, still black screen.",
        false,
        None,
    )?;

    let t2_ = tickets::create(
        conn,
        &c,
        &new(
            "Cannot connect to VPN from home",
            "The client says 'authentication failed' although my password works for email.",
            Priority::Medium,
            vpn.id,
            None,
        ),
    )?;
    messages::post(
        conn,
        &c,
        t2_.id,
        "Error code 809 if that helps.",
        false,
        None,
    )?;

    let t3 = tickets::create(
        conn,
        &c2,
        &new(
            "Printer on floor 2 jams constantly",
            "",
            Priority::Low,
            printers.id,
            None,
        ),
    )?;
    tickets::assign(conn, &t2, t3.id, Some(t2.id))?;
    messages::post(
        conn,
        &t2,
        t3.id,
        "Replaced the pickup roller, please let me know if it happens again.",
        false,
        None,
    )?;
    tickets::update(
        conn,
        &t2,
        t3.id,
        &UpdateTicketRequest {
            status: Some(TicketStatus::Resolved),
            ..Default::default()
        },
    )?;

    let t4 = tickets::create(
        conn,
        &c2,
        &new(
            "Shared mailbox missing in Outlook",
            "The support@ shared mailbox disappeared from my Outlook sidebar.",
            Priority::Urgent,
            email.id,
            None,
        ),
    )?;
    messages::post(
        conn,
        &c2,
        t4.id,
        "This is blocking our whole team from answering customers.",
        false,
        None,
    )?;
    tickets::create(
        conn,
        &t,
        &new(
            "Password reset for new hire",
            "Account for the new hire in accounting needs a reset.",
            Priority::Medium,
            pw.id,
            Some(cust2.id),
        ),
    )?;

    println!("demo data loaded");
    print_logins();
    Ok(())
}

fn print_logins() {
    println!("demo logins (password: {DEMO_PASSWORD}):");
    for (role, email) in [
        ("admin", "admin@demo.relaydesk"),
        ("supervisor", "supervisor@demo.relaydesk"),
        ("technician", "tech@demo.relaydesk"),
        ("technician", "tech2@demo.relaydesk"),
        ("customer", "customer@demo.relaydesk"),
        ("customer", "customer2@demo.relaydesk"),
    ] {
        println!("  {role:<11} {email}");
    }
}
