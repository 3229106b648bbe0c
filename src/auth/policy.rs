//! Who may do what to which object: the one place where access is decided.
//!
//! Every handler calls [`authorize`] with the action it is about to perform, described with the
//! facts of the target object that matter (its owner). A refusal on a specific object that the
//! principal may not even see is a 404, so that other tenants' ids cannot be probed; a refusal of
//! a kind of action the role never has is a 403.

use crate::auth::Principal;
use crate::domain::identity::Role;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Create an organisation of any kind.
    CreateOrganization,
    /// List all organisations.
    ListOrganizations,
    /// Read one organisation.
    ReadOrganization { organization_id: &'a str },
    /// Create a user in an organisation.
    CreateUser { organization_id: &'a str },
    /// List the users of one organisation, or of all when `None`.
    ListUsers { organization_id: Option<&'a str> },
    /// Read one user.
    ReadUser {
        user_id: &'a str,
        organization_id: &'a str,
    },
    /// Change another user's name, password or activation.
    UpdateUser {
        user_id: &'a str,
        organization_id: &'a str,
    },
}

pub fn authorize(p: &Principal, action: Action<'_>) -> Result<(), ApiError> {
    if p.role == Role::PlatformAdmin {
        return Ok(());
    }
    let own_org = |id: &str| id == p.organization_id;
    match action {
        Action::CreateOrganization
        | Action::ListOrganizations
        | Action::CreateUser { .. }
        | Action::UpdateUser { .. } => Err(ApiError::Forbidden(
            "only a platform administrator may manage organisations and users",
        )),
        Action::ListUsers {
            organization_id: Some(org),
        } if own_org(org) => Ok(()),
        Action::ListUsers { .. } => Err(ApiError::Forbidden(
            "you may list only the users of your own organisation",
        )),
        Action::ReadOrganization { organization_id } if own_org(organization_id) => Ok(()),
        Action::ReadUser {
            organization_id, ..
        } if own_org(organization_id) => Ok(()),
        Action::ReadOrganization { .. } => Err(ApiError::NotFound("no such organisation")),
        Action::ReadUser { .. } => Err(ApiError::NotFound("no such user")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identity::OrganizationKind;

    fn principal(role: Role, kind: OrganizationKind) -> Principal {
        Principal {
            user_id: "usr_me".into(),
            username: "me".into(),
            role,
            organization_id: "org_mine".into(),
            organization_kind: kind,
            session_id: "ses_1".into(),
        }
    }

    #[test]
    fn admins_may_do_everything_others_only_read_their_own() {
        let admin = principal(Role::PlatformAdmin, OrganizationKind::Platform);
        let park = principal(Role::ParkOffice, OrganizationKind::Park);
        let all = [
            Action::CreateOrganization,
            Action::ListOrganizations,
            Action::ReadOrganization {
                organization_id: "org_other",
            },
            Action::CreateUser {
                organization_id: "org_mine",
            },
            Action::ListUsers {
                organization_id: None,
            },
            Action::ReadUser {
                user_id: "usr_x",
                organization_id: "org_other",
            },
            Action::UpdateUser {
                user_id: "usr_x",
                organization_id: "org_mine",
            },
        ];
        for action in all {
            assert!(authorize(&admin, action).is_ok(), "{action:?}");
        }
        assert!(
            authorize(
                &park,
                Action::ReadOrganization {
                    organization_id: "org_mine"
                }
            )
            .is_ok()
        );
        assert!(
            authorize(
                &park,
                Action::ListUsers {
                    organization_id: Some("org_mine")
                }
            )
            .is_ok()
        );
        assert!(matches!(
            authorize(
                &park,
                Action::ReadOrganization {
                    organization_id: "org_other"
                }
            ),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            authorize(&park, Action::CreateOrganization),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            authorize(
                &park,
                Action::UpdateUser {
                    user_id: "usr_me",
                    organization_id: "org_mine"
                }
            ),
            Err(ApiError::Forbidden(_))
        ));
    }
}
