//! Rules of pickup requests: the states a request goes through.

crate::domain::state::states! {
    /// Where a pickup request is: `requested` by the enterprise, `accepted` and then
    /// `scheduled` by the disposal company, `collected`; or `declined` by it, or `cancelled`.
    pub enum RequestStatus {
        Requested => "requested",
        Accepted => "accepted",
        Scheduled => "scheduled",
        Collected => "collected",
        Declined => "declined",
        Cancelled => "cancelled",
    }
}

impl RequestStatus {
    /// The statuses of a request still open: not yet collected, declined or cancelled.
    pub const OPEN: &'static [Self] = &[Self::Requested, Self::Accepted, Self::Scheduled];

    /// Whether the request is still open.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}
