//! Who is signed in: a `Reducible` session behind a context provider. The tokens live in
//! `storage` (the API layer reads and rotates them); this state holds what screens render.

use std::rc::Rc;

use relay_protocol::auth::AuthResponse;
use relay_protocol::users::UserView;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, SessionEvent};
use crate::storage::{self, StoredSession};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    pub user: Option<UserView>,
}

impl Session {
    pub fn from_stored(stored: Option<StoredSession>) -> Session {
        Session {
            user: stored.map(|s| s.user),
        }
    }

    pub fn is_signed_in(&self) -> bool {
        self.user.is_some()
    }

    /// Technicians, supervisors and admins: they see internal notes and the queue.
    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_staff())
    }

    /// The desk requires a second factor of this staff member and they have none yet:
    /// only the account page works (the server refuses the rest) and no socket opens.
    pub fn needs_totp_setup(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.totp_setup_required)
    }

    /// Whose live socket this tab should hold, if anyone's.
    pub fn live_user(&self) -> Option<relay_protocol::UserId> {
        self.user
            .as_ref()
            .filter(|u| !u.totp_setup_required)
            .map(|u| u.id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SignedIn(UserView),
    /// A newer copy of the same user (from `/api/me` or a token refresh): role or name
    /// may have changed.
    UserUpdated(UserView),
    SignedOut,
}

impl Reducible for Session {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::SignedIn(user) => Rc::new(Session { user: Some(user) }),
            Action::UserUpdated(user) => match &self.user {
                // Only refresh the user we have: a late answer must not sign anyone in.
                Some(current) if current.id == user.id && *current != user => {
                    Rc::new(Session { user: Some(user) })
                }
                _ => self,
            },
            Action::SignedOut if self.user.is_none() => self,
            Action::SignedOut => Rc::new(Session::default()),
        }
    }
}

pub type SessionHandle = UseReducerHandle<Session>;

/// Stores the tokens of a login/register answer and signs the user in.
pub fn sign_in(session: &SessionHandle, resp: &AuthResponse) {
    storage::save(&StoredSession::from_auth(resp, storage::now_ms()));
    session.dispatch(Action::SignedIn(resp.user.clone()));
}

/// A newer copy of the signed-in user (after `/api/me` or an account change): kept in
/// storage too, so a reload shows it at once.
pub fn user_updated(session: &SessionHandle, user: UserView) {
    if let Some(mut stored) = storage::load() {
        if stored.user.id == user.id {
            stored.user = user.clone();
            storage::save(&stored);
        }
    }
    session.dispatch(Action::UserUpdated(user));
}

/// Forgets the session here at once, then tells the server (best effort).
pub fn sign_out(session: &SessionHandle) {
    let stored = storage::load();
    storage::clear();
    session.dispatch(Action::SignedOut);
    if let Some(stored) = stored {
        spawn_local(async move {
            // The local session is gone either way; a failed server call only leaves a
            // refresh token to expire on its own.
            let _ = api::auth::logout(stored).await;
        });
    }
}

/// The session context; outside a provider (never in the app) an empty session.
#[hook]
pub fn use_session() -> SessionHandle {
    let provided = use_context::<SessionHandle>();
    let fallback = use_reducer(Session::default);
    provided.unwrap_or(fallback)
}

#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    pub children: Html,
}

#[function_component(SessionProvider)]
pub fn session_provider(props: &SessionProviderProps) -> Html {
    let session = use_reducer(|| Session::from_stored(storage::load()));

    {
        // The API layer rotates tokens on its own and reports here.
        let dispatcher = session.dispatcher();
        use_effect_with((), move |_| {
            api::set_session_listener(Some(Callback::from(move |event| match event {
                SessionEvent::Refreshed(user) => dispatcher.dispatch(Action::UserUpdated(user)),
                SessionEvent::Expired => dispatcher.dispatch(Action::SignedOut),
            })));
            || api::set_session_listener(None)
        });
    }

    {
        // Re-read the user once per page load: the stored copy may predate a role change.
        let session = session.clone();
        let signed_in = session.is_signed_in();
        use_effect_with(signed_in, move |signed_in| {
            if *signed_in {
                spawn_local(async move {
                    if let Ok(user) = api::auth::me().await {
                        user_updated(&session, user);
                    }
                    // A 401 already signed out through the listener; other errors keep
                    // the stored user until the next successful call.
                });
            }
        });
    }

    html! {
        <ContextProvider<SessionHandle> context={session}>
            { props.children.clone() }
        </ContextProvider<SessionHandle>>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::{stored, user};
    use relay_protocol::users::Role;
    use relay_protocol::UserId;

    #[test]
    fn restores_the_user_from_storage() {
        assert_eq!(Session::from_stored(None), Session::default());
        let s = Session::from_stored(Some(stored("a", "r")));
        assert!(s.is_signed_in());
        assert!(!s.is_staff());
    }

    #[test]
    fn sign_in_and_out() {
        let s = Rc::new(Session::default());
        let s = s.reduce(Action::SignedIn(user(Role::Technician)));
        assert!(s.is_staff());
        let s = s.reduce(Action::SignedOut);
        assert_eq!(*s, Session::default());
    }

    #[test]
    fn updates_apply_only_to_the_same_signed_in_user() {
        let signed_out = Rc::new(Session::default());
        let still_out = signed_out
            .clone()
            .reduce(Action::UserUpdated(user(Role::Admin)));
        assert!(Rc::ptr_eq(&signed_out, &still_out));

        let s = Rc::new(Session::default()).reduce(Action::SignedIn(user(Role::Customer)));
        let promoted = s
            .clone()
            .reduce(Action::UserUpdated(user(Role::Supervisor)));
        assert!(promoted.is_staff());

        let mut stranger = user(Role::Admin);
        stranger.id = UserId(99);
        let same = s.clone().reduce(Action::UserUpdated(stranger));
        assert!(Rc::ptr_eq(&s, &same));
    }

    #[test]
    fn unchanged_updates_do_not_rerender() {
        let s = Rc::new(Session::default()).reduce(Action::SignedIn(user(Role::Customer)));
        let same = s.clone().reduce(Action::UserUpdated(user(Role::Customer)));
        assert!(Rc::ptr_eq(&s, &same));
        let out = Rc::new(Session::default());
        assert!(Rc::ptr_eq(&out, &out.clone().reduce(Action::SignedOut)));
    }
}
