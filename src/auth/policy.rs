//! Who may do what to which object: the one place where access is decided.
//!
//! Every handler calls [`authorize`] with the action it is about to perform, described with the
//! facts of the target object that matter (its park, its region, its parties). Lists ask for a
//! [`Scope`] and filter their query by it. A refusal on a specific object that the principal may
//! not even see is a 404, so that other tenants' ids cannot be probed; a refusal of a kind of
//! action the role never has is a 403.
//!
//! The rules, in words:
//! - a platform administrator may do everything;
//! - a park office reads and edits its own park, its enterprises, warehouses and contracts;
//! - an enterprise user reads its own organisation, its park, and the contracts it is party to;
//! - a disposer's dispatcher reads the contracts it is party to, and its own fleet;
//! - an inspector reads everything whose park lies in its jurisdiction, and never writes; a
//!   transfer manifest also when its receiver (the disposal company) is registered there, so
//!   that both sides of a transfer are inspected;
//! - the directory of licensed disposers and carriers is readable by park offices, dispatchers
//!   and inspectors (the consignor must check the other parties' qualifications);
//! - everybody signed in reads the waste catalog.

use crate::auth::Principal;
use crate::domain::identity::Role;
use crate::domain::region::in_jurisdiction;
use crate::error::{ApiError, NOT_VISIBLE};

/// Where an object lives: its park and the park's region code.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub park_id: &'a str,
    pub region_code: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// List all organisations.
    ListOrganizations,
    /// Read one organisation.
    ReadOrganization {
        organization_id: &'a str,
    },
    /// Create a user in an organisation.
    CreateUser {
        organization_id: &'a str,
    },
    /// List the users of one organisation, or of all when `None`.
    ListUsers {
        organization_id: Option<&'a str>,
    },
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

    /// Register a park, a disposal company and its licences, a carrier, a bureau.
    ManageDirectory,
    ReadPark(Place<'a>),
    UpdatePark(Place<'a>),
    /// Register or edit the enterprises, warehouses, zones and contracts of a park.
    ManagePark(Place<'a>),
    ReadEnterprise {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    /// Edit an enterprise: its park's office. Refused with 403 to whoever may read it (itself,
    /// inspectors of its region), 404 to the others.
    UpdateEnterprise {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    ReadWarehouse(Place<'a>),
    /// Edit a warehouse or its zones: its park's office. Refused with 403 to whoever may read
    /// it (inspectors of its region), 404 to the others.
    ManageWarehouse(Place<'a>),
    ReadDisposer {
        disposer_id: &'a str,
    },
    ReadCarrier {
        carrier_id: &'a str,
    },
    ReadBureau {
        bureau_id: &'a str,
    },
    /// Register or retire vehicles of a fleet (a carrier's or a disposer's own).
    ManageVehicles {
        operator_id: &'a str,
    },
    ReadVehicles {
        operator_id: &'a str,
    },
    ReadContract {
        place: Place<'a>,
        disposer_id: &'a str,
        member_ids: &'a [String],
    },
    /// Change a contract (its terms, members, prices, thresholds) or act under it for the park
    /// (raise a pickup request by hand): the park office. Refused with 403 to its other
    /// readers (its disposer, its members, inspectors), 404 to the others.
    ManageContract {
        place: Place<'a>,
        disposer_id: &'a str,
        member_ids: &'a [String],
    },
    ReadCatalog,
    ImportCatalog,
    /// Walk the audit chain and report its first broken link.
    VerifyAudit,
    /// Read the working-day calendar: everybody signed in (deadlines are counted on it).
    ReadCalendar,
    /// Keep the working-day calendar: platform administrators.
    ManageCalendar,
    /// Declare a lot waiting at an enterprise's door, or change or void such a declaration (the
    /// enterprise itself or its park office).
    DeclareLot {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    /// Read a lot: its park office, its enterprise, the disposer of its contract, inspectors.
    ReadLot {
        enterprise_id: &'a str,
        disposer_id: &'a str,
        place: Place<'a>,
    },
    /// Read a pickup request: its park office, its disposer, the enterprises whose lots it
    /// covers, the driver assigned to it, inspectors.
    ReadPickup {
        place: Place<'a>,
        disposer_id: &'a str,
        enterprise_ids: &'a [String],
        driver_id: Option<&'a str>,
    },
    /// Accept, schedule or decline a pickup request: the disposer's dispatcher.
    DispatchPickup {
        place: Place<'a>,
        disposer_id: &'a str,
        enterprise_ids: &'a [String],
        driver_id: Option<&'a str>,
    },
    /// Cancel an open pickup request: the park office. Refused with 403 to its other readers,
    /// 404 to the others.
    CancelPickup {
        place: Place<'a>,
        disposer_id: &'a str,
        enterprise_ids: &'a [String],
        driver_id: Option<&'a str>,
    },
    /// Correct or void a lot: a weighing by the park office, a declaration still waiting at the
    /// door also by its enterprise ([`Action::DeclareLot`]). Refused with 403 to the lot's other
    /// readers, 404 to the others.
    ChangeLot {
        enterprise_id: &'a str,
        disposer_id: &'a str,
        place: Place<'a>,
        /// A declaration still waiting at the door (route b, `declared`).
        declared: bool,
    },
    /// Manage the organisation's own webhook endpoints (not drivers).
    ManageWebhooks,
    /// Read the organisation's inbox (not drivers: they see their own pickups).
    ReadInbox,
    /// Read an enterprise's statements, notes, payments and balance: the park office and the
    /// enterprise itself.
    ReadBilling {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    /// Issue statements, record payments and notes: the park office. Refused with 403 to those
    /// who may read the enterprise (its own users, inspectors of its region), 404 to others;
    /// a change to an existing statement is first checked as [`Action::ReadBilling`], so that
    /// those who may not read the statement get 404.
    ManageBilling {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    /// Read a ledger (台账) of stock movements and export it: of a park or one of its
    /// warehouses (`enterprise_id` `None`) — the park office and inspectors of its
    /// jurisdiction; of an enterprise — also the enterprise itself.
    ReadLedger {
        enterprise_id: Option<&'a str>,
        place: Place<'a>,
    },
    /// Read a park's figures for the dashboard (stock against thresholds, latencies, volumes):
    /// the park office and inspectors of its jurisdiction. Other roles never read figures
    /// (403); another park's office or an inspector elsewhere gets 404.
    ReadFigures(Place<'a>),
    /// Read an enterprise's compliance (its waste profile and its versions, its five haves, its
    /// monthly trends): its park office, inspectors of its park's jurisdiction, the enterprise
    /// itself.
    ReadCompliance {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    /// Write an enterprise's waste profile or record one of its five haves: its park office.
    /// Refused with 403 to its other readers (the enterprise, inspectors), 404 to the others.
    ManageCompliance {
        enterprise_id: &'a str,
        place: Place<'a>,
    },
    /// Read the remittance statement of a park to a disposer: the park office and the disposer.
    ReadRemittance {
        place: Place<'a>,
        disposer_id: &'a str,
    },
    /// Record the collection of a scheduled pickup: its assigned driver, or the disposer's
    /// dispatcher.
    CollectPickup {
        place: Place<'a>,
        disposer_id: &'a str,
        enterprise_ids: &'a [String],
        driver_id: Option<&'a str>,
    },
    /// Read a manifest: its park office, inspectors of its park and inspectors of its
    /// receiver's registered region (both sides of the transfer), its parties (consignor,
    /// carrier, receiver, the enterprises whose lots it groups) and its driver.
    ReadManifest {
        place: Place<'a>,
        receiver_region_code: &'a str,
        parties: &'a [String],
        driver_id: &'a str,
    },
    /// Record that the waste of a manifest arrived: the receiver's dispatcher (who receives
    /// it) or the manifest's driver (who delivers it), each as the party it signs for.
    RecordArrival {
        place: Place<'a>,
        receiver_region_code: &'a str,
        parties: &'a [String],
        driver_id: &'a str,
        carrier_id: &'a str,
        receiver_id: &'a str,
    },
    /// Sign a step of a manifest (or resolve its case, or propose or approve a revision): a
    /// user of `signer_id` with `role`.
    SignManifest {
        place: Place<'a>,
        receiver_region_code: &'a str,
        parties: &'a [String],
        driver_id: &'a str,
        signer_id: &'a str,
        role: Role,
    },
    /// Read a patrol, a finding or an enterprise's feedback, with their photos: the park
    /// office, the inspectors of the park's region, and the enterprise concerned
    /// (`enterprise_id`; a patrol of a warehouse concerns no enterprise).
    ReadPatrol {
        place: Place<'a>,
        enterprise_id: Option<&'a str>,
    },
    /// Record a patrol, close or reopen a finding, close an enterprise's feedback: the park
    /// office. Refused with 403 to the other readers, 404 to the others.
    ManagePatrol {
        place: Place<'a>,
        enterprise_id: Option<&'a str>,
    },
    /// Answer a finding with what was done: the enterprise concerned; a finding at a
    /// warehouse, the park office, which runs it. Refused with 403 to the other readers.
    AnswerFinding {
        place: Place<'a>,
        enterprise_id: Option<&'a str>,
    },
    /// Write in a thread (a message of feedback, a photo of a finding or of feedback): the
    /// park office and the enterprise concerned. Refused with 403 to the other readers
    /// (inspectors), 404 to the others.
    WriteThread {
        place: Place<'a>,
        enterprise_id: Option<&'a str>,
    },
}

/// What part of a collection a principal may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Objects of one park.
    Park(String),
    /// Objects of parks whose region code starts with this prefix.
    Jurisdiction(String),
    /// Only the principal's own organisation (an enterprise, a disposer, a fleet).
    Own(String),
}

fn is_admin(p: &Principal) -> bool {
    p.role == Role::PlatformAdmin
}

fn office_of(p: &Principal, park_id: &str) -> bool {
    p.role == Role::ParkOffice && p.organization_id == park_id
}

fn inspects(p: &Principal, region_code: &str) -> bool {
    p.role == Role::Inspector
        && p.jurisdiction
            .as_deref()
            .is_some_and(|j| in_jurisdiction(region_code, j))
}

fn reads_directory(p: &Principal) -> bool {
    matches!(
        p.role,
        Role::PlatformAdmin | Role::ParkOffice | Role::DisposerDispatcher | Role::Inspector
    )
}

pub fn authorize(p: &Principal, action: Action<'_>) -> Result<(), ApiError> {
    if is_admin(p) {
        // A manifest's steps are signed by its parties' own users (see [`signs_for`]): an
        // administrator reads every manifest but signs for none.
        if matches!(
            action,
            Action::SignManifest { .. } | Action::RecordArrival { .. }
        ) {
            return Err(ApiError::Forbidden(
                "a manifest's steps are signed by its parties' own users, not by administrators",
            ));
        }
        return Ok(());
    }
    let own_org = |id: &str| id == p.organization_id;
    let allowed = match action {
        Action::ListOrganizations
        | Action::CreateUser { .. }
        | Action::UpdateUser { .. }
        | Action::ManageDirectory
        | Action::ImportCatalog
        | Action::VerifyAudit
        | Action::ManageCalendar => {
            return Err(ApiError::Forbidden(
                "only a platform administrator may do this",
            ));
        }
        Action::ListUsers { organization_id } => {
            return match organization_id {
                Some(org) if own_org(org) => Ok(()),
                _ => Err(ApiError::Forbidden(
                    "you may list only the users of your own organisation",
                )),
            };
        }
        Action::ReadOrganization { organization_id } => own_org(organization_id),
        Action::ReadUser {
            organization_id, ..
        } => own_org(organization_id),
        Action::ReadPark(place) => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || p.park_id.as_deref() == Some(place.park_id)
        }
        Action::UpdatePark(place) | Action::ManagePark(place) => {
            office_of(p, place.park_id) || return deny_write(p, Action::ReadPark(place))
        }
        Action::ReadEnterprise {
            enterprise_id,
            place,
        } => {
            own_org(enterprise_id) || office_of(p, place.park_id) || inspects(p, place.region_code)
        }
        Action::UpdateEnterprise {
            enterprise_id,
            place,
        } => {
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadEnterprise {
                        enterprise_id,
                        place,
                    },
                    "you may read but not change this enterprise",
                )
        }
        Action::ManageWarehouse(place) => {
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadWarehouse(place),
                    "you may read but not change this warehouse",
                )
        }
        Action::ReadWarehouse(place) => {
            office_of(p, place.park_id) || inspects(p, place.region_code)
        }
        Action::ReadDisposer { disposer_id } => own_org(disposer_id) || reads_directory(p),
        Action::ReadCarrier { carrier_id } => own_org(carrier_id) || reads_directory(p),
        Action::ReadBureau { bureau_id } => own_org(bureau_id),
        Action::ManageVehicles { operator_id } => {
            (p.role == Role::DisposerDispatcher && own_org(operator_id))
                || return deny_write(p, Action::ReadVehicles { operator_id })
        }
        Action::ReadVehicles { operator_id } => own_org(operator_id) || reads_directory(p),
        Action::ReadContract {
            place,
            disposer_id,
            member_ids,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || (p.role == Role::DisposerDispatcher && own_org(disposer_id))
                || member_ids.iter().any(|m| own_org(m))
        }
        Action::ManageContract {
            place,
            disposer_id,
            member_ids,
        } => {
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadContract {
                        place,
                        disposer_id,
                        member_ids,
                    },
                    "only the park office administers the contract",
                )
        }
        Action::CancelPickup {
            place,
            disposer_id,
            enterprise_ids,
            driver_id,
        } => {
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadPickup {
                        place,
                        disposer_id,
                        enterprise_ids,
                        driver_id,
                    },
                    "only the park office cancels a pickup request",
                )
        }
        Action::ChangeLot {
            enterprise_id,
            disposer_id,
            place,
            declared,
        } => {
            if declared {
                return authorize(
                    p,
                    Action::DeclareLot {
                        enterprise_id,
                        place,
                    },
                );
            }
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadLot {
                        enterprise_id,
                        disposer_id,
                        place,
                    },
                    "only the park office corrects or voids a weighing",
                )
        }
        Action::ReadCatalog | Action::ReadCalendar => true,
        Action::DeclareLot {
            enterprise_id,
            place,
        } => {
            (p.role == Role::EnterpriseUser && own_org(enterprise_id))
                || office_of(p, place.park_id)
                || return deny_write(
                    p,
                    Action::ReadLot {
                        enterprise_id,
                        disposer_id: "",
                        place,
                    },
                )
        }
        Action::ReadLot {
            enterprise_id,
            disposer_id,
            place,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || own_org(enterprise_id)
                || (p.role == Role::DisposerDispatcher && own_org(disposer_id))
        }
        Action::ReadPickup {
            place,
            disposer_id,
            enterprise_ids,
            driver_id,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || (p.role == Role::DisposerDispatcher && own_org(disposer_id))
                || (p.role == Role::EnterpriseUser && enterprise_ids.iter().any(|e| own_org(e)))
                || (p.role == Role::Driver && driver_id == Some(p.user_id.as_str()))
        }
        Action::DispatchPickup {
            place,
            disposer_id,
            enterprise_ids,
            driver_id,
        } => {
            (p.role == Role::DisposerDispatcher && own_org(disposer_id))
                || return deny_write(
                    p,
                    Action::ReadPickup {
                        place,
                        disposer_id,
                        enterprise_ids,
                        driver_id,
                    },
                )
        }
        Action::ManageWebhooks => {
            return if p.role == Role::Driver {
                Err(ApiError::Forbidden(
                    "webhooks are set up by the organisation's office staff, not drivers",
                ))
            } else {
                Ok(())
            };
        }
        Action::CollectPickup {
            place,
            disposer_id,
            enterprise_ids,
            driver_id,
        } => {
            (p.role == Role::Driver && driver_id == Some(p.user_id.as_str()))
                || (p.role == Role::DisposerDispatcher && own_org(disposer_id))
                || return deny_write(
                    p,
                    Action::ReadPickup {
                        place,
                        disposer_id,
                        enterprise_ids,
                        driver_id,
                    },
                )
        }
        Action::ReadManifest {
            place,
            receiver_region_code,
            parties,
            driver_id,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || inspects(p, receiver_region_code)
                || (p.role != Role::Driver && parties.iter().any(|o| own_org(o)))
                || (p.role == Role::Driver && driver_id == p.user_id)
        }
        Action::SignManifest {
            place,
            receiver_region_code,
            parties,
            driver_id,
            signer_id,
            role,
        } => {
            signs_for(p, signer_id, role, driver_id)
                || return deny_write(
                    p,
                    Action::ReadManifest {
                        place,
                        receiver_region_code,
                        parties,
                        driver_id,
                    },
                )
        }
        Action::RecordArrival {
            place,
            receiver_region_code,
            parties,
            driver_id,
            carrier_id,
            receiver_id,
        } => {
            signs_for(p, receiver_id, Role::DisposerDispatcher, driver_id)
                || signs_for(p, carrier_id, Role::Driver, driver_id)
                || return deny_write(
                    p,
                    Action::ReadManifest {
                        place,
                        receiver_region_code,
                        parties,
                        driver_id,
                    },
                )
        }
        Action::ReadBilling {
            enterprise_id,
            place,
        } => {
            office_of(p, place.park_id)
                || (p.role == Role::EnterpriseUser && own_org(enterprise_id))
        }
        Action::ManageBilling {
            enterprise_id,
            place,
        } => {
            office_of(p, place.park_id)
                || return deny_write(
                    p,
                    Action::ReadEnterprise {
                        enterprise_id,
                        place,
                    },
                )
        }
        Action::ReadLedger {
            enterprise_id,
            place,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || (p.role == Role::EnterpriseUser && enterprise_id.is_some_and(own_org))
        }
        Action::ReadFigures(place) => {
            reads_figures(p)?;
            office_of(p, place.park_id) || inspects(p, place.region_code)
        }
        Action::ReadCompliance {
            enterprise_id,
            place,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || (p.role == Role::EnterpriseUser && own_org(enterprise_id))
        }
        Action::ManageCompliance {
            enterprise_id,
            place,
        } => {
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadCompliance {
                        enterprise_id,
                        place,
                    },
                    "the park office keeps an enterprise's profile and five haves",
                )
        }
        Action::ReadRemittance { place, disposer_id } => {
            office_of(p, place.park_id)
                || (p.role == Role::DisposerDispatcher && own_org(disposer_id))
        }
        Action::ReadPatrol {
            place,
            enterprise_id,
        } => {
            office_of(p, place.park_id)
                || inspects(p, place.region_code)
                || (p.role == Role::EnterpriseUser && enterprise_id.is_some_and(own_org))
        }
        Action::ManagePatrol {
            place,
            enterprise_id,
        } => {
            office_of(p, place.park_id)
                || return refuse_readers(
                    p,
                    Action::ReadPatrol {
                        place,
                        enterprise_id,
                    },
                    "only the park office records patrols and closes or reopens their findings",
                )
        }
        Action::AnswerFinding {
            place,
            enterprise_id,
        } => {
            let answers = match enterprise_id {
                Some(e) => p.role == Role::EnterpriseUser && own_org(e),
                None => office_of(p, place.park_id),
            };
            answers
                || return refuse_readers(
                    p,
                    Action::ReadPatrol {
                        place,
                        enterprise_id,
                    },
                    "a finding is answered by the enterprise it concerns",
                )
        }
        Action::WriteThread {
            place,
            enterprise_id,
        } => {
            office_of(p, place.park_id)
                || (p.role == Role::EnterpriseUser && enterprise_id.is_some_and(own_org))
                || return refuse_readers(
                    p,
                    Action::ReadPatrol {
                        place,
                        enterprise_id,
                    },
                    "only the park office and the enterprise concerned write here",
                )
        }
        Action::ReadInbox => {
            return if p.role == Role::Driver {
                Err(ApiError::Forbidden(
                    "the organisation's inbox is for its office staff; drivers find their pickups in GET /pickup-requests",
                ))
            } else {
                Ok(())
            };
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::NotFound(NOT_VISIBLE))
    }
}

/// Whether the principal's role reads parks' figures at all: 403 for the roles that never do,
/// checked before the park is looked up, so that the answer tells nothing of which parks exist.
pub fn reads_figures(p: &Principal) -> Result<(), ApiError> {
    if matches!(
        p.role,
        Role::PlatformAdmin | Role::ParkOffice | Role::Inspector
    ) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "a park's figures are read by its office and the inspectors of its region",
        ))
    }
}

/// Whether the principal is the signer of a manifest's party: a user of `signer_id` in `role`
/// (a carrier signs through the manifest's own driver, `driver_id`). By organisation and role
/// together: a disposal company with its own fleet is the carrier through its driver and the
/// receiver through its dispatcher. Administrators are no party's signer.
pub fn signs_for(p: &Principal, signer_id: &str, role: Role, driver_id: &str) -> bool {
    p.role == role
        && p.organization_id == signer_id
        && (role != Role::Driver || driver_id == p.user_id)
}

/// Refuses a write: 403 when the principal may at least read the object, 404 when it may not
/// even know that the object exists.
/// Refuses an action: with 403 and `message` when the principal may do `read`, else as `read`
/// refuses it (404).
fn refuse_readers(p: &Principal, read: Action<'_>, message: &'static str) -> Result<(), ApiError> {
    authorize(p, read).and(Err(ApiError::Forbidden(message)))
}

fn deny_write(p: &Principal, read: Action<'_>) -> Result<(), ApiError> {
    match authorize(p, read) {
        Ok(()) => Err(ApiError::Forbidden(
            "you may read this object but not change it",
        )),
        Err(e) => Err(e),
    }
}

/// The part of the parks (and of their enterprises, warehouses and contracts) a principal may
/// list.
pub fn park_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::PlatformAdmin => Ok(Scope::All),
        Role::ParkOffice | Role::EnterpriseUser => p
            .park_id
            .clone()
            .map(Scope::Park)
            .ok_or(ApiError::Forbidden("your organisation belongs to no park")),
        Role::Inspector => p
            .jurisdiction
            .clone()
            .map(Scope::Jurisdiction)
            .ok_or(ApiError::Forbidden("your organisation has no jurisdiction")),
        Role::DisposerDispatcher | Role::Driver => Err(ApiError::Forbidden(
            "parks are listed for park offices and inspectors",
        )),
    }
}

/// The patrols, findings and feedback a principal may list: a park office its park's, an
/// enterprise user its own enterprise's, an inspector those of its jurisdiction.
pub fn patrol_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::EnterpriseUser => Ok(Scope::Own(p.organization_id.clone())),
        Role::DisposerDispatcher | Role::Driver => Err(ApiError::Forbidden(
            "patrols and feedback are read by park offices, their enterprises and inspectors",
        )),
        _ => park_scope(p),
    }
}

/// Whether the principal writes feedback to its park office: enterprise users only.
pub fn writes_feedback(p: &Principal) -> Result<(), ApiError> {
    if p.role == Role::EnterpriseUser {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "feedback is written by an enterprise's users to their park office",
        ))
    }
}

/// The audit entries a principal may read: all (administrators), those of its park's objects (a
/// park office), those of the parks of its jurisdiction (an inspector). Others read none.
pub fn audit_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::PlatformAdmin | Role::ParkOffice | Role::Inspector => park_scope(p),
        Role::EnterpriseUser | Role::DisposerDispatcher | Role::Driver => Err(ApiError::Forbidden(
            "the audit log is read by administrators, park offices and inspectors",
        )),
    }
}

/// The enterprises a principal may list: a park office its park's, an enterprise user only
/// its own.
pub fn enterprise_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::EnterpriseUser => Ok(Scope::Own(p.organization_id.clone())),
        _ => park_scope(p),
    }
}

/// The warehouses a principal may list.
pub fn warehouse_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::EnterpriseUser => Err(ApiError::Forbidden(
            "warehouses are listed for park offices and inspectors",
        )),
        _ => park_scope(p),
    }
}

/// The contracts a principal may list: a disposer's or an enterprise's own (`Own`: contracts
/// it is party to).
pub fn contract_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::EnterpriseUser | Role::DisposerDispatcher => {
            Ok(Scope::Own(p.organization_id.clone()))
        }
        Role::Driver => Err(ApiError::Forbidden("drivers do not read contracts")),
        _ => park_scope(p),
    }
}

/// Whose licence expiries a principal is alerted about: `None` for roles that do not read the
/// directory (enterprise users, drivers); otherwise the disposers of the contracts in its
/// contract scope (all of them for an administrator), and a disposal company its own.
pub fn licence_alert_scope(p: &Principal) -> Option<Scope> {
    match p.role {
        Role::EnterpriseUser | Role::Driver => None,
        _ => contract_scope(p).ok(),
    }
}

/// The bureaus a principal may list: every one for those who keep the directory, its own for a
/// bureau's inspectors (and nothing for the others, whose organisation is no bureau).
pub fn bureau_scope(p: &Principal) -> Scope {
    if authorize(p, Action::ManageDirectory).is_ok() {
        Scope::All
    } else {
        Scope::Own(p.organization_id.clone())
    }
}

/// Whose vehicles a principal lists, `asked` being the operator the request names: the whole
/// directory (or the operator asked) for those who read it, one's own fleet for the others — a
/// carrier or a disposal company asking for another operator's is refused (403).
pub fn vehicle_operator(p: &Principal, asked: Option<String>) -> Result<Option<String>, ApiError> {
    match directory_scope(p)? {
        Scope::Own(own) => {
            if asked.as_deref().is_some_and(|o| o != own) {
                return Err(ApiError::Forbidden("you may list only your own fleet"));
            }
            Ok(Some(own))
        }
        _ => Ok(asked),
    }
}

/// The statements a principal may list: `(park, enterprise)` to filter by, `asked` being the
/// enterprise the request names — an administrator's any, a park office's within its park, an
/// enterprise always its own. Other roles read no statements (403).
pub fn statement_scope(
    p: &Principal,
    asked: Option<String>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    match p.role {
        Role::PlatformAdmin => Ok((None, asked)),
        Role::ParkOffice => Ok((Some(p.organization_id.clone()), asked)),
        Role::EnterpriseUser => Ok((None, Some(p.organization_id.clone()))),
        Role::DisposerDispatcher | Role::Inspector | Role::Driver => Err(ApiError::Forbidden(
            "statements are read by the park office and the enterprises",
        )),
    }
}

/// The park and the disposer of a remittance a principal asks for, each as named or, left out,
/// the principal's own (a park office's park, a dispatcher's disposal company). Whether it may
/// read that remittance is [`Action::ReadRemittance`]'s answer.
pub fn remittance_parties(
    p: &Principal,
    park_id: Option<String>,
    disposer_id: Option<String>,
) -> (Option<String>, Option<String>) {
    let own = |role: Role| (p.role == role).then(|| p.organization_id.clone());
    (
        park_id.or_else(|| own(Role::ParkOffice)),
        disposer_id.or_else(|| own(Role::DisposerDispatcher)),
    )
}

/// Whose lots alone a principal sees in what it may read of pickups and manifests (their
/// lines, origins and refusals): an enterprise its own; everyone else all of them.
pub fn sees_lots_only_of(p: &Principal) -> Option<&str> {
    (p.role == Role::EnterpriseUser).then_some(p.organization_id.as_str())
}

/// Whether a principal who may read a manifest may read its filing (the national form's
/// fields, the consignor's declaration): an enterprise only as the consignor (403 otherwise).
pub fn reads_filing(p: &Principal, consignor_id: &str) -> Result<(), ApiError> {
    if p.role == Role::EnterpriseUser && consignor_id != p.organization_id {
        return Err(ApiError::Forbidden(
            "the filing of a manifest is the consignor's; read the manifest instead",
        ));
    }
    Ok(())
}

/// The driver a principal records a collection as: a driver, always themself.
pub fn acting_driver(p: &Principal) -> Option<&str> {
    (p.role == Role::Driver).then_some(p.user_id.as_str())
}

/// The lots a principal may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotScope {
    All,
    Park(String),
    Jurisdiction(String),
    /// The lots of one enterprise.
    Enterprise(String),
    /// The lots under the contracts of one disposal company.
    Disposer(String),
}

/// The lots a principal may list: a park office its park's, an inspector its jurisdiction's, an
/// enterprise its own, a disposal company those of its contracts.
pub fn lot_scope(p: &Principal) -> Result<LotScope, ApiError> {
    match p.role {
        Role::EnterpriseUser => Ok(LotScope::Enterprise(p.organization_id.clone())),
        Role::DisposerDispatcher => Ok(LotScope::Disposer(p.organization_id.clone())),
        Role::Driver => Err(ApiError::Forbidden(
            "drivers see lots through their pickups",
        )),
        _ => Ok(match park_scope(p)? {
            Scope::All => LotScope::All,
            Scope::Jurisdiction(prefix) => LotScope::Jurisdiction(prefix),
            Scope::Park(id) | Scope::Own(id) => LotScope::Park(id),
        }),
    }
}

/// The pickup requests a principal may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupScope {
    All,
    Park(String),
    Jurisdiction(String),
    Disposer(String),
    /// Requests covering lots of one enterprise.
    Enterprise(String),
    /// Requests a driver is assigned to.
    Driver(String),
}

/// The pickup requests a principal may list: a park office its park's, a disposal company its
/// own, an enterprise those covering its lots, a driver those assigned to it, an inspector its
/// jurisdiction's.
pub fn pickup_scope(p: &Principal) -> Result<PickupScope, ApiError> {
    Ok(match p.role {
        Role::Driver => PickupScope::Driver(p.user_id.clone()),
        _ => match lot_scope(p)? {
            LotScope::All => PickupScope::All,
            LotScope::Park(id) => PickupScope::Park(id),
            LotScope::Jurisdiction(prefix) => PickupScope::Jurisdiction(prefix),
            LotScope::Enterprise(id) => PickupScope::Enterprise(id),
            LotScope::Disposer(id) => PickupScope::Disposer(id),
        },
    })
}

/// The manifests a principal may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestScope {
    All,
    Park(String),
    /// Manifests whose park, or whose receiver's registered region, lies in the jurisdiction
    /// (a region-code prefix): both sides of a transfer.
    Jurisdiction(String),
    /// Manifests an organisation is party to: consignor, carrier, receiver, or an enterprise
    /// whose lots it groups.
    Party(String),
    /// Manifests of the trips a driver drives.
    Driver(String),
}

/// The manifests a principal may list: a park office its park's, an inspector those leaving
/// or reaching its jurisdiction, a driver those of its trips, any other organisation those it
/// is party to.
pub fn manifest_scope(p: &Principal) -> Result<ManifestScope, ApiError> {
    Ok(match p.role {
        Role::Driver => ManifestScope::Driver(p.user_id.clone()),
        Role::EnterpriseUser | Role::DisposerDispatcher => {
            ManifestScope::Party(p.organization_id.clone())
        }
        _ => match park_scope(p)? {
            Scope::All => ManifestScope::All,
            Scope::Jurisdiction(prefix) => ManifestScope::Jurisdiction(prefix),
            Scope::Park(id) | Scope::Own(id) => ManifestScope::Park(id),
        },
    })
}

/// Where a principal reads the anomaly lists (lots past their storage limit, overdue receipts,
/// flagged manifests, open refusals, licences, idle members, full zones): an inspector its
/// jurisdiction (for manifests, both sides of a transfer), a park office its park, an
/// administrator everywhere. The other roles have their own alarms and inboxes.
pub fn anomaly_scope(p: &Principal) -> Result<Scope, ApiError> {
    match p.role {
        Role::PlatformAdmin | Role::ParkOffice | Role::Inspector => park_scope(p),
        Role::EnterpriseUser | Role::DisposerDispatcher | Role::Driver => Err(ApiError::Forbidden(
            "the anomaly lists are for inspectors and park offices",
        )),
    }
}

/// The directory (disposers, carriers, fleets) is listed whole for those who read it.
pub fn directory_scope(p: &Principal) -> Result<Scope, ApiError> {
    if reads_directory(p) {
        Ok(Scope::All)
    } else {
        Ok(Scope::Own(p.organization_id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identity::OrganizationKind;

    fn principal(role: Role, kind: OrganizationKind, org: &str) -> Principal {
        Principal {
            user_id: "usr_me".into(),
            username: "me".into(),
            role,
            organization_id: org.into(),
            organization_kind: kind,
            session_id: "ses_1".into(),
            park_id: match role {
                Role::ParkOffice => Some(org.into()),
                Role::EnterpriseUser => Some("park_a".into()),
                _ => None,
            },
            jurisdiction: (role == Role::Inspector).then(|| "4403".into()),
        }
    }

    const PARK_A: Place<'static> = Place {
        park_id: "park_a",
        region_code: "440307",
    };
    const PARK_B: Place<'static> = Place {
        park_id: "park_b",
        region_code: "440106",
    };

    #[test]
    fn admins_may_do_everything_others_only_read_their_own() {
        let admin = principal(
            Role::PlatformAdmin,
            OrganizationKind::Platform,
            "org_platform",
        );
        let park = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        assert!(
            authorize(
                &admin,
                Action::ReadOrganization {
                    organization_id: "org_other"
                }
            )
            .is_ok()
        );
        assert!(authorize(&admin, Action::ManagePark(PARK_B)).is_ok());
        assert!(
            authorize(
                &park,
                Action::ReadOrganization {
                    organization_id: "park_a"
                }
            )
            .is_ok()
        );
        assert!(
            authorize(
                &park,
                Action::ListUsers {
                    organization_id: Some("park_a")
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
            authorize(&park, Action::ManageDirectory),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn parks_belong_to_their_office_and_are_seen_by_their_inspectors() {
        let office_a = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        let inspector = principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau_sz",
        );
        let producer = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1");
        assert!(authorize(&office_a, Action::ManagePark(PARK_A)).is_ok());
        assert!(matches!(
            authorize(&office_a, Action::ManagePark(PARK_B)),
            Err(ApiError::NotFound(_))
        ));
        assert!(authorize(&inspector, Action::ReadPark(PARK_A)).is_ok());
        assert!(
            matches!(
                authorize(&inspector, Action::ReadPark(PARK_B)),
                Err(ApiError::NotFound(_))
            ),
            "outside 4403"
        );
        assert!(matches!(
            authorize(&inspector, Action::ManagePark(PARK_A)),
            Err(ApiError::Forbidden(_))
        ));
        assert!(authorize(&producer, Action::ReadPark(PARK_A)).is_ok());
        assert!(
            authorize(
                &producer,
                Action::ReadEnterprise {
                    enterprise_id: "ent_1",
                    place: PARK_A
                }
            )
            .is_ok()
        );
        assert!(
            authorize(
                &producer,
                Action::ReadEnterprise {
                    enterprise_id: "ent_2",
                    place: PARK_A
                }
            )
            .is_err()
        );
        assert!(authorize(&producer, Action::ManagePark(PARK_A)).is_err());
    }

    #[test]
    fn contracts_are_read_by_their_parties() {
        let members = vec!["ent_1".to_owned()];
        let read = |p: &Principal| {
            authorize(
                p,
                Action::ReadContract {
                    place: PARK_A,
                    disposer_id: "disp_1",
                    member_ids: &members,
                },
            )
            .is_ok()
        };
        assert!(read(&principal(
            Role::ParkOffice,
            OrganizationKind::Park,
            "park_a"
        )));
        assert!(!read(&principal(
            Role::ParkOffice,
            OrganizationKind::Park,
            "park_b"
        )));
        assert!(read(&principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "disp_1"
        )));
        assert!(!read(&principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "disp_2"
        )));
        assert!(read(&principal(
            Role::EnterpriseUser,
            OrganizationKind::Enterprise,
            "ent_1"
        )));
        assert!(!read(&principal(
            Role::EnterpriseUser,
            OrganizationKind::Enterprise,
            "ent_2"
        )));
        assert!(read(&principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau"
        )));
        assert!(!read(&principal(
            Role::Driver,
            OrganizationKind::Carrier,
            "car_1"
        )));
    }

    /// The status a refusal answers, or 200.
    fn status(result: Result<(), ApiError>) -> u16 {
        match result {
            Ok(()) => 200,
            Err(ApiError::Forbidden(_)) => 403,
            Err(ApiError::NotFound(_)) => 404,
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
    }

    #[test]
    fn a_contract_is_managed_by_its_office_and_refused_to_its_readers_with_403() {
        let members = vec!["ent_1".to_owned()];
        let manage = |p: &Principal| {
            status(authorize(
                p,
                Action::ManageContract {
                    place: PARK_A,
                    disposer_id: "disp_1",
                    member_ids: &members,
                },
            ))
        };
        let cases = [
            (Role::ParkOffice, OrganizationKind::Park, "park_a", 200),
            (Role::ParkOffice, OrganizationKind::Park, "park_b", 404),
            (
                Role::DisposerDispatcher,
                OrganizationKind::DisposalCompany,
                "disp_1",
                403,
            ),
            (
                Role::DisposerDispatcher,
                OrganizationKind::DisposalCompany,
                "disp_2",
                404,
            ),
            (
                Role::EnterpriseUser,
                OrganizationKind::Enterprise,
                "ent_1",
                403,
            ),
            (
                Role::EnterpriseUser,
                OrganizationKind::Enterprise,
                "ent_2",
                404,
            ),
            (
                Role::Inspector,
                OrganizationKind::EnvironmentBureau,
                "bureau",
                403,
            ),
            (Role::Driver, OrganizationKind::Carrier, "car_1", 404),
        ];
        for (role, kind, org, want) in cases {
            assert_eq!(
                manage(&principal(role, kind, org)),
                want,
                "{role:?} of {org}"
            );
        }
    }

    #[test]
    fn administrators_read_every_manifest_but_sign_for_no_party() {
        let admin = principal(Role::PlatformAdmin, OrganizationKind::Platform, "platform");
        let parties = vec!["ent_1".to_owned()];
        let read = Action::ReadManifest {
            place: PARK_A,
            receiver_region_code: "440310",
            parties: &parties,
            driver_id: "usr_driver",
        };
        assert_eq!(status(authorize(&admin, read)), 200);
        let sign = Action::SignManifest {
            place: PARK_A,
            receiver_region_code: "440310",
            parties: &parties,
            driver_id: "usr_driver",
            signer_id: "ent_1",
            role: Role::EnterpriseUser,
        };
        assert_eq!(status(authorize(&admin, sign)), 403);
    }

    #[test]
    fn billing_is_refused_with_403_to_whoever_may_read_the_enterprise() {
        let manage = |p: &Principal, place: Place<'_>| {
            status(authorize(
                p,
                Action::ManageBilling {
                    enterprise_id: "ent_1",
                    place,
                },
            ))
        };
        let inspector = principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau",
        );
        let office = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        let own = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1");
        let other = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_2");
        assert_eq!(manage(&office, PARK_A), 200);
        assert_eq!(manage(&own, PARK_A), 403);
        assert_eq!(
            manage(&inspector, PARK_A),
            403,
            "the inspector of 4403 reads ent_1"
        );
        assert_eq!(manage(&inspector, PARK_B), 404, "not its jurisdiction");
        assert_eq!(manage(&other, PARK_A), 404);
        // The inspector reads the enterprise, not its statements.
        let read = Action::ReadBilling {
            enterprise_id: "ent_1",
            place: PARK_A,
        };
        assert_eq!(status(authorize(&inspector, read)), 404);
    }

    #[test]
    fn a_party_of_a_manifest_is_signed_for_by_organisation_and_role_together() {
        // A disposal company collecting with its own fleet: carrier and receiver are one
        // organisation, signed for by its driver and by its dispatcher respectively.
        let dispatcher = principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "disp_1",
        );
        let driver = principal(Role::Driver, OrganizationKind::DisposalCompany, "disp_1");
        assert!(signs_for(
            &dispatcher,
            "disp_1",
            Role::DisposerDispatcher,
            "usr_me"
        ));
        assert!(!signs_for(&dispatcher, "disp_1", Role::Driver, "usr_me"));
        assert!(signs_for(&driver, "disp_1", Role::Driver, "usr_me"));
        assert!(!signs_for(
            &driver,
            "disp_1",
            Role::DisposerDispatcher,
            "usr_me"
        ));
        assert!(
            !signs_for(&driver, "disp_1", Role::Driver, "usr_other"),
            "only the manifest's own driver"
        );
        let admin = principal(Role::PlatformAdmin, OrganizationKind::Platform, "disp_1");
        assert!(!signs_for(
            &admin,
            "disp_1",
            Role::DisposerDispatcher,
            "usr_me"
        ));
    }

    #[test]
    fn an_arrival_is_recorded_by_the_receivers_dispatcher_or_the_manifests_driver() {
        let parties = vec!["car_1".to_owned(), "disp_1".to_owned(), "ent_1".to_owned()];
        let arrival = |p: &Principal| {
            status(authorize(
                p,
                Action::RecordArrival {
                    place: PARK_A,
                    receiver_region_code: "440310",
                    parties: &parties,
                    driver_id: "usr_me",
                    carrier_id: "car_1",
                    receiver_id: "disp_1",
                },
            ))
        };
        let receiver = principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "disp_1",
        );
        let driver = principal(Role::Driver, OrganizationKind::Carrier, "car_1");
        let carrier_office = principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "car_1",
        );
        let producer = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1");
        let admin = principal(Role::PlatformAdmin, OrganizationKind::Platform, "platform");
        let stranger = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_9");
        assert_eq!(arrival(&receiver), 200);
        assert_eq!(arrival(&driver), 200);
        assert_eq!(arrival(&carrier_office), 403, "a party, not the receiver");
        assert_eq!(arrival(&producer), 403);
        assert_eq!(arrival(&admin), 403);
        assert_eq!(arrival(&stranger), 404);
    }

    #[test]
    fn list_scopes_follow_the_roles() {
        assert_eq!(
            park_scope(&principal(
                Role::PlatformAdmin,
                OrganizationKind::Platform,
                "p"
            ))
            .ok(),
            Some(Scope::All)
        );
        assert_eq!(
            park_scope(&principal(
                Role::ParkOffice,
                OrganizationKind::Park,
                "park_a"
            ))
            .ok(),
            Some(Scope::Park("park_a".into()))
        );
        assert_eq!(
            park_scope(&principal(
                Role::Inspector,
                OrganizationKind::EnvironmentBureau,
                "b"
            ))
            .ok(),
            Some(Scope::Jurisdiction("4403".into()))
        );
        assert_eq!(
            enterprise_scope(&principal(
                Role::EnterpriseUser,
                OrganizationKind::Enterprise,
                "ent_1"
            ))
            .ok(),
            Some(Scope::Own("ent_1".into()))
        );
        assert_eq!(
            contract_scope(&principal(
                Role::DisposerDispatcher,
                OrganizationKind::DisposalCompany,
                "disp_1"
            ))
            .ok(),
            Some(Scope::Own("disp_1".into()))
        );
        assert!(contract_scope(&principal(Role::Driver, OrganizationKind::Carrier, "c")).is_err());
        assert!(
            park_scope(&principal(
                Role::DisposerDispatcher,
                OrganizationKind::DisposalCompany,
                "d"
            ))
            .is_err()
        );
    }

    #[test]
    fn a_manifest_is_read_by_the_inspectors_of_both_sides_of_the_transfer() {
        let parties = vec!["park_a".to_owned(), "disp_1".to_owned()];
        let read = |p: &Principal| {
            authorize(
                p,
                Action::ReadManifest {
                    place: PARK_A,
                    receiver_region_code: "441900",
                    parties: &parties,
                    driver_id: "usr_driver",
                },
            )
        };
        let sign = |p: &Principal| {
            authorize(
                p,
                Action::SignManifest {
                    place: PARK_A,
                    receiver_region_code: "441900",
                    parties: &parties,
                    driver_id: "usr_driver",
                    signer_id: "park_a",
                    role: Role::ParkOffice,
                },
            )
        };
        let inspector = |jurisdiction: &str| Principal {
            jurisdiction: Some(jurisdiction.into()),
            ..principal(Role::Inspector, OrganizationKind::EnvironmentBureau, "b")
        };
        for j in ["4403", "440307", "4419", "44"] {
            assert!(read(&inspector(j)).is_ok(), "{j}");
            assert!(
                matches!(sign(&inspector(j)), Err(ApiError::Forbidden(_))),
                "{j}"
            );
        }
        for j in ["4401", "441901", "11"] {
            assert!(
                matches!(read(&inspector(j)), Err(ApiError::NotFound(_))),
                "{j}"
            );
            assert!(
                matches!(sign(&inspector(j)), Err(ApiError::NotFound(_))),
                "{j}"
            );
        }
        // The receiving side reads the manifest, never the lots of the park.
        assert!(matches!(
            authorize(
                &inspector("4419"),
                Action::ReadLot {
                    enterprise_id: "ent_1",
                    disposer_id: "disp_1",
                    place: PARK_A
                }
            ),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn anomaly_lists_are_for_inspectors_and_park_offices() {
        assert_eq!(
            anomaly_scope(&principal(
                Role::Inspector,
                OrganizationKind::EnvironmentBureau,
                "b"
            ))
            .ok(),
            Some(Scope::Jurisdiction("4403".into()))
        );
        assert_eq!(
            anomaly_scope(&principal(
                Role::ParkOffice,
                OrganizationKind::Park,
                "park_a"
            ))
            .ok(),
            Some(Scope::Park("park_a".into()))
        );
        for (role, kind) in [
            (Role::EnterpriseUser, OrganizationKind::Enterprise),
            (Role::DisposerDispatcher, OrganizationKind::DisposalCompany),
            (Role::Driver, OrganizationKind::Carrier),
        ] {
            assert!(matches!(
                anomaly_scope(&principal(role, kind, "o")),
                Err(ApiError::Forbidden(_))
            ));
        }
    }

    #[test]
    fn ledgers_are_read_by_the_office_the_inspectors_and_an_enterprise_its_own() {
        let ledger = |enterprise_id, place| Action::ReadLedger {
            enterprise_id,
            place,
        };
        let office_a = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        let inspector = principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau_sz",
        );
        let producer = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1");
        let dispatcher = principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "disp_1",
        );
        let driver = principal(Role::Driver, OrganizationKind::Carrier, "carrier_1");
        for who in [&office_a, &inspector] {
            assert!(authorize(who, ledger(None, PARK_A)).is_ok());
            assert!(authorize(who, ledger(Some("ent_1"), PARK_A)).is_ok());
            assert!(matches!(
                authorize(who, ledger(None, PARK_B)),
                Err(ApiError::NotFound(_))
            ));
        }
        assert!(authorize(&producer, ledger(Some("ent_1"), PARK_A)).is_ok());
        for (who, enterprise) in [
            (&producer, None),
            (&producer, Some("ent_2")),
            (&dispatcher, None),
            (&dispatcher, Some("ent_1")),
            (&driver, Some("ent_1")),
        ] {
            assert!(matches!(
                authorize(who, ledger(enterprise, PARK_A)),
                Err(ApiError::NotFound(_))
            ));
        }
    }

    #[test]
    fn compliance_is_kept_by_the_office_and_read_by_the_enterprise_and_the_inspectors() {
        let read = |enterprise_id, place| Action::ReadCompliance {
            enterprise_id,
            place,
        };
        let manage = |enterprise_id, place| Action::ManageCompliance {
            enterprise_id,
            place,
        };
        let office_a = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        let inspector = principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau_sz",
        );
        let producer = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1");
        assert!(authorize(&office_a, manage("ent_1", PARK_A)).is_ok());
        assert!(matches!(
            authorize(&office_a, manage("ent_9", PARK_B)),
            Err(ApiError::NotFound(_))
        ));
        for who in [&inspector, &producer] {
            assert!(authorize(who, read("ent_1", PARK_A)).is_ok());
            assert!(matches!(
                authorize(who, manage("ent_1", PARK_A)),
                Err(ApiError::Forbidden(_))
            ));
        }
        assert!(matches!(
            authorize(&producer, read("ent_2", PARK_A)),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            authorize(&inspector, read("ent_9", PARK_B)),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn figures_are_read_by_the_office_and_the_inspectors_of_the_park() {
        let office_a = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        let inspector = principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau_sz",
        );
        for who in [&office_a, &inspector] {
            assert!(authorize(who, Action::ReadFigures(PARK_A)).is_ok());
            assert!(matches!(
                authorize(who, Action::ReadFigures(PARK_B)),
                Err(ApiError::NotFound(_))
            ));
        }
        for (role, kind, org) in [
            (Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1"),
            (
                Role::DisposerDispatcher,
                OrganizationKind::DisposalCompany,
                "disp_1",
            ),
            (Role::Driver, OrganizationKind::Carrier, "carrier_1"),
        ] {
            assert!(matches!(
                authorize(&principal(role, kind, org), Action::ReadFigures(PARK_A)),
                Err(ApiError::Forbidden(_))
            ));
        }
    }

    #[test]
    fn patrols_are_kept_by_the_office_answered_by_the_enterprise_and_read_by_inspectors() {
        let office = principal(Role::ParkOffice, OrganizationKind::Park, "park_a");
        let office_b = principal(Role::ParkOffice, OrganizationKind::Park, "park_b");
        let own = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_1");
        let other = principal(Role::EnterpriseUser, OrganizationKind::Enterprise, "ent_2");
        let inspector = principal(
            Role::Inspector,
            OrganizationKind::EnvironmentBureau,
            "bureau",
        );
        let dispatcher = principal(
            Role::DisposerDispatcher,
            OrganizationKind::DisposalCompany,
            "disp_1",
        );
        let of = |who: &Principal, action: fn(Option<&'static str>) -> Action<'static>| {
            [Some("ent_1"), None].map(|e| status(authorize(who, action(e))))
        };
        let read: fn(Option<&'static str>) -> Action<'static> = |e| Action::ReadPatrol {
            place: PARK_A,
            enterprise_id: e,
        };
        let manage: fn(Option<&'static str>) -> Action<'static> = |e| Action::ManagePatrol {
            place: PARK_A,
            enterprise_id: e,
        };
        let answer: fn(Option<&'static str>) -> Action<'static> = |e| Action::AnswerFinding {
            place: PARK_A,
            enterprise_id: e,
        };
        let write: fn(Option<&'static str>) -> Action<'static> = |e| Action::WriteThread {
            place: PARK_A,
            enterprise_id: e,
        };
        // [of the enterprise ent_1, of a warehouse]
        assert_eq!(of(&office, read), [200, 200]);
        assert_eq!(of(&office, manage), [200, 200]);
        assert_eq!(
            of(&office, answer),
            [403, 200],
            "the office runs the warehouse"
        );
        assert_eq!(of(&office, write), [200, 200]);
        assert_eq!(of(&own, read), [200, 404]);
        assert_eq!(of(&own, manage), [403, 404]);
        assert_eq!(of(&own, answer), [200, 404]);
        assert_eq!(of(&own, write), [200, 404]);
        assert_eq!(of(&inspector, read), [200, 200]);
        for action in [manage, answer, write] {
            assert_eq!(of(&inspector, action), [403, 403]);
        }
        for who in [&other, &office_b, &dispatcher] {
            for action in [read, manage, answer, write] {
                assert_eq!(of(who, action), [404, 404]);
            }
        }
        assert!(patrol_scope(&dispatcher).is_err());
        assert_eq!(patrol_scope(&own).ok(), Some(Scope::Own("ent_1".into())));
        assert!(writes_feedback(&own).is_ok());
        assert!(writes_feedback(&office).is_err());
    }
}
