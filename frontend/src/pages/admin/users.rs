//! Users and roles: search and filter, create accounts, change name, email and role, reset
//! a password, deactivate and reactivate. Users own tickets and messages, so they are never
//! deleted; the server refuses to leave the desk without an active admin (409 `last_admin`).

use chrono::Utc;
use gloo::timers::callback::Timeout;
use relay_protocol::users::{CreateUserRequest, Role, UpdateUserRequest, UserListQuery, UserView};
use relay_protocol::{ErrorCode, UserId};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::explain;
use crate::api::{self, ApiError};
use crate::components::badges::Avatar;
use crate::components::flash::{flash, use_flashes, FlashStack, Tone};
use crate::components::form::{bind, select_value, TextField};
use crate::components::notice::{EmptyState, ErrorNotice, Loading};
use crate::format::{local_timestamp, relative_time, role_label};
use crate::state::use_session;

const SEARCH_DEBOUNCE_MS: u32 = 300;

/// The editable fields of an account, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub name: String,
    pub email: String,
    pub role: Role,
    /// Empty: keep the current password.
    pub password: String,
}

impl Draft {
    pub fn of(u: &UserView) -> Draft {
        Draft {
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            password: String::new(),
        }
    }
}

/// Only what changed, so an unchanged email is not re-validated (or re-checked for reuse).
pub fn changes(original: &UserView, draft: &Draft) -> UpdateUserRequest {
    let name = draft.name.trim();
    let email = draft.email.trim();
    UpdateUserRequest {
        name: (name != original.name).then(|| name.to_owned()),
        email: (!email.eq_ignore_ascii_case(&original.email)).then(|| email.to_owned()),
        role: (draft.role != original.role).then_some(draft.role),
        active: None,
        password: (!draft.password.is_empty()).then(|| draft.password.clone()),
    }
}

pub fn is_empty(u: &UpdateUserRequest) -> bool {
    *u == UpdateUserRequest::default()
}

/// "must be at least 8 characters" -> "Must be at least 8 characters".
pub fn sentence(msg: &str) -> String {
    let mut chars = msg.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn field(e: &Option<ApiError>, name: &str) -> Option<String> {
    let e = e.as_ref()?;
    if name == "email" && e.code == ErrorCode::EmailTaken {
        return Some(explain(e));
    }
    e.field(name).map(sentence)
}

/// Replaces (or adds) a user in the list.
pub fn replace(list: &[UserView], user: UserView) -> Vec<UserView> {
    let mut next = list.to_vec();
    match next.iter_mut().find(|u| u.id == user.id) {
        Some(slot) => *slot = user,
        None => next.insert(0, user),
    }
    next
}

#[function_component(UsersTab)]
pub fn users_tab() -> Html {
    let session = use_session();
    let me = session.user.as_ref().map(|u| u.id);
    let users = use_state(Vec::<UserView>::new);
    let loading = use_state(|| true);
    let error = use_state(|| None::<ApiError>);
    let draft_search = use_state(String::new);
    let search = use_state(String::new);
    let role = use_state(|| None::<Role>);
    let creating = use_state(|| false);
    let editing = use_state(|| None::<UserId>);
    let confirming = use_state(|| None::<UserId>);
    let busy = use_state(|| None::<UserId>);
    let reload = use_state(|| 0u32);
    let flashes = use_flashes();
    let generation = use_mut_ref(|| 0u64);

    {
        let (users, loading, error, generation) = (
            users.clone(),
            loading.clone(),
            error.clone(),
            generation.clone(),
        );
        use_effect_with(
            ((*search).clone(), *role, *reload),
            move |(search, role, _)| {
                let gen = {
                    let mut g = generation.borrow_mut();
                    *g += 1;
                    *g
                };
                loading.set(true);
                let q = search.trim();
                let query = UserListQuery {
                    role: *role,
                    active: None,
                    q: (!q.is_empty()).then(|| q.to_owned()),
                };
                spawn_local(async move {
                    let result = api::users::list(&query).await;
                    if *generation.borrow() != gen {
                        return;
                    }
                    match result {
                        Ok(list) => {
                            error.set(None);
                            users.set(list.items);
                        }
                        Err(e) => error.set(Some(e)),
                    }
                    loading.set(false);
                });
            },
        );
    }
    {
        let search = search.clone();
        use_effect_with((*draft_search).clone(), move |draft| {
            let draft = draft.clone();
            let t = Timeout::new(SEARCH_DEBOUNCE_MS, move || search.set(draft));
            move || drop(t)
        });
    }

    let on_search = {
        let draft_search = draft_search.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                draft_search.set(input.value());
            }
        })
    };
    let on_role = {
        let role = role.clone();
        Callback::from(move |e: Event| {
            role.set(select_value(&e).as_deref().and_then(Role::parse));
        })
    };
    let on_created = {
        let (users, creating, flashes) = (users.clone(), creating.clone(), flashes.dispatcher());
        Callback::from(move |u: UserView| {
            flash(
                &flashes,
                Tone::Success,
                format!("{} can now sign in as {}.", u.name, role_label(u.role)),
            );
            users.set(replace(&users, u));
            creating.set(false);
        })
    };
    let on_saved = {
        let (users, editing, flashes) = (users.clone(), editing.clone(), flashes.dispatcher());
        Callback::from(move |u: UserView| {
            flash(&flashes, Tone::Success, format!("Saved {}.", u.name));
            users.set(replace(&users, u));
            editing.set(None);
        })
    };
    let set_active = {
        let (users, busy, confirming, flashes) = (
            users.clone(),
            busy.clone(),
            confirming.clone(),
            flashes.dispatcher(),
        );
        Callback::from(move |(user, active): (UserView, bool)| {
            busy.set(Some(user.id));
            confirming.set(None);
            let (users, busy, flashes) = (users.clone(), busy.clone(), flashes.clone());
            spawn_local(async move {
                let result = if active {
                    let body = UpdateUserRequest {
                        active: Some(true),
                        ..Default::default()
                    };
                    api::users::update(user.id, &body).await
                } else {
                    api::users::deactivate(user.id).await.map(|()| UserView {
                        active: false,
                        ..user.clone()
                    })
                };
                match result {
                    Ok(u) => {
                        let verb = if active { "reactivated" } else { "deactivated" };
                        flash(&flashes, Tone::Success, format!("{} {verb}.", u.name));
                        users.set(replace(&users, u));
                    }
                    Err(e) => flash(
                        &flashes,
                        Tone::Error,
                        format!("Could not change {}: {}", user.name, explain(&e)),
                    ),
                }
                busy.set(None);
            });
        })
    };

    let now = Utc::now();
    let rows = users.iter().map(|u| {
        let mine = Some(u.id) == me;
        let is_busy = *busy == Some(u.id);
        let edit = {
            let (editing, confirming, id) = (editing.clone(), confirming.clone(), u.id);
            Callback::from(move |_: MouseEvent| {
                confirming.set(None);
                editing.set(if *editing == Some(id) { None } else { Some(id) });
            })
        };
        let actions = if !u.active {
            let (set_active, user) = (set_active.clone(), u.clone());
            html! {
                <button type="button" class="btn btn-small" disabled={is_busy}
                    onclick={move |_| set_active.emit((user.clone(), true))}>{ "Reactivate" }</button>
            }
        } else if mine {
            html! {}
        } else if *confirming == Some(u.id) {
            let (set_active, user, confirming) = (set_active.clone(), u.clone(), confirming.clone());
            html! {
                <>
                    <button type="button" class="btn btn-small btn-danger" disabled={is_busy}
                        onclick={move |_| set_active.emit((user.clone(), false))}>{ "Confirm deactivate" }</button>
                    <button type="button" class="btn btn-small btn-ghost"
                        onclick={move |_| confirming.set(None)}>{ "Cancel" }</button>
                </>
            }
        } else {
            let (confirming, id) = (confirming.clone(), u.id);
            html! {
                <button type="button" class="btn btn-small btn-ghost danger-text"
                    onclick={move |_| confirming.set(Some(id))}>{ "Deactivate" }</button>
            }
        };
        let editor = (*editing == Some(u.id)).then(|| {
            let editing = editing.clone();
            html! {
                <tr class="row-editor">
                    <td colspan="6">
                        <UserEditor user={u.clone()} on_saved={on_saved.clone()}
                            on_cancel={Callback::from(move |_| editing.set(None))} />
                    </td>
                </tr>
            }
        });
        html! {
            <>
                <tr class={classes!((!u.active).then_some("row-inactive"))} data-user-id={u.id.to_string()}>
                    <th scope="row">
                        <span class="agent-cell">
                            <Avatar name={u.name.clone()} staff={u.role.is_staff()} />
                            <span class="cell-stack">
                                <span class="cell-strong">
                                    { u.name.clone() }
                                    if mine { <span class="muted">{ " (you)" }</span> }
                                </span>
                                <span class="muted cell-small">{ u.email.clone() }</span>
                            </span>
                        </span>
                    </th>
                    <td><span class={classes!("badge", "role-badge", format!("role-{}", u.role.as_str()))}>{ role_label(u.role) }</span></td>
                    <td>
                        if u.active {
                            <span class="badge state-on">{ "Active" }</span>
                        } else {
                            <span class="badge state-off">{ "Deactivated" }</span>
                        }
                    </td>
                    <td>{ if u.totp_enabled { "On" } else { "Off" } }</td>
                    <td><time datetime={u.created_at.to_rfc3339()} title={local_timestamp(u.created_at)}>
                        { relative_time(u.created_at, now) }</time></td>
                    <td>
                        <div class="row-actions">
                            <button type="button" class="btn btn-small" onclick={edit}
                                aria-expanded={(*editing == Some(u.id)).to_string()}>{ "Edit" }</button>
                            { actions }
                        </div>
                    </td>
                </tr>
                { for editor }
            </>
        }
    });

    let body = if *loading && users.is_empty() {
        html! { <Loading label="Loading users…" /> }
    } else if let Some(e) = (*error).clone() {
        html! { <ErrorNotice error={e} on_retry={{ let r = reload.clone(); Callback::from(move |_| r.set(*r + 1)) }} /> }
    } else if users.is_empty() {
        html! { <EmptyState title="No users match" /> }
    } else {
        html! {
            <div class="table-scroll card card-flush">
                <table class="data-table" id="users-table">
                    <thead>
                        <tr>
                            <th scope="col">{ "User" }</th>
                            <th scope="col">{ "Role" }</th>
                            <th scope="col">{ "Status" }</th>
                            <th scope="col">{ "2FA" }</th>
                            <th scope="col">{ "Joined" }</th>
                            <th scope="col"><span class="visually-hidden">{ "Actions" }</span></th>
                        </tr>
                    </thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        }
    };

    html! {
        <div class="stack">
            <div class="toolbar">
                <div class="field field-inline grow">
                    <label for="user-search" class="visually-hidden">{ "Search users" }</label>
                    <input id="user-search" type="search" placeholder="Search name or email…"
                        value={(*draft_search).clone()} oninput={on_search} autocomplete="off" />
                </div>
                <div class="field field-inline">
                    <label for="user-role" class="visually-hidden">{ "Role" }</label>
                    <select id="user-role" onchange={on_role}>
                        <option value="" selected={role.is_none()}>{ "All roles" }</option>
                        { for Role::ALL.iter().map(|r| html! {
                            <option value={r.as_str()} selected={*role == Some(*r)}>{ role_label(*r) }</option>
                        }) }
                    </select>
                </div>
                if !*creating {
                    <button type="button" class="btn btn-primary" id="user-new"
                        onclick={{ let c = creating.clone(); move |_| c.set(true) }}>{ "New user" }</button>
                }
            </div>
            if *creating {
                <NewUser on_created={on_created}
                    on_cancel={{ let c = creating.clone(); Callback::from(move |_| c.set(false)) }} />
            }
            { body }
            <FlashStack flashes={flashes.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct NewUserProps {
    on_created: Callback<UserView>,
    on_cancel: Callback<()>,
}

#[function_component(NewUser)]
fn new_user(props: &NewUserProps) -> Html {
    let name = use_state(String::new);
    let email = use_state(String::new);
    let role = use_state(|| Role::Technician);
    let password = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);

    let onsubmit = {
        let (name, email, role, password, error, busy) = (
            name.clone(),
            email.clone(),
            role.clone(),
            password.clone(),
            error.clone(),
            busy.clone(),
        );
        let on_created = props.on_created.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let body = CreateUserRequest {
                name: name.trim().to_owned(),
                email: email.trim().to_owned(),
                role: *role,
                password: (*password).clone(),
            };
            let (error, busy, on_created) = (error.clone(), busy.clone(), on_created.clone());
            spawn_local(async move {
                match api::users::create(&body).await {
                    Ok(u) => on_created.emit(u),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let general = (*error)
        .as_ref()
        .filter(|e| e.fields.is_empty() && e.code != ErrorCode::EmailTaken)
        .cloned();
    let on_role = {
        let role = role.clone();
        Callback::from(move |e: Event| {
            if let Some(r) = select_value(&e).as_deref().and_then(Role::parse) {
                role.set(r);
            }
        })
    };
    let cancel = {
        let on_cancel = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| on_cancel.emit(()))
    };
    html! {
        <form class="card form-card" {onsubmit} aria-labelledby="new-user-title">
            <h2 class="card-title" id="new-user-title">{ "New user" }</h2>
            if let Some(e) = general {
                <ErrorNotice error={e} />
            }
            <div class="field-row">
                <TextField id="new-user-name" label="Name" value={(*name).clone()} on_change={bind(&name)}
                    required=true autocomplete="off" error={field(&error, "name")} />
                <TextField id="new-user-email" label="Email" input_type="email" value={(*email).clone()}
                    on_change={bind(&email)} required=true autocomplete="off" error={field(&error, "email")} />
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="new-user-role">{ "Role" }</label>
                    <select id="new-user-role" onchange={on_role}>
                        { for Role::ALL.iter().map(|r| html! {
                            <option value={r.as_str()} selected={*role == *r}>{ role_label(*r) }</option>
                        }) }
                    </select>
                </div>
                <TextField id="new-user-password" label="Initial password" input_type="password"
                    value={(*password).clone()} on_change={bind(&password)} required=true
                    autocomplete="new-password" minlength="8" hint="At least 8 characters. Share it safely."
                    error={field(&error, "password")} />
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-ghost" onclick={cancel}>{ "Cancel" }</button>
                <button type="submit" class="btn btn-primary" disabled={*busy}>
                    { if *busy { "Creating…" } else { "Create user" } }
                </button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct UserEditorProps {
    user: UserView,
    on_saved: Callback<UserView>,
    on_cancel: Callback<()>,
}

#[function_component(UserEditor)]
fn user_editor(props: &UserEditorProps) -> Html {
    let draft = use_state(|| Draft::of(&props.user));
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let id = props.user.id;

    let onsubmit = {
        let (draft, error, busy) = (draft.clone(), error.clone(), busy.clone());
        let (user, on_saved, on_cancel) = (
            props.user.clone(),
            props.on_saved.clone(),
            props.on_cancel.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = changes(&user, &draft);
            if is_empty(&body) {
                on_cancel.emit(());
                return;
            }
            busy.set(true);
            let (error, busy, on_saved) = (error.clone(), busy.clone(), on_saved.clone());
            spawn_local(async move {
                match api::users::update(id, &body).await {
                    Ok(u) => on_saved.emit(u),
                    Err(e) => {
                        error.set(Some(e));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let edit = |f: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |v: String| {
            let mut d = (*draft).clone();
            f(&mut d, v);
            draft.set(d);
        })
    };
    let on_role = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(r) = select_value(&e).as_deref().and_then(Role::parse) {
                draft.set(Draft {
                    role: r,
                    ..(*draft).clone()
                });
            }
        })
    };
    let general = (*error)
        .as_ref()
        .filter(|e| e.fields.is_empty() && e.code != ErrorCode::EmailTaken)
        .map(explain);
    let cancel = {
        let on_cancel = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| on_cancel.emit(()))
    };
    let p = format!("edit-user-{id}");
    html! {
        <form class="inline-editor" {onsubmit} aria-label={format!("Edit {}", props.user.name)}>
            if let Some(msg) = general {
                <div class="notice notice-error" role="alert">{ msg }</div>
            }
            <div class="field-row">
                <TextField id={format!("{p}-name")} label="Name" value={draft.name.clone()}
                    on_change={edit(|d, v| d.name = v)} required=true error={field(&error, "name")} />
                <TextField id={format!("{p}-email")} label="Email" input_type="email" value={draft.email.clone()}
                    on_change={edit(|d, v| d.email = v)} required=true error={field(&error, "email")} />
                <div class="field">
                    <label for={format!("{p}-role")}>{ "Role" }</label>
                    <select id={format!("{p}-role")} onchange={on_role}>
                        { for Role::ALL.iter().map(|r| html! {
                            <option value={r.as_str()} selected={draft.role == *r}>{ role_label(*r) }</option>
                        }) }
                    </select>
                </div>
                <TextField id={format!("{p}-password")} label="New password" input_type="password"
                    value={draft.password.clone()} on_change={edit(|d, v| d.password = v)}
                    autocomplete="new-password" hint="Leave empty to keep the current one."
                    error={field(&error, "password")} />
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-ghost" onclick={cancel}>{ "Cancel" }</button>
                <button type="submit" class="btn btn-primary" disabled={*busy}>
                    { if *busy { "Saving…" } else { "Save changes" } }
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn user() -> UserView {
        UserView {
            id: UserId(3),
            email: "tara@example.com".into(),
            name: "Tara Tech".into(),
            role: Role::Technician,
            active: true,
            totp_enabled: false,
            totp_setup_required: false,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn only_changed_fields_are_sent() {
        let u = user();
        assert!(is_empty(&changes(&u, &Draft::of(&u))));
        let mut d = Draft::of(&u);
        d.name = "  Tara Tech ".into();
        d.email = "TARA@example.com".into();
        assert!(
            is_empty(&changes(&u, &d)),
            "whitespace and case are no change"
        );
        d.role = Role::Supervisor;
        d.password = "new secret!".into();
        let c = changes(&u, &d);
        assert_eq!(c.role, Some(Role::Supervisor));
        assert_eq!(c.password.as_deref(), Some("new secret!"));
        assert_eq!(c.name, None);
        assert_eq!(c.email, None);
        d.name = "Tara T.".into();
        assert_eq!(changes(&u, &d).name.as_deref(), Some("Tara T."));
    }

    #[test]
    fn replace_updates_in_place_or_prepends() {
        let a = user();
        let mut b = user();
        b.id = UserId(4);
        let list = vec![a.clone(), b.clone()];
        let mut a2 = a.clone();
        a2.active = false;
        let next = replace(&list, a2);
        assert!(!next[0].active);
        assert_eq!(next.len(), 2);
        let mut c = user();
        c.id = UserId(9);
        assert_eq!(replace(&list, c)[0].id, UserId(9));
    }

    #[test]
    fn field_messages_read_as_sentences() {
        assert_eq!(
            sentence("must be at least 8 characters"),
            "Must be at least 8 characters"
        );
        assert_eq!(sentence(""), "");
    }
}
