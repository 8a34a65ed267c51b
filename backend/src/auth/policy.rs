//! Who may do what: SPEC §1's permission matrix as data, in one place. REST handlers,
//! WebSocket joins and every live delivery ask these functions; nothing re-implements
//! them with ad-hoc `if`s.

use super::Actor;
use crate::error::{AppError, AppResult};
use relay_protocol::messages::MessageKind;
use relay_protocol::tickets::TicketStatus;
use relay_protocol::users::Role;

/// What the policy needs to know about a ticket.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts {
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub status: TicketStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketAction {
    View,
    ReplyPublic,
    AddInternalNote,
    SetStatus(TicketStatus),
    SetPriority,
    SetCategory,
    /// Title and description.
    EditDetails,
    EditTags,
    /// Set the assignee to this user (`None`: unassign).
    Assign(Option<i64>),
    TrackTime,
    Link,
    Rate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskAction {
    ManageUsers,
    ManageCategories,
    ManageSettings,
    /// See the list of staff (for assignment pickers).
    ListStaff,
    /// Create a ticket whose requester is this user.
    CreateTicketFor(i64),
    ViewAllAnalytics,
    ViewOwnStats,
    ReadAllTimeEntries,
}

/// May `actor` see this ticket at all? Customers: their own only.
pub fn can_see_ticket(actor_id: i64, role: Role, t: &TicketFacts) -> bool {
    role.is_staff() || t.requester_id == actor_id
}

/// May a user with `role` see a message of `kind`? Internal notes are staff-only,
/// everywhere: REST, WebSocket replay and live delivery, search, counts.
pub fn can_see_message(role: Role, kind: MessageKind) -> bool {
    role.is_staff() || kind != MessageKind::Internal
}

/// The message kinds `role` may see, for query filters.
pub fn visible_kinds(role: Role) -> &'static [&'static str] {
    if role.is_staff() {
        &["public", "internal", "system"]
    } else {
        &["public", "system"]
    }
}

fn customer_may_set_status(from: TicketStatus, to: TicketStatus) -> bool {
    // Close their own ticket, or reopen it once it is resolved or closed.
    (to == TicketStatus::Closed && from != TicketStatus::Closed)
        || (from.is_done() && to == TicketStatus::Open)
}

fn allows_ticket(actor: &Actor, t: &TicketFacts, action: TicketAction) -> bool {
    let staff = actor.role.is_staff();
    let own = t.requester_id == actor.id;
    match action {
        TicketAction::View | TicketAction::ReplyPublic => staff || own,
        TicketAction::SetStatus(to) => staff || (own && customer_may_set_status(t.status, to)),
        TicketAction::AddInternalNote
        | TicketAction::SetPriority
        | TicketAction::SetCategory
        | TicketAction::EditDetails
        | TicketAction::EditTags
        | TicketAction::TrackTime
        | TicketAction::Link => staff,
        TicketAction::Assign(target) => match actor.role {
            Role::Customer => false,
            // Technicians take and release for themselves only; taking a ticket
            // someone else holds is a supervisor's call.
            Role::Technician => match target {
                Some(id) => {
                    id == actor.id && (t.assignee_id.is_none() || t.assignee_id == Some(actor.id))
                }
                None => t.assignee_id == Some(actor.id),
            },
            Role::Supervisor | Role::Admin => true,
        },
        TicketAction::Rate => own && !staff,
    }
}

/// 404 when the actor may not even know the ticket exists, 403 when they may see it
/// but not do this.
pub fn check_ticket(actor: &Actor, t: &TicketFacts, action: TicketAction) -> AppResult<()> {
    if !can_see_ticket(actor.id, actor.role, t) {
        return Err(AppError::not_found("ticket"));
    }
    if allows_ticket(actor, t, action) {
        Ok(())
    } else {
        Err(AppError::forbidden(match action {
            TicketAction::SetStatus(_) => "you may not make this status change",
            TicketAction::Assign(_) => "you may not make this assignment",
            TicketAction::AddInternalNote => "only staff can write internal notes",
            _ => "only staff can do this",
        }))
    }
}

pub fn allows_desk(actor: &Actor, action: DeskAction) -> bool {
    match action {
        DeskAction::ManageUsers | DeskAction::ManageCategories | DeskAction::ManageSettings => {
            actor.role == Role::Admin
        }
        DeskAction::ListStaff | DeskAction::ViewOwnStats => actor.role.is_staff(),
        DeskAction::CreateTicketFor(requester) => actor.role.is_staff() || requester == actor.id,
        DeskAction::ViewAllAnalytics | DeskAction::ReadAllTimeEntries => {
            matches!(actor.role, Role::Supervisor | Role::Admin)
        }
    }
}

pub fn check_desk(actor: &Actor, action: DeskAction) -> AppResult<()> {
    if allows_desk(actor, action) {
        Ok(())
    } else {
        Err(AppError::forbidden("your role does not allow this"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            id,
            role,
            name: format!("u{id}"),
            email: format!("u{id}@x.test"),
        }
    }

    const OWNER: i64 = 1;
    const OTHER_CUSTOMER: i64 = 2;
    const TECH: i64 = 3;
    const OTHER_TECH: i64 = 4;

    fn ticket(status: TicketStatus, assignee: Option<i64>) -> TicketFacts {
        TicketFacts {
            requester_id: OWNER,
            assignee_id: assignee,
            status,
        }
    }

    /// (action, ticket assignee, customer-owner, other customer, technician, supervisor, admin)
    #[test]
    fn matrix() {
        use TicketAction::*;
        use TicketStatus::*;
        let rows: Vec<(TicketAction, TicketStatus, Option<i64>, [bool; 5])> = vec![
            (View, Open, None, [true, false, true, true, true]),
            (ReplyPublic, Open, None, [true, false, true, true, true]),
            (
                AddInternalNote,
                Open,
                None,
                [false, false, true, true, true],
            ),
            (
                SetStatus(Closed),
                Open,
                None,
                [true, false, true, true, true],
            ),
            (
                SetStatus(Open),
                Resolved,
                None,
                [true, false, true, true, true],
            ),
            (
                SetStatus(Open),
                Closed,
                None,
                [true, false, true, true, true],
            ),
            (
                SetStatus(Resolved),
                Open,
                None,
                [false, false, true, true, true],
            ),
            (
                SetStatus(Pending),
                Open,
                None,
                [false, false, true, true, true],
            ),
            (SetPriority, Open, None, [false, false, true, true, true]),
            (SetCategory, Open, None, [false, false, true, true, true]),
            (EditTags, Open, None, [false, false, true, true, true]),
            (TrackTime, Open, None, [false, false, true, true, true]),
            (
                Assign(Some(TECH)),
                Open,
                None,
                [false, false, true, true, true],
            ),
            (
                Assign(Some(OTHER_TECH)),
                Open,
                None,
                [false, false, false, true, true],
            ),
            (
                Assign(Some(TECH)),
                InProgress,
                Some(OTHER_TECH),
                [false, false, false, true, true],
            ),
            (
                Assign(None),
                InProgress,
                Some(TECH),
                [false, false, true, true, true],
            ),
            (
                Assign(None),
                InProgress,
                Some(OTHER_TECH),
                [false, false, false, true, true],
            ),
            (Rate, Resolved, None, [true, false, false, false, false]),
        ];
        let actors = [
            actor(OWNER, Role::Customer),
            actor(OTHER_CUSTOMER, Role::Customer),
            actor(TECH, Role::Technician),
            actor(5, Role::Supervisor),
            actor(6, Role::Admin),
        ];
        for (action, status, assignee, expected) in rows {
            let t = ticket(status, assignee);
            for (a, want) in actors.iter().zip(expected) {
                let got = check_ticket(a, &t, action);
                assert_eq!(
                    got.is_ok(),
                    want,
                    "{action:?} on {status:?} by {:?} {}",
                    a.role,
                    a.id
                );
            }
        }
    }

    #[test]
    fn other_customers_get_404_not_403() {
        let t = ticket(TicketStatus::Open, None);
        let err = check_ticket(
            &actor(OTHER_CUSTOMER, Role::Customer),
            &t,
            TicketAction::View,
        )
        .unwrap_err();
        assert_eq!(err.body().code, relay_protocol::ErrorCode::NotFound);
    }

    #[test]
    fn desk_matrix() {
        use DeskAction::*;
        let roles = [
            Role::Customer,
            Role::Technician,
            Role::Supervisor,
            Role::Admin,
        ];
        let rows: Vec<(DeskAction, [bool; 4])> = vec![
            (ManageUsers, [false, false, false, true]),
            (ManageCategories, [false, false, false, true]),
            (ManageSettings, [false, false, false, true]),
            (ListStaff, [false, true, true, true]),
            (CreateTicketFor(99), [false, true, true, true]),
            (ViewAllAnalytics, [false, false, true, true]),
            (ViewOwnStats, [false, true, true, true]),
            (ReadAllTimeEntries, [false, false, true, true]),
        ];
        for (action, expected) in rows {
            for (role, want) in roles.iter().zip(expected) {
                assert_eq!(
                    allows_desk(&actor(10, *role), action),
                    want,
                    "{action:?} {role:?}"
                );
            }
        }
        assert!(allows_desk(&actor(10, Role::Customer), CreateTicketFor(10)));
    }

    #[test]
    fn internal_notes_are_staff_only() {
        assert!(!can_see_message(Role::Customer, MessageKind::Internal));
        assert!(can_see_message(Role::Customer, MessageKind::Public));
        assert!(can_see_message(Role::Technician, MessageKind::Internal));
        assert!(!visible_kinds(Role::Customer).contains(&"internal"));
    }
}
