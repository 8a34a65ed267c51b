//! Status and priority pills, and the initials avatar. Colours come from the CSS tokens.

use relay_protocol::tickets::{Priority, TicketStatus};
use yew::prelude::*;

use crate::format::{initials, priority_label, status_label};

#[derive(Properties, PartialEq)]
pub struct StatusBadgeProps {
    pub status: TicketStatus,
}

#[function_component(StatusBadge)]
pub fn status_badge(props: &StatusBadgeProps) -> Html {
    html! {
        <span class={classes!("badge", format!("status-{}", props.status.as_str()))}>
            { status_label(props.status) }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct PriorityBadgeProps {
    pub priority: Priority,
}

#[function_component(PriorityBadge)]
pub fn priority_badge(props: &PriorityBadgeProps) -> Html {
    html! {
        <span class={classes!("badge", "priority", format!("priority-{}", props.priority.as_str()))}>
            <span class="visually-hidden">{ "Priority: " }</span>
            { priority_label(props.priority) }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct AvatarProps {
    pub name: AttrValue,
    #[prop_or_default]
    pub staff: bool,
}

/// Decorative: the name is always written next to it.
#[function_component(Avatar)]
pub fn avatar(props: &AvatarProps) -> Html {
    html! {
        <span class={classes!("avatar", props.staff.then_some("avatar-staff"))} aria-hidden="true">
            { initials(&props.name) }
        </span>
    }
}
